"""Sign-up, verification and the account pages, through allauth with Tessera's adapter."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from tessera.accounts.models import User

pytestmark = pytest.mark.django_db


def test_sign_up_makes_a_verified_customer_in_the_page_language() -> None:
    client = Client(headers={"Accept-Language": "it-IT,it;q=0.9"})
    response = client.post(
        "/accounts/signup/",
        {
            "email": "Nuovo@Example.it",
            "password1": "un-segreto-lungo-42",
            "password2": "un-segreto-lungo-42",
            "full_name": "Nuovo Cliente",
            "time_zone": "Europe/Rome",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="nuovo@example.it")
    assert (user.role, user.language, user.time_zone, user.full_name) == (
        User.Role.CUSTOMER,
        "it",
        "Europe/Rome",
        "Nuovo Cliente",
    )
    assert not user.is_verified
    link = re.search(r"http://\S+/accounts/confirm-email/\S+/", str(mail.outbox[-1].body))
    assert link is not None
    path = link.group(0).split("testserver", 1)[1]
    assert client.post(path).status_code == 302
    user.refresh_from_db()
    assert user.is_verified


def test_sign_up_cannot_choose_a_role_or_a_bogus_time_zone() -> None:
    Client().post(
        "/accounts/signup/",
        {
            "email": "sneaky@example.com",
            "password1": "un-segreto-lungo-42",
            "password2": "un-segreto-lungo-42",
            "role": "admin",
            "time_zone": "Nowhere/Atlantis",
        },
    )
    user = User.objects.get(email="sneaky@example.com")
    assert user.role == User.Role.CUSTOMER
    assert user.time_zone == settings.TIME_ZONE


def test_sign_up_errors_are_shown_next_to_the_field() -> None:
    response = Client().post(
        "/accounts/signup/", {"email": "not-an-address", "password1": "a", "password2": "b"}
    )
    assert response.status_code == 200
    assert 'id="id_email-error"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert not User.objects.exists()


@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"])
def test_account_pages_use_the_site_layout(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 200
    assert "tessera/tessera.css" in response.text
    assert 'class="page-auth"' in response.text


def test_a_contact_known_from_an_email_claims_the_account_through_the_reset_link() -> None:
    contact = User.objects.create_user("known@example.com", None, role=User.Role.CUSTOMER)  # no password
    client = Client()
    signup = {"email": "known@example.com", "password1": "a-new-secret-77", "password2": "a-new-secret-77"}
    assert client.post("/accounts/signup/", signup).status_code == 302
    assert User.objects.filter(email="known@example.com").count() == 1  # no second account
    assert "/accounts/password/reset/" in str(mail.outbox[-1].body)  # "you already have an account"

    client.post("/accounts/password/reset/", {"email": "known@example.com"})
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", str(mail.outbox[-1].body))
    assert link is not None
    form_page = client.get(link.group(1), follow=True)
    new_password = {"password1": "claimed-secret-88", "password2": "claimed-secret-88"}
    assert client.post(form_page.request["PATH_INFO"], new_password).status_code == 302

    contact.refresh_from_db()
    assert contact.is_verified and contact.check_password("claimed-secret-88")
    assert Client().login(email="known@example.com", password="claimed-secret-88")
