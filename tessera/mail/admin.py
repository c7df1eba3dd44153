from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tessera.mail import crypto
from tessera.mail.models import (
    BouncingAddress,
    DeliveryEvent,
    InboundMessage,
    Mailbox,
    OutboundEmail,
    SecurityEvent,
)

SECRETS = ("imap_password", "oauth_client_secret", "oauth_refresh_token")


class MailboxForm(forms.ModelForm[Mailbox]):
    """Secrets are write-only: the page never contains a stored value; an empty field keeps it."""

    imap_password = forms.CharField(
        label=_("IMAP password"), required=False, strip=False, widget=forms.PasswordInput
    )
    oauth_client_secret = forms.CharField(
        label=_("OAuth client secret"), required=False, strip=False, widget=forms.PasswordInput
    )
    oauth_refresh_token = forms.CharField(
        label=_("OAuth refresh token"), required=False, widget=forms.PasswordInput
    )
    forget_secrets = forms.BooleanField(
        label=_("Remove the stored password and OAuth tokens"), required=False
    )

    class Meta:
        model = Mailbox
        fields = (
            "address",
            "department",
            "trusted",
            "is_active",
            "imap_host",
            "imap_port",
            "imap_security",
            "imap_auth",
            "imap_username",
            "imap_password",
            "imap_folder",
            "imap_done_folder",
            "oauth_token_url",
            "oauth_client_id",
            "oauth_client_secret",
            "oauth_refresh_token",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in SECRETS:
            stored = getattr(self.instance, name, "")
            if crypto.is_unreadable(stored):
                hint = _(
                    "A value is stored but cannot be decrypted with the configured keys; enter it again."
                )
            elif stored:
                hint = _("A value is stored; leave empty to keep it.")
            else:
                hint = _("Not set.")
            self.fields[name].help_text = hint
            self.initial[name] = ""  # never sent back to the browser

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.updated_secrets: list[str] = []
        for name in SECRETS:
            if data.get("forget_secrets"):
                data[name] = ""
                self.updated_secrets.append(name)
            elif data.get(name):
                self.updated_secrets.append(name)
            else:
                data[name] = getattr(self.instance, name, "")  # kept as stored (even if unreadable)
        return data

    def save(self, commit: bool = True) -> Mailbox:
        mailbox = super().save(commit=False)
        if {"oauth_refresh_token", "oauth_client_secret"} & set(self.updated_secrets):
            # A new grant: the old access token must not be used any more.
            mailbox.oauth_access_token = ""
            mailbox.oauth_expires_at = None
        if commit:
            mailbox.save()
        return mailbox


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
    form = MailboxForm
    readonly_fields = (
        "imap_uidvalidity",
        "imap_last_uid",
        "last_checked_at",
        "last_error",
        "last_error_at",
        "fetch_lease_owner",
        "fetch_lease_until",
    )

    def save_model(self, request: HttpRequest, obj: Mailbox, form: Any, change: bool) -> None:
        if not change:
            obj.save()
            return
        # Write only what the admin changed: a fetcher may be moving the UID and its lease meanwhile.
        names = {f.name for f in Mailbox._meta.concrete_fields}
        fields = {name for name in form.changed_data if name in names} | set(form.updated_secrets)
        if {"oauth_refresh_token", "oauth_client_secret"} & fields:
            fields |= {"oauth_access_token", "oauth_expires_at"}
        if fields:
            obj.save(update_fields=sorted(fields))


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin[InboundMessage]):
    list_display = ("received_at", "sender", "subject", "status", "error", "ticket", "source")
    list_filter = ("status", "auth", "source")
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


class DeliveryEventInline(admin.TabularInline[DeliveryEvent, OutboundEmail]):
    model = DeliveryEvent
    fields = ("received_at", "esp", "event_type", "recipient", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin[OutboundEmail]):
    list_display = (
        "created_at",
        "to",
        "subject",
        "state",
        "delivery_status",
        "delivery_reason",
        "attempts",
        "last_error",
        "sent_at",
    )
    list_filter = ("state", "delivery_status")
    search_fields = ("to", "subject", "dedupe_key", "message_id", "esp_message_id")
    readonly_fields = tuple(f.name for f in OutboundEmail._meta.fields)
    inlines = (DeliveryEventInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(BouncingAddress)
class BouncingAddressAdmin(admin.ModelAdmin[BouncingAddress]):
    list_display = ("email", "bounces", "last_bounced_at", "reason")
    search_fields = ("email",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("bounces", "first_bounced_at", "last_bounced_at")


@admin.register(DeliveryEvent)
class DeliveryEventAdmin(admin.ModelAdmin[DeliveryEvent]):
    """Every tracking event as received; those whose message id is not ours have no email."""

    list_display = ("received_at", "esp", "event_type", "recipient", "reason", "outbound")
    list_filter = ("esp", "event_type", ("outbound", admin.EmptyFieldListFilter))
    search_fields = ("recipient", "message_id", "reason")
    readonly_fields = tuple(f.name for f in DeliveryEvent._meta.fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin[SecurityEvent]):
    """Read-only: the log is written by the mail channel and the review queue (/agent/mail/security/)."""

    list_display = ("created_at", "kind", "sender", "actor", "inbound", "ticket", "detail")
    list_filter = ("kind",)
    search_fields = ("sender", "detail")
    readonly_fields = tuple(f.name for f in SecurityEvent._meta.fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
