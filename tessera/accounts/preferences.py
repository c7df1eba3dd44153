"""A person's language and time zone: chosen from the browser at first, then saved on their account."""

from __future__ import annotations

import contextlib
import zoneinfo
from functools import cache

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation

from tessera.accounts.models import User
from tessera.accounts.services import update_preferences
from tessera.core.errors import DomainError


def language_codes() -> set[str]:
    return {code for code, _name in settings.LANGUAGES}


def request_language(request: HttpRequest) -> str:
    """The language this request is being answered in (browser, cookie or switcher), as a known code."""
    code = getattr(request, "LANGUAGE_CODE", "") or translation.get_language() or settings.LANGUAGE_CODE
    code = code.split("-")[0].lower()
    return code if code in language_codes() else settings.LANGUAGE_CODE


@cache
def time_zone_names() -> list[str]:
    return sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})


def valid_time_zone(name: str) -> str:
    """`name` if it is a real IANA zone, else ''."""
    return name if name and name in set(time_zone_names()) else ""


def save_language(user: User, code: str) -> None:
    """Remember the language a signed-in person picked in the switcher (through the one preferences
    service, as the account settings page does). An unknown code changes nothing, as in Django's switcher."""
    if code in language_codes() and user.language != code:
        # A stored zone that is no longer valid refuses the save; the page language still follows the cookie.
        with contextlib.suppress(DomainError):
            update_preferences(user=user, language=code, time_zone=user.time_zone)
