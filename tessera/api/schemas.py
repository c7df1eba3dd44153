"""Pieces every app's API router shares: strict request bodies and the bounded, strict field types."""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Schema
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, ConfigDict, Field, Strict
from pydantic.config import JsonDict

from tessera.accounts.models import User
from tessera.core.ids import MAX_ID


def json_integer(value: Any) -> Any:
    # The JSON type is the contract: no `true` for 1, no "12" for 12 (pydantic's lax mode takes both);
    # 12.0 is the same JSON number as 12.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("Input should be a JSON integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("Input should be a JSON integer")
        return int(value)
    return value


# An id anywhere a client sends one (path, query, body, array item): the primary key's range, so a value no
# row can have is a 422 (or a 404 for a path) instead of a driver's OverflowError.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# In JSON bodies, the JSON types only.
JsonInt = Annotated[int, BeforeValidator(json_integer)]
BodyId = Annotated[Id, BeforeValidator(json_integer)]
StrictBool = Annotated[bool, Strict()]
StrictFloat = Annotated[float, Strict()]
# Constraints before the validator, so the schema states them as minimum/maximum.
Version = Annotated[
    int,
    Field(ge=0, le=MAX_ID, description="The version you read; a newer one gives 409."),
    BeforeValidator(json_integer),
]
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _rfc3339(value: Any) -> Any:
    # pydantic's lax mode would read 0 or "0" as 1970-01-01 and a naive time as local: the API promises an
    # RFC 3339 date-time string, offset included.
    if isinstance(value, datetime) or (isinstance(value, str) and _RFC3339.fullmatch(value)):
        return value
    raise ValueError("Input should be an RFC 3339 date-time with its offset, like 2026-01-31T09:00:00Z")


Instant = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]

# The IANA zone names this server's tzdata knows, as an enum: the document says which names are accepted
# instead of a free string that a service later refuses.
TIME_ZONES = frozenset(zoneinfo.available_timezones())


def _known_zone(value: str) -> str:
    if value not in TIME_ZONES:
        raise ValueError("Input should be an IANA time zone name, like Europe/Rome")
    return value


TimeZone = Annotated[
    str,
    Field(description="An IANA time zone name.", json_schema_extra={"enum": sorted(TIME_ZONES)}),
    AfterValidator(_known_zone),
]


# The default of a field that may be left out but never be null (see omittable): "not given".
UNCHANGED: Any = None


def omittable(schema: JsonDict) -> None:
    """json_schema_extra of a field that may be left out but never sent as null: its Python default (None,
    meaning "unchanged") is not a value a client may send, so the document shows no default."""
    schema.pop("default", None)


def _given(field: str) -> JsonDict:
    return {"required": [field], "properties": {field: {"not": {"type": "null"}}}}


def exactly_one_given(*fields: str) -> JsonDict:
    """JSON Schema for a body that must give exactly one of these fields (not null)."""
    return {"oneOf": [_given(field) for field in fields]}


def at_least_one_given(*fields: str) -> JsonDict:
    """JSON Schema for a body that must give at least one of these fields (not null)."""
    return {"anyOf": [_given(field) for field in fields]}


Cursor: Any = Field(
    None, max_length=200, pattern=r"^[A-Za-z0-9_-]+={0,2}$", description="`next_cursor` of the page before."
)
# A body field only agents and admins may set: a customer who sends it gets a 422 naming it.
AGENT_ONLY: JsonDict = {"x-agent-only": True}

# What tessera.core.text.clean_text accepts, said in the schema: no C0 control characters but tab (and
# newline, carriage return in multi-line text), and when required at least one character that strip() keeps.
_CONTROL = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f"
_SPACE = "\\x00-\\x20\\x7f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"


def text(
    max_length: int,
    *,
    default: Any = ...,
    required: bool = True,
    single_line: bool = True,
    description: str | None = None,
    omit: bool = False,
) -> Any:
    """A Field for free text the services clean: the same limits, so the schema says what is refused.
    `omit`: a field a change may leave out (default None, "unchanged") but never send as null."""
    allowed = f"[^{_CONTROL}\\n\\r]" if single_line else f"[^{_CONTROL}]"
    pattern = f"^{allowed}*[^{_SPACE}]{allowed}*$" if required else f"^{allowed}*$"
    return Field(
        default,
        min_length=1 if required else None,
        max_length=max_length,
        pattern=pattern,
        description=description,
        json_schema_extra=omittable if omit else None,
    )


class StrictSchema(Schema):
    """Request bodies refuse unknown fields, so a typo is a 422 instead of a silently ignored value."""

    model_config = ConfigDict(extra="forbid")


def request_actor(request: HttpRequest) -> User:
    """The user the API authenticated (token or session) for this request."""
    return request.auth  # type: ignore[attr-defined,no-any-return]
