from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from tessera.accounts.models import User
from tessera.catalog.services import ImportFailed
from tessera.core.errors import DomainError
from tessera.mail import crypto, services
from tessera.mail.models import (
    BouncingAddress,
    DeliveryEvent,
    InboundMessage,
    Mailbox,
    OutboundEmail,
    SecurityEvent,
    TrustedMailServer,
    VerifiedContact,
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


class TrustedMailServerForm(forms.ModelForm[TrustedMailServer]):
    class Meta:
        model = TrustedMailServer
        fields = ("authserv_id", "note")

    def clean_authserv_id(self) -> str:
        try:
            return services.clean_authserv_id(self.cleaned_data["authserv_id"])
        except DomainError as error:
            raise forms.ValidationError(str(error.message)) from None


def _is_admin(request: HttpRequest) -> bool:
    """The email channel's setup pages are for Tessera admins (the role), superuser or not."""
    return bool(getattr(request.user, "is_admin", False))


@admin.register(TrustedMailServer)
class TrustedMailServerAdmin(admin.ModelAdmin[TrustedMailServer]):
    """The receiving servers whose Authentication-Results count, next to TESSERA_MAIL_AUTHSERV_ID."""

    form = TrustedMailServerForm
    list_display = ("authserv_id", "note", "added_by", "added_at")
    readonly_fields = ("added_by", "added_at")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_admin(request)

    def save_model(self, request: HttpRequest, obj: TrustedMailServer, form: Any, change: bool) -> None:
        if not change:
            obj.added_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


class ContactForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    full_name = forms.CharField(label=_("Name"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", "—"), ("en", "English"), ("it", "Italiano"), ("pl", "Polski"), ("fr", "Français")],
    )
    time_zone = forms.CharField(label=_("Time zone"), max_length=64, required=False)
    organisation = forms.CharField(
        label=_("Organisation"), max_length=200, required=False, help_text=_("Created if it does not exist.")
    )


class ContactImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"), required=False, help_text=_("UTF-8, first line naming the columns.")
    )
    # The checked file's text travels with the preview, so "Import" imports exactly what was shown (and
    # checks it again: nothing is trusted from the page).
    csv_text = forms.CharField(required=False, widget=forms.HiddenInput)


@admin.register(VerifiedContact)
class VerifiedContactAdmin(admin.ModelAdmin[VerifiedContact]):
    """Customers with a verified address: the sender the email channel trusts as them. Registered one by
    one or from a CSV file (previewed first; a file with any bad row imports nothing)."""

    list_display = ("email", "full_name", "organisation", "language", "date_joined")
    search_fields = ("email", "full_name", "organisation__name")
    list_select_related = ("organisation",)
    change_list_template = "mail/admin/contacts_change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[VerifiedContact]:
        return super().get_queryset(request).filter(role=User.Role.CUSTOMER, is_verified=True)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a contact is changed on the user's own page

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="mail_verifiedcontact_import"),
            path("add/", view(self.register_view), name="mail_verifiedcontact_add"),
            *super().get_urls(),
        ]

    def _context(self, request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
        return {**self.admin_site.each_context(request), "title": title, "opts": self.model._meta, **extra}

    def register_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            return redirect("admin:index")
        form = ContactForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                contact, created = services.register_contact(actor=request.user, **form.cleaned_data)  # type: ignore[arg-type]
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, str(error.message))
            else:
                text = (
                    _("%(email)s is registered as a verified contact.")
                    if created
                    else _("%(email)s was already a contact and is now verified.")
                )
                messages.success(request, text % {"email": contact.email})
                return redirect("admin:mail_verifiedcontact_changelist")
        context = self._context(request, str(_("Register a verified contact")), form=form)
        return TemplateResponse(
            request, "mail/admin/contact_form.html", context, status=422 if form.errors else 200
        )

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload → preview (every row: new, updated, or its errors) → Import. Nothing is written until
        Import, and a file with any bad row imports nothing."""
        if not self.has_add_permission(request):
            return redirect("admin:index")
        form = ContactImportForm(request.POST or None, request.FILES or None)
        preview = None
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            data: bytes | str = upload.read() if upload else form.cleaned_data["csv_text"]
            actor: Any = request.user
            if not data:
                form.add_error("file", _("Choose a CSV file."))
            else:
                try:
                    if "import" in request.POST and not upload:
                        result = services.import_contacts_csv(actor=actor, data=data)
                        messages.success(request, imported_message(result.created, result.updated))
                        return redirect("admin:mail_verifiedcontact_changelist")
                    preview = services.preview_contacts_csv(actor=actor, data=data)
                    text = data if isinstance(data, str) else data.decode("utf-8-sig")
                    form = ContactImportForm(initial={"csv_text": text})
                except ImportFailed as failure:  # changed since the preview: show the rows again
                    preview = services.preview_contacts_csv(actor=actor, data=data)
                    form.add_error(None, str(failure.message))
                except DomainError as error:
                    form.add_error("file", str(error.message))
        context = self._context(
            request,
            str(_("Import verified contacts")),
            form=form,
            preview=preview,
            columns=", ".join(services.CONTACT_COLUMNS),
        )
        failed = bool(form.errors) or bool(preview and preview.errors)
        return TemplateResponse(
            request, "mail/admin/contact_import.html", context, status=422 if failed else 200
        )


def imported_message(created: int, updated: int) -> str:
    """Each count takes its own plural form (Polish has three), so each is its own ngettext message."""
    new = ngettext("%(count)d new contact", "%(count)d new contacts", created) % {"count": created}
    changed = ngettext("%(count)d contact updated", "%(count)d contacts updated", updated) % {
        "count": updated
    }
    return str(_("Verified contacts imported: %(new)s, %(updated)s.") % {"new": new, "updated": changed})
