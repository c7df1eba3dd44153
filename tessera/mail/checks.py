"""The mail app's system checks: the keys that encrypt stored mailbox secrets (tessera.mail.crypto)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.core.checks import Warning as CheckWarning


@register("security", deploy=False)
def encryption_keys(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Without TESSERA_ENCRYPTION_KEYS the keys are derived from SECRET_KEY, which production already
    requires to be strong (E002), so that only warns: changing SECRET_KEY would then make the secrets
    unreadable. A weak explicit key is refused like E002."""
    if not settings.PRODUCTION:
        return []
    errors: list[CheckMessage] = []
    keys = settings.TESSERA_ENCRYPTION_KEYS
    if any(len(key) < 32 for key in keys):
        errors.append(
            Error(
                "A key in TESSERA_ENCRYPTION_KEYS is shorter than 32 characters.",
                hint="Use 32 or more random characters per key.",
                id="tessera.E004",
            )
        )
    if not keys:
        errors.append(
            CheckWarning(
                "Stored mailbox passwords and OAuth tokens are encrypted with a key derived from the secret "
                "key; changing TESSERA_SECRET_KEY would make them unreadable.",
                hint="Set TESSERA_ENCRYPTION_KEYS, then run `tessera mail rekey`.",
                id="tessera.W001",
            )
        )
    return errors


@register("security", deploy=False)
def sender_authentication(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Without our receiving server's authserv-id nothing tells a customer's mail from a forgery of their
    address, so production warns at start (and /health reports it)."""
    if not settings.PRODUCTION or settings.TESSERA_MAIL_AUTHSERV_ID:
        return []
    return [
        CheckWarning(
            "TESSERA_MAIL_AUTHSERV_ID is not set: inbound mail is not checked for SPF/DKIM/DMARC, so anyone "
            "can write as a registered customer's address.",
            hint="Set it to the authserv-id your receiving mail server writes in Authentication-Results.",
            id="tessera.W010",
        )
    ]
