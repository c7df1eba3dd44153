"""Changing the account email through allauth: confirmed at the new address, the old one is told."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from tests import factories

pytestmark = pytest.mark.django_db


def test_email_change_is_confirmed_by_the_new_address_and_the_old_one_is_told() -> None:
    user = factories.customer()
    old = user.email
    EmailAddress.objects.create(user=user, email=old, primary=True, verified=True)
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    response = client.post("/accounts/email/", {"action_add": "", "email": "new-address@example.com"})
    assert response.status_code in (200, 302)
    user.refresh_from_db()
    assert user.email == old  # nothing changes before the new address is confirmed
    confirmation = next(m for m in mail.outbox if m.to == ["new-address@example.com"])
    link = re.search(r"https?://[^\s]+/accounts/confirm-email/[^\s]+", confirmation.body)
    assert link is not None
    path = "/" + link.group(0).split("/", 3)[3]
    client.post(path)
    user.refresh_from_db()
    assert user.email == "new-address@example.com"
    assert any(m.to == [old] for m in mail.outbox if m is not confirmation)  # the notice to the old one
