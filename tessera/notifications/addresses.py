"""Where to send a message of a given kind to a contact: the confirmed address they chose for that kind,
else their account address. A chosen address the provider reported undeliverable (hard bounce,
complaint) is passed over, so the message still reaches the contact at their account address."""

from __future__ import annotations

from collections.abc import Sequence

from tessera.accounts.models import User
from tessera.notifications.models import MessageKind, NotificationAddress


def address_for(user: User, kind: str = MessageKind.SUPPORT) -> str:
    chosen = (
        NotificationAddress.objects.filter(
            user=user, kind=kind, confirmed_at__isnull=False, undeliverable_at__isnull=True
        )
        .values_list("email", flat=True)
        .first()
    )
    return chosen or user.email


def addresses_for(users: Sequence[User], kind: str = MessageKind.SUPPORT) -> dict[int, str]:
    """address_for for many users in one query: {user id: address}."""
    chosen = dict(
        NotificationAddress.objects.filter(
            user_id__in=[user.pk for user in users],
            kind=kind,
            confirmed_at__isnull=False,
            undeliverable_at__isnull=True,
        ).values_list("user_id", "email")
    )
    return {user.pk: chosen.get(user.pk) or user.email for user in users}
