from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tessera.mail.models import BouncingAddress, InboundMessage, Mailbox, OutboundEmail


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin[Mailbox]):
    list_display = (
        "address",
        "department",
        "trusted",
        "is_active",
        "imap_host",
        "last_checked_at",
        "last_error",
    )
    list_filter = ("is_active", "trusted", "department")
    readonly_fields = ("imap_uidvalidity", "imap_last_uid", "last_checked_at", "last_error", "last_error_at")
    exclude = ("oauth_access_token", "oauth_expires_at")


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin[InboundMessage]):
    list_display = ("received_at", "sender", "subject", "status", "error", "ticket", "source")
    list_filter = ("status", "source")
    search_fields = ("sender", "subject", "message_id", "error")
    actions = ("retry",)
    readonly_fields = tuple(f.name for f in InboundMessage._meta.fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Process again"))
    def retry(self, request: HttpRequest, queryset: QuerySet[InboundMessage]) -> None:
        from tessera.mail.inbound.pipeline import retry

        count = 0
        for row in queryset.exclude(status=InboundMessage.Status.PROCESSED):
            retry(row)
            count += 1
        self.message_user(
            request,
            ngettext("%d message queued again.", "%d messages queued again.", count) % count,
            messages.SUCCESS,
        )


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin[OutboundEmail]):
    list_display = ("created_at", "to", "subject", "state", "attempts", "last_error", "sent_at")
    list_filter = ("state",)
    search_fields = ("to", "subject", "dedupe_key", "message_id")
    readonly_fields = tuple(f.name for f in OutboundEmail._meta.fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(BouncingAddress)
class BouncingAddressAdmin(admin.ModelAdmin[BouncingAddress]):
    list_display = ("email", "bounces", "last_bounced_at", "reason")
    search_fields = ("email",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("bounces", "first_bounced_at", "last_bounced_at")
