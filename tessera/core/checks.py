"""System checks that refuse to run production with insecure settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.core.checks import Warning as CheckWarning

from tessera.conf import DEFAULT_SECRET_KEY


@register("security", deploy=False)
def production_settings(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    if not settings.PRODUCTION:
        return []
    errors: list[CheckMessage] = []
    if settings.DEBUG:
        errors.append(Error("DEBUG is on in production.", hint="Set TESSERA_DEBUG=false.", id="tessera.E001"))
    if settings.SECRET_KEY == DEFAULT_SECRET_KEY or len(settings.SECRET_KEY) < 40:
        errors.append(
            Error(
                "The secret key is the development default or too short.",
                hint="Set TESSERA_SECRET_KEY (or TESSERA_SECRET_KEY_FILE) to 50 random characters.",
                id="tessera.E002",
            )
        )
    if "*" in settings.ALLOWED_HOSTS:
        errors.append(
            Error(
                "ALLOWED_HOSTS contains '*'.",
                hint="List the host names in TESSERA_ALLOWED_HOSTS.",
                id="tessera.E003",
            )
        )
    return errors


@register("security", deploy=False)
def encryption_keys(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Keys for stored mailbox secrets (tessera.mail.crypto). Without TESSERA_ENCRYPTION_KEYS they are
    derived from SECRET_KEY, which production already requires to be strong (E002), so that only warns:
    changing SECRET_KEY would then make the secrets unreadable. A weak explicit key is refused like E002."""
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
