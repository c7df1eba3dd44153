"""Checks for text that people send us, applied before anything is written."""

from __future__ import annotations

import re
import zoneinfo

from django.utils.translation import gettext as _

from tessera.core.errors import ValidationFailed

# C0 control characters other than tab, newline and carriage return: PostgreSQL refuses NUL
# outright and the rest only ever arrive by mistake or malice.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(
    value: str | None, *, field: str, max_length: int, required: bool = False, single_line: bool = False
) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationFailed(_("This field is required."), field=field)
    if len(text) > max_length:
        raise ValidationFailed(
            _("This text is too long: at most %(max)d characters.") % {"max": max_length}, field=field
        )
    if _CONTROL.search(text):
        raise ValidationFailed(_("This text contains control characters that are not allowed."), field=field)
    if single_line and ("\n" in text or "\r" in text):
        raise ValidationFailed(_("This must be a single line."), field=field)
    return text


def clean_time_zone(value: str, *, field: str) -> str:
    if not value:
        return ""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            _("“%(value)s” is not a known time zone (use a name like Europe/Rome).") % {"value": value[:64]},
            field=field,
        ) from None
    return value
