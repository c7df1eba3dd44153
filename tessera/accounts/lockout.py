"""Sign-in lockout: failed attempts counted per account and, separately, per client address.

Keys come only from what the attacker cannot vary at will: the account's lower-cased email and the
client address Django saw (REMOTE_ADDR, or the proxy header allauth is told to trust) — never the Host
header or an untrusted X-Forwarded-For. Counts live in the database, so all processes share them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import F

from tessera.accounts.models import SignInFailure
from tessera.core import clock


@dataclass(frozen=True)
class Limit:
    kind: str
    attempts: int
    window: timedelta


ACCOUNT = Limit("account", 5, timedelta(minutes=5))
ADDRESS = Limit("address", 10, timedelta(minutes=1))


def _key(limit: Limit, value: str) -> str:
    return f"{limit.kind}:{hashlib.sha256(value.encode()).hexdigest()}"


def account_key(email: str) -> str:
    return _key(ACCOUNT, email.strip().lower())


def address_key(address: str) -> str:
    return _key(ADDRESS, address)


def _keys(email: str, address: str) -> list[tuple[Limit, str]]:
    return [(ACCOUNT, account_key(email)), (ADDRESS, address_key(address))]


def is_locked(*, email: str, address: str) -> bool:
    now = clock.now()
    return any(
        SignInFailure.objects.filter(
            key=key, failures__gte=limit.attempts, window_start__gt=now - limit.window
        ).exists()
        for limit, key in _keys(email, address)
    )


def record_failure(*, email: str, address: str) -> None:
    now = clock.now()
    for limit, key in _keys(email, address):
        with transaction.atomic():
            row, created = SignInFailure.objects.select_for_update().get_or_create(
                key=key, defaults={"failures": 1, "window_start": now}
            )
            if created:
                continue
            if row.window_start <= now - limit.window:  # a new window
                SignInFailure.objects.filter(pk=row.pk).update(failures=1, window_start=now)
            else:
                SignInFailure.objects.filter(pk=row.pk).update(failures=F("failures") + 1)


def clear_account(email: str) -> None:
    """A password reset through the emailed link ends the account's lockout."""
    SignInFailure.objects.filter(key=account_key(email)).delete()
