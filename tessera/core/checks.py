"""System checks that refuse to run production with insecure settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from tessera.conf import production_problems


@register("security", deploy=False)
def production_settings(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    if not settings.PRODUCTION:
        return []
    problems = production_problems(
        debug=settings.DEBUG, secret_key=settings.SECRET_KEY, allowed_hosts=list(settings.ALLOWED_HOSTS)
    )
    return [Error(problem, hint=fix, id=check) for check, problem, fix in problems]
