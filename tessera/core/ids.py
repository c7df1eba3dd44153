"""Database ids as they arrive from outside: bounded to the primary key's range, parsed from ASCII only."""

from __future__ import annotations

import re

MAX_ID = 2**63 - 1  # a bigint primary key; SQLite's INTEGER is the same 64 bits
ID_RANGE = range(1, MAX_ID + 1)
_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")


def parse_id(text: object, *, minimum: int = 1) -> int | None:
    """The id `text` names, or None. ASCII digits only: str.isdigit() also accepts "²" and other scripts'
    digits, which int() then refuses or reads as another number."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text if minimum <= text <= MAX_ID else None
    if not isinstance(text, str) or not _ASCII_DIGITS.fullmatch(text.strip()):
        return None
    value = int(text.strip())
    return value if minimum <= value <= MAX_ID else None
