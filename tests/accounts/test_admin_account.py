from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress

from tessera.accounts.models import User

pytestmark = pytest.mark.django_db


def test_an_admin_created_from_the_command_line_has_a_verified_address_for_mfa() -> None:
    admin = User.objects.create_superuser("ops@tessera.test", "a-long-passphrase-1")
    assert admin.is_admin and admin.is_verified
    address = EmailAddress.objects.get(user=admin)
    assert (address.email, address.verified, address.primary) == ("ops@tessera.test", True, True)
