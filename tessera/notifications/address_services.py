"""Choosing a notification address per kind of message (the account settings page): each is confirmed by
a signed, expiring link sent to that address before it is used (tessera.notifications.addresses reads
the confirmed ones)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.accounts.services import clean_email
from tessera.core import clock
from tessera.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from tessera.notifications.models import MessageKind, NotificationAddress
from tessera.notifications.services import absolute_url, outbound_module

CONFIRM_SALT = "tessera.notifications.address"
CONFIRM_MAX_AGE = 3 * 24 * 3600  # a confirmation link works for three days
# Confirmation emails go to addresses the user typed: cap them so the form cannot be used to spam.
SENDS_PER_USER_PER_HOUR = 5
SENDS_PER_ADDRESS_PER_HOUR = 3


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"


@dataclass(frozen=True)
class AddressState:
    kind: str
    label: str
    confirmed: str  # the address in use for this kind ("" = the account address)
    pending: str  # an address waiting for its link to be clicked
    undeliverable: bool = False  # the confirmed address bounced: the account address is used meanwhile


def address_states(user: User) -> list[AddressState]:
    rows = {row.kind: row for row in NotificationAddress.objects.filter(user=user)}
    states = []
    for kind, label in MessageKind.choices:
        row = rows.get(kind)
        confirmed = row.email if row and row.confirmed_at else ""
        pending = row.email if row and not row.confirmed_at else ""
        undeliverable = bool(confirmed and row and row.undeliverable_at)
        states.append(
            AddressState(
                kind=kind, label=str(label), confirmed=confirmed, pending=pending, undeliverable=undeliverable
            )
        )
    return states


def request_notification_address(*, actor: User, kind: str, email: str) -> NotificationAddress | None:
    """Choose `email` for one kind of message. It is used only after the link we send to it is clicked;
    until then messages keep going to the account address. Returns None when the account address itself
    was chosen (no confirmation needed: the choice is simply removed)."""
    if kind not in MessageKind.values:
        raise ValidationFailed(_("Unknown kind of message."), field="kind")
    email = clean_email(email)
    if email == actor.email.lower():
        NotificationAddress.objects.filter(user=actor, kind=kind).delete()
        return None
    current = NotificationAddress.objects.filter(user=actor, kind=kind).first()
    if current is not None and current.email == email and current.confirmed_at is not None:
        raise ValidationFailed(_("This address is already confirmed for this kind."), field="email")
    _check_rate(actor, email)
    with transaction.atomic():
        address, _created = NotificationAddress.objects.update_or_create(
            user=actor, kind=kind, defaults={"email": email, "confirmed_at": None}
        )
        _send_confirmation(actor, address)
    return address


def remove_notification_address(*, actor: User, kind: str) -> None:
    """Go back to the account address for one kind of message."""
    if not NotificationAddress.objects.filter(user=actor, kind=kind).delete()[0]:
        raise NotFound(_("No address is set for this kind."), field="kind")


def confirmation_token(user: User, kind: str, email: str) -> str:
    return signing.dumps({"u": user.pk, "k": kind, "e": email}, salt=CONFIRM_SALT)


def read_confirmation(token: str, *, actor: User) -> dict[str, object]:
    """The payload of a confirmation link, or a clear error for an expired, tampered or someone else's."""
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.SignatureExpired:
        raise ValidationFailed(
            _("This confirmation link has expired. Enter the address again to get a new one."), field="token"
        ) from None
    except signing.BadSignature:
        raise ValidationFailed(_("This confirmation link is not valid."), field="token") from None
    if not isinstance(data, dict) or not {"u", "k", "e"} <= data.keys():
        raise ValidationFailed(_("This confirmation link is not valid."), field="token")
    if data["u"] != actor.pk:
        raise PermissionDenied(
            _("This confirmation link belongs to another account. Sign in as its owner to confirm it."),
            field="token",
        )
    return data


def confirm_notification_address(*, actor: User, token: str) -> NotificationAddress:
    """Confirm the address a link was sent to. The link must be the actor's own and for the address
    currently waiting for that kind (a replaced address's old link does nothing)."""
    data = read_confirmation(token, actor=actor)
    with transaction.atomic():
        address = (
            NotificationAddress.objects.select_for_update().filter(user=actor, kind=str(data["k"])).first()
        )
        if address is None or address.email != data["e"]:
            raise ValidationFailed(
                _("This link is for an address that has since been replaced or removed."), field="token"
            )
        if address.confirmed_at is None:
            address.confirmed_at = clock.now()
            address.save(update_fields=["confirmed_at"])
    return address


def _check_rate(actor: User, email: str) -> None:
    digest = hashlib.sha256(email.encode()).hexdigest()[:32]
    for key, limit in (
        (f"notif-confirm:user:{actor.pk}", SENDS_PER_USER_PER_HOUR),
        (f"notif-confirm:addr:{digest}", SENDS_PER_ADDRESS_PER_HOUR),
    ):
        cache.add(key, 0, timeout=3600)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=3600)
            count = 1
        if count > limit:
            raise RateLimited(
                _("Too many confirmation emails were sent. Try again in an hour."), field="email"
            )


def _send_confirmation(user: User, address: NotificationAddress) -> None:
    token = confirmation_token(user, address.kind, address.email)
    link = absolute_url(reverse("account:confirm_address", args=[token]))
    with translation.override(user.language):
        label = MessageKind(address.kind).label
        subject = _("Confirm your address for %(kind)s") % {"kind": label}
        text = _(
            "Hello,\n\n%(user)s asked to receive “%(kind)s” messages at this address.\n"
            "Confirm it within three days by opening this link while signed in:\n\n%(link)s\n\n"
            "If you did not ask for this, ignore this email: nothing will be sent here."
        ) % {"user": user.display_name, "kind": label, "link": link}
    outbound_module().queue_email(
        to=address.email,
        subject=subject,
        text=text,
        auto_submitted=True,
        dedupe_key=f"address-confirm:{user.pk}:{address.kind}:{hashlib.sha256(token.encode()).hexdigest()}",
    )
