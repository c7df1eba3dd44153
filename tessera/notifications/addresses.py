"""Where to send a message of a given kind to a contact: the confirmed address they chose for that kind,
else their account address."""

from __future__ import annotations

from tessera.accounts.models import User
from tessera.notifications.models import MessageKind, NotificationAddress


def address_for(user: User, kind: str = MessageKind.SUPPORT) -> str:
    chosen = (
        NotificationAddress.objects.filter(user=user, kind=kind, confirmed_at__isnull=False)
        .values_list("email", flat=True)
        .first()
    )
    return chosen or user.email
