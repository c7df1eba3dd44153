"""Where to send a message of a given kind to a contact: the confirmed address they chose for that kind,
else their account address. A chosen address the provider reported undeliverable (hard bounce,
complaint) is passed over, so the message still reaches the contact at their account address."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from tessera.accounts.models import User
from tessera.notifications.models import MessageKind, NotificationAddress


def address_for(user: User, kind: str = MessageKind.SUPPORT) -> str:
    return addresses_for([user], kind)[user.pk]


def addresses_for(users: Sequence[User], kind: str = MessageKind.SUPPORT) -> dict[int, str]:
    """address_for for many users in one query: {user id: address}."""
    chosen = chosen_addresses([user.pk for user in users], kind)
    return {user.pk: chosen.get(user.pk) or user.email for user in users}


def chosen_addresses(user_ids: Collection[int], kind: str = MessageKind.SUPPORT) -> dict[int, str]:
    """The confirmed, deliverable address each of these users chose for `kind`, for those who chose one
    (the mail app's delivery task asks this for a batch of emails it renders, with the account addresses
    it was given when they were queued)."""
    return dict(
        NotificationAddress.objects.filter(
            user_id__in=user_ids, kind=kind, confirmed_at__isnull=False, undeliverable_at__isnull=True
        ).values_list("user_id", "email")
    )
