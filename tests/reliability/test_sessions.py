"""Sessions and passwords as OWASP ASVS level 2 expects of a help desk: a new session id at sign-in
(no fixation), sign-out ends the session on the server, the session cookie is out of scripts' reach,
and weak passwords are refused at sign-up and at a change."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.contrib.sessions.models import Session
from django.test import Client

from tessera.accounts.models import User
from tests import factories

pytestmark = pytest.mark.django_db


def _verified(user: User) -> User:
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def test_signing_in_gives_a_new_session_id_and_the_old_one_signs_nobody_in() -> None:
    carla = _verified(factories.customer("carla"))
    client = Client()
    client.get("/accounts/login/")
    session = client.session
    session["planted"] = "by an attacker"  # a fixed session id, as if planted before sign-in
    session.save()
    before = session.session_key
    response = client.post("/accounts/login/", {"login": carla.email, "password": "pw-123456789"})
    assert response.status_code == 302 and client.session.get("_auth_user_id") == str(carla.pk)
    after = client.cookies["sessionid"].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert client.get("/account/").status_code == 200


def test_signing_out_ends_the_session_on_the_server() -> None:
    client = Client()
    client.force_login(factories.customer("carla"))
    key = client.cookies["sessionid"].value
    client.post("/accounts/logout/")
    assert not Session.objects.filter(session_key=key).exists()
    replay = Client()
    replay.cookies["sessionid"] = key  # the old cookie, replayed
    assert replay.get("/account/").status_code == 302  # to the sign-in page


def test_the_session_cookie_is_http_only_and_same_site() -> None:
    carla = _verified(factories.customer("carla"))
    client = Client()
    client.post("/accounts/login/", {"login": carla.email, "password": "pw-123456789"})
    cookie = client.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


@pytest.mark.parametrize("weak", ["12345678", "password123", "carla-example", "short"])
def test_weak_passwords_are_refused_at_sign_up(weak: str) -> None:
    response = Client().post(
        "/accounts/signup/", {"email": "carla-example@example.com", "password1": weak, "password2": weak}
    )
    assert response.status_code == 200  # the form again, with the reason
    assert not User.objects.filter(email="carla-example@example.com").exists()


def test_a_weak_new_password_is_refused_and_the_old_one_kept() -> None:
    carla = factories.customer("carla")
    client = Client()
    client.force_login(carla)
    client.post(
        "/accounts/password/change/", {"oldpassword": "pw-123456789", "password1": "123", "password2": "123"}
    )
    assert User.objects.get(pk=carla.pk).check_password("pw-123456789")
