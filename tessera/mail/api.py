"""The review queue of held inbound mail and the mail security log (tessera.mail.review, .security)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from tessera.api.schemas import Cursor, Id, request_actor
from tessera.core.pagination import paginate
from tessera.mail import review, security
from tessera.mail.models import InboundMessage

router = Router(tags=["mail"])


class HeldOut(Schema):
    id: int
    sender: str
    envelope_from: str
    subject: str
    status: str
    reason: str = Field(alias="error")
    auth: str
    department_id: int | None
    received_at: datetime
    ticket_id: int | None
    ticket_message_id: int | None
    release: str
    notes: list[str]


class HeldPage(Schema):
    items: list[HeldOut]
    next_cursor: str | None


class PageIn(Schema):
    cursor: str | None = Cursor
    limit: int = Field(25, ge=1, le=100)


class ReleaseIn(Schema):
    model_config = ConfigDict(extra="forbid")
    how: Literal["sender", "contact"] = Field(
        description="`sender`: as the claimed sender (admins); `contact`: as a new unverified contact's "
        "new ticket."
    )


class AttachIn(Schema):
    model_config = ConfigDict(extra="forbid")
    ticket: Id


class SecurityEventOut(Schema):
    id: int
    kind: str
    sender: str
    detail: str
    inbound_id: int | None
    ticket_id: int | None
    actor_id: int | None
    created_at: datetime


class SecurityPage(Schema):
    items: list[SecurityEventOut]
    next_cursor: str | None


class LogIn(Schema):
    kind: str = Field("", max_length=20)
    sender: str = Field("", max_length=320)
    days: int = Field(30, ge=1, le=366)
    cursor: str | None = Cursor
    limit: int = Field(50, ge=1, le=200)


class DailyCountOut(Schema):
    day: date
    sender: str
    kind: str
    count: int


@router.get("/mail/held", response=HeldPage, summary="Inbound mail held for review, oldest first")
def list_held(request: HttpRequest, page: Query[PageIn]) -> dict[str, Any]:
    user = request_actor(request)
    found = paginate(
        review.held_for(user), ordering=("received_at", "id"), cursor=page.cursor, limit=page.limit
    )
    return {"items": found.items, "next_cursor": found.next_cursor}


@router.get("/mail/held/{message_id}", response=HeldOut, summary="One held message")
def get_held(request: HttpRequest, message_id: Id) -> InboundMessage:
    return review.get_held(request_actor(request), message_id)


@router.post(
    "/mail/held/{message_id}/release",
    response=HeldOut,
    summary="Release a held message (processed at once; the answer shows the outcome)",
)
def release(request: HttpRequest, message_id: Id, payload: ReleaseIn) -> InboundMessage:
    return review.release(actor=request_actor(request), pk=message_id, how=payload.how)


@router.post("/mail/held/{message_id}/attach", response=HeldOut, summary="Attach to a ticket as a note")
def attach(request: HttpRequest, message_id: Id, payload: AttachIn) -> InboundMessage:
    user = request_actor(request)
    review.attach(actor=user, pk=message_id, ticket_id=payload.ticket)
    return InboundMessage.objects.get(pk=message_id)


@router.post("/mail/held/{message_id}/reject", response=HeldOut, summary="Reject a held message")
def reject(request: HttpRequest, message_id: Id) -> InboundMessage:
    return review.reject(actor=request_actor(request), pk=message_id)


@router.get("/mail/security-events", response=SecurityPage, summary="The mail security log (admins)")
def list_security_events(request: HttpRequest, filters: Query[LogIn]) -> dict[str, Any]:
    found = security.events(
        request_actor(request), security.LogFilters(filters.kind, filters.sender, filters.days)
    )
    page = paginate(found, ordering=("-created_at", "-id"), cursor=filters.cursor, limit=filters.limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get(
    "/mail/security-events/daily",
    response=list[DailyCountOut],
    summary="Security events counted per sender, kind and day (admins)",
)
def daily_security_counts(request: HttpRequest, filters: Query[LogIn]) -> list[dict[str, Any]]:
    rows = security.daily_counts(
        request_actor(request), security.LogFilters(filters.kind, filters.sender, filters.days)
    )
    return [{"day": day, "sender": sender, "kind": kind, "count": count} for day, sender, kind, count in rows]
