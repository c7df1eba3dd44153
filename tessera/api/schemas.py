"""Pieces every app's API router shares."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Schema
from pydantic import ConfigDict

from tessera.accounts.models import User


class StrictSchema(Schema):
    """Request bodies refuse unknown fields, so a typo is a 422 instead of a silently ignored value."""

    model_config = ConfigDict(extra="forbid")


def request_actor(request: HttpRequest) -> User:
    """The user the API authenticated (token or session) for this request."""
    return request.auth  # type: ignore[attr-defined,no-any-return]
