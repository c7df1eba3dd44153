"""System checks that refuse to run production with insecure settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

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
