"""GET /api/v1/search: full-text ticket search with the same permissions as every other ticket list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from tessera.api.schemas import Cursor, request_actor
from tessera.search.services import QUERY_MAX, search_tickets

router = Router(tags=["search"])


class SearchFilters(Schema):
    q: str = Field(
        max_length=QUERY_MAX,
        pattern=r"^[^\x00]*$",
        description="Words to find in subjects, descriptions and messages.",
    )
    cursor: str | None = Cursor
    limit: int = Field(25, ge=1, le=100)


class SearchHit(Schema):
    id: int
    reference: str
    subject: str
    status: str
    priority: str
    department: str
    updated_at: datetime


class SearchPage(Schema):
    items: list[SearchHit]
    next_cursor: str | None


@router.get("/search", response=SearchPage, summary="Search tickets (full text, newest first)")
def search(request: HttpRequest, filters: Query[SearchFilters]) -> dict[str, Any]:
    user = request_actor(request)
    page = search_tickets(user, filters.q, filters.cursor, limit=filters.limit)
    return {
        "items": [
            {
                "id": t.pk,
                "reference": t.reference,
                "subject": t.subject,
                "status": t.status,
                "priority": t.priority.slug,
                "department": t.department.slug,
                "updated_at": t.updated_at,
            }
            for t in page.items
        ],
        "next_cursor": page.next_cursor,
    }
