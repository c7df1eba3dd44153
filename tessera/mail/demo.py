"""Demo mail setup: the seeds' receiving addresses, each mapped to its department."""

from __future__ import annotations

from tessera.accounts.models import Department
from tessera.mail.models import Mailbox


def load_mail_demo() -> None:
    """support@ → Technical, billing@ → Financial/Billing, abuse@ → Abuse (idempotent)."""
    for department in Department.objects.exclude(email=""):
        Mailbox.objects.get_or_create(address=department.email.lower(), defaults={"department": department})
