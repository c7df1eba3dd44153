"""Keyset (cursor) pagination: constant cost at any depth, unlike OFFSET which scans what it skips."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from tessera.core.errors import ValidationFailed


@dataclass
class Page[T]:
    items: list[T]
    next_cursor: str | None


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(_("The cursor is not valid."), field="cursor") from None
    if not isinstance(values, list) or len(values) != size:
        raise ValidationFailed(_("The cursor is not valid."), field="cursor")
    return values


def paginate[M: Model](
    queryset: QuerySet[M],
    *,
    ordering: tuple[str, ...],
    cursor: str | None,
    limit: int,
) -> Page[M]:
    """Return one page ordered by `ordering` (fields prefixed with '-' for descending; the last must be
    unique), starting after the row the cursor names."""
    queryset = queryset.order_by(*ordering)
    if cursor:
        values = decode_cursor(cursor, len(ordering))
        queryset = queryset.filter(_after(ordering, values))
    rows = list(queryset[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([_value(last, field.lstrip("-")) for field in ordering])
    return Page(items=rows, next_cursor=next_cursor)


def _value(row: Model, field: str) -> Any:
    value = row
    for part in field.split("__"):
        value = getattr(value, part)
    return value.isoformat() if hasattr(value, "isoformat") else value


def _after(ordering: tuple[str, ...], values: list[Any]) -> Q:
    """(a, b, c) > (va, vb, vc) in the ordering's direction, spelled as OR of ANDs for every database."""
    condition = Q()
    for index, field in enumerate(ordering):
        name = field.lstrip("-")
        lookup = "lt" if field.startswith("-") else "gt"
        step = Q(**{f"{name}__{lookup}": values[index]})
        for previous, value in zip(ordering[:index], values[:index], strict=False):
            step &= Q(**{previous.lstrip("-"): value})
        condition |= step
    return condition
