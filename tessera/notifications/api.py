"""The signed-in user's notifications: list, unread count, mark read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from tessera.api.schemas import Cursor, Id, request_actor
from tessera.core.pagination import paginate
from tessera.notifications import services

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    url: str
    ticket_id: int | None
    incident_id: int | None
    created_at: datetime
    read_at: datetime | None


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_cursor: str | None
    unread: int


class NotificationFilters(Schema):
    unread: bool = Field(False, description="Only unread notifications.")
    cursor: str | None = Cursor
    limit: int = Field(25, ge=1, le=100)


class UnreadOut(Schema):
    unread: int


class MarkedOut(Schema):
    marked: int
    unread: int


@router.get("/notifications", response=NotificationPage, summary="Your notifications, newest first")
def list_notifications(request: HttpRequest, filters: Query[NotificationFilters]) -> dict[str, Any]:
    user = request_actor(request)
    notifications = services.visible_notifications(user)
    if filters.unread:
        notifications = notifications.filter(read_at__isnull=True)
    page = paginate(notifications, ordering=("-id",), cursor=filters.cursor, limit=filters.limit)
    return {"items": page.items, "next_cursor": page.next_cursor, "unread": services.unread_count(user)}


@router.get("/notifications/unread-count", response=UnreadOut, summary="How many are unread")
def unread_count(request: HttpRequest) -> dict[str, int]:
    return {"unread": services.unread_count(request_actor(request))}


@router.post("/notifications/read-all", response=MarkedOut, summary="Mark all as read")
def read_all(request: HttpRequest) -> dict[str, int]:
    user = request_actor(request)
    return {"marked": services.mark_all_read(actor=user), "unread": services.unread_count(user)}


@router.post("/notifications/{notification_id}/read", response=NotificationOut, summary="Mark one as read")
def read_one(request: HttpRequest, notification_id: Id) -> Any:
    return services.mark_read(actor=request_actor(request), notification_id=notification_id)
