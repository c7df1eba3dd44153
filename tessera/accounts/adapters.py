"""allauth hooks: who a new account is (always a customer), in which language and time zone."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from django.conf import settings
from django.forms import BaseForm
from django.http import HttpRequest

from tessera.accounts import lockout, preferences
from tessera.accounts.models import User


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request: HttpRequest, user: Any, form: BaseForm, commit: bool = True) -> Any:
        """A self-service account is a customer (never staff), speaking the language the page was shown in."""
        user.role = User.Role.CUSTOMER
        user.is_org_manager = False
        user.language = preferences.request_language(request)
        zone = preferences.valid_time_zone(str(form.cleaned_data.get("time_zone") or ""))
        user.time_zone = zone or settings.TIME_ZONE
        user.full_name = str(form.cleaned_data.get("full_name") or "").strip()[:200]
        return super().save_user(request, user, form, commit)

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """Refuse further guesses once the account or the client address is locked out (see lockout.py);
        this replaces allauth's counter, which is keyed on the Host header and kept per process."""
        email, address = self._lockout_subjects(request, credentials)
        if lockout.is_locked(email=email, address=address):
            raise self.validation_error("too_many_login_attempts")

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        email, address = self._lockout_subjects(request, credentials)
        lockout.record_failure(email=email, address=address)

    def _lockout_subjects(self, request: HttpRequest, credentials: dict[str, Any]) -> tuple[str, str]:
        return str(credentials.get("email") or ""), self.get_client_ip(request)

    def confirm_email(self, request: HttpRequest, email_address: EmailAddress) -> bool:
        """Confirming the primary address also marks the Tessera account as verified."""
        confirmed = bool(super().confirm_email(request, email_address))
        if confirmed:
            User.objects.filter(pk=email_address.user_id, email__iexact=email_address.email).update(
                is_verified=True
            )
        return confirmed


def verify_address_on_password_reset(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    """A password set through the emailed reset link proves the mailbox. This is how a contact Tessera
    created from an email or a phone call claims the account: signing up with that address sends them the
    "you already have an account" mail (allauth's enumeration protection) pointing to the reset."""
    address = EmailAddress.objects.filter(user=user, email__iexact=user.email).first()
    if address is None:
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    elif not address.verified:
        address.verified = True
        address.save(update_fields=["verified"])
    User.objects.filter(pk=user.pk).update(is_verified=True)
    lockout.clear_account(user.email)
