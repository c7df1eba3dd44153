"""Domain errors: one exception family that both the web pages and the API understand.

Services raise these *before* their first write, so a refused request changes nothing.
The API turns them into RFC 9457 problem details; forms show them next to the field.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(
        self, message: str | Promise, *, field: str | None = None, code: str | None = None, **extra: Any
    ) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field
        if code:
            self.code = code
        self.extra = extra


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    """Someone else changed the object since the client read it (optimistic locking)."""

    status = 409
    code = "conflict"


class IllegalTransition(DomainError):
    status = 409
    code = "illegal_transition"
