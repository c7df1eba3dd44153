"""Sign-in lockout cannot be side-stepped: it is keyed on the account and on the client address, never on
the Host header, X-Forwarded-For or the email's letter case, and counted where every process sees it."""

from __future__ import annotations

from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import cache
from django.test import Client

from tessera.accounts.models import SignInFailure, User
from tests import factories

pytestmark = pytest.mark.django_db
PASSWORD = "pw-123456789"  # the factories' password


def _verified(user: User) -> User:
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    return user


def _sign_in(email: str, password: str, *, address: str, host: str, forwarded: str) -> bool:
    client = Client(REMOTE_ADDR=address)
    response = client.post(
        "/accounts/login/",
        {"login": email, "password": password},
        headers={"Host": host, "X-Forwarded-For": forwarded},
    )
    assert response.status_code in (200, 302), response.status_code
    return "_auth_user_id" in client.session


def _variant(email: str, i: int) -> str:
    return email.upper() if i % 2 else email.title()


def test_five_wrong_passwords_lock_the_account_whatever_host_address_and_case() -> None:
    carla = _verified(factories.customer("carla"))
    for i in range(5):
        assert not _sign_in(
            _variant(carla.email, i),
            "wrong",
            address=f"10.0.0.{i + 1}",  # a different client each time: only the account is shared
            host=f"127.0.0.1:{1000 + i}",
            forwarded=f"192.0.2.{i + 1}",
        )
        cache.clear()  # a per-process cache is not where the count lives
    assert not _sign_in(
        carla.email, PASSWORD, address="10.0.1.1", host="localhost:9", forwarded="198.51.100.7"
    )
    assert SignInFailure.objects.exists()
    # Another account is not affected.
    other = _verified(factories.customer("other"))
    assert _sign_in(other.email, PASSWORD, address="10.0.1.2", host="localhost", forwarded="")


def test_ten_failures_from_one_address_lock_the_address_whatever_forwarded_for_claims() -> None:
    victim = _verified(factories.customer("victim"))
    for i in range(10):
        assert not _sign_in(
            f"nobody-{i}@example.com",
            "wrong",
            address="203.0.113.5",
            host=f"localhost:{2000 + i}",
            forwarded=f"192.0.2.{i + 1}",  # not a trusted proxy header: ignored
        )
        cache.clear()
    assert not _sign_in(victim.email, PASSWORD, address="203.0.113.5", host="localhost", forwarded="10.9.9.9")
    assert _sign_in(victim.email, PASSWORD, address="203.0.113.6", host="localhost", forwarded="")


def test_a_disallowed_host_is_refused_before_any_sign_in_logic(settings: Any) -> None:
    carla = _verified(factories.customer("carla"))
    client = Client()
    response = client.post(
        "/accounts/login/", {"login": carla.email, "password": "wrong"}, headers={"Host": "evil.example"}
    )
    assert response.status_code == 400
    assert not SignInFailure.objects.exists()
    assert "_auth_user_id" not in client.session


def test_behind_a_trusted_proxy_the_address_is_the_one_the_proxy_appended(settings: Any) -> None:
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    victim = _verified(factories.customer("victim"))
    for i in range(10):
        # The attacker's own X-Forwarded-For entries come first; the proxy appends the real address.
        assert not _sign_in(
            f"nobody-{i}@example.com",
            "wrong",
            address="10.0.0.1",  # the proxy
            host="localhost",
            forwarded=f"192.0.2.{i + 1}, 203.0.113.5",
        )
    assert not _sign_in(victim.email, PASSWORD, address="10.0.0.1", host="localhost", forwarded="203.0.113.5")
    assert _sign_in(victim.email, PASSWORD, address="10.0.0.1", host="localhost", forwarded="203.0.113.6")
