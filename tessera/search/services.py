"""Full-text ticket search on the database's own index: SQLite FTS5 tables (migrations/0001_fulltext.py),
PostgreSQL one tsvector document per ticket (migrations/0002_search_document.py), both written by
triggers in the same transaction as the change.

The user's text never reaches the engine's query syntax: it is cut into words and each word is quoted
(FTS5) or handed to `plainto_tsquery` (PostgreSQL), so operators, quotes and parentheses are just text.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from tessera.accounts.models import Membership, User
from tessera.core.errors import ValidationFailed
from tessera.core.pagination import Page, decode_cursor, encode_cursor, paginate
from tessera.tickets.models import Ticket
from tessera.tickets.queries import visible_tickets

QUERY_MAX = 200
TERMS_MAX = 12
PAGE_SIZE = 25
_WORD = re.compile(r"\w", re.UNICODE)


def terms(text: str) -> list[str]:
    """The words to look for: whitespace-separated chunks that contain at least one letter or digit."""
    text = (text or "").strip()
    if len(text) > QUERY_MAX:
        raise ValidationFailed(
            _("The search is too long: at most %(max)d characters.") % {"max": QUERY_MAX}, field="q"
        )
    if "\x00" in text:
        raise ValidationFailed(_("This text contains control characters that are not allowed."), field="q")
    return [chunk for chunk in text.split() if _WORD.search(chunk)][:TERMS_MAX]


def _fts5_query(words: list[str]) -> str:
    # Each word becomes a quoted FTS5 string (a phrase of its tokens); quotes inside are doubled.
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)


def matching_ids(words: list[str], *, include_notes: bool) -> RawSQL:
    """SQLite: SQL for the ids of tickets whose subject, description or one message contain every word.

    Without `include_notes` only public replies count, so an internal note can never make a ticket
    match for a customer."""
    note_filter = "" if include_notes else " AND m.kind = 'reply'"
    query = _fts5_query(words)
    sql = (
        "SELECT rowid FROM search_ticket_fts WHERE search_ticket_fts MATCH %s "  # noqa: S608 - constant SQL (note_filter is a literal); words are parameters
        "UNION SELECT m.ticket_id FROM search_message_fts f JOIN tickets_message m ON m.id = f.rowid "
        f"WHERE search_message_fts MATCH %s{note_filter}"
    )
    return RawSQL(sql, (query, query))  # noqa: S611 - only constant SQL; the words are parameters


# PostgreSQL: one row per ticket in search_document (migrations/0002), with `agent_text` (everything,
# GIN-indexed) and `public_text` (no internal notes). A customer may only ever match on public_text.
_TSQUERY = "plainto_tsquery('simple'::regconfig, %s)"


def text_filter(user: User, text: str) -> Q | None:
    """A filter for querysets of tickets matching `text` (None when there is nothing to look for)."""
    words = terms(text)
    if not words:
        return None
    if connection.vendor == "postgresql":
        # public_text only ever holds a subset of agent_text, so the indexed agent_text test never
        # drops a public match; it only lets PostgreSQL use the GIN index for customers too.
        public = "" if user.is_agent else f" AND d.public_text @@ {_TSQUERY}"
        sql = (
            "EXISTS (SELECT 1 FROM search_document d WHERE d.ticket_id = tickets_ticket.id "  # noqa: S608 - constant SQL; words are parameters
            f"AND d.agent_text @@ {_TSQUERY}{public})"
        )
        text = " ".join(words)
        params = (text,) if user.is_agent else (text, text)
        return Q(RawSQL(sql, params, output_field=BooleanField()))  # noqa: S611 - words are parameters
    return Q(pk__in=matching_ids(words, include_notes=user.is_agent))


# Agents and admins, PostgreSQL. A page is the newest matching tickets. First the newest WALK_WINDOW
# tickets are read newest first and tested one by one: for a common word a page is full after a few
# hundred rows. Only when that window holds less than a page — so the word is rare, fewer than about
# (page / window) of the tickets — are the remaining matches read from the GIN index, which is cheap
# precisely because they are few. No row estimate decides between the two, so there is no cut-over.
WALK_WINDOW = 20_000


def _fetch_ids(sql: str, params: list[Any]) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _pg_page_ids(user: User, words: list[str], before: int | None, want: int) -> list[int]:
    """Up to `want` ids of matching tickets visible to `user`, newest first, below `before`."""
    text = " ".join(words)
    below = "" if before is None else " AND d.ticket_id < %s"
    below_params = [] if before is None else [before]
    if not user.is_agent:
        # Customers: only inside the tickets they may see (a few per person), one row each.
        visible, visible_params = visible_tickets(user).order_by().values("id").query.sql_with_params()
        sql = (
            f"SELECT d.ticket_id FROM search_document d WHERE d.ticket_id = ANY(ARRAY({visible})){below} "  # noqa: S608 - SQL built by the ORM and constants; words are parameters
            f"AND d.public_text @@ {_TSQUERY} ORDER BY d.ticket_id DESC LIMIT %s"
        )
        return _fetch_ids(sql, [*visible_params, *below_params, text, want])

    scope, scope_params = "", []
    if not user.is_admin:
        # The same rule as tickets.queries.visible_tickets, on the document's copy of the two columns.
        departments = list(Membership.objects.filter(agent=user).values_list("department_id", flat=True))
        scope, scope_params = " AND (d.department_id = ANY(%s) OR d.assignee_id = %s)", [departments, user.pk]
    if before is None:
        top = _fetch_ids("SELECT coalesce(max(ticket_id), 0) + 1 FROM search_document", [])[0]
    else:
        top = before
    floor = top - WALK_WINDOW
    walk = (
        "SELECT d.ticket_id FROM search_document d WHERE d.ticket_id < %s AND d.ticket_id >= %s"  # noqa: S608 - constant SQL; words are parameters
        f"{scope} AND d.agent_text @@ {_TSQUERY} ORDER BY d.ticket_id DESC LIMIT %s"
    )
    found = _fetch_ids(walk, [top, floor, *scope_params, text, want])
    if len(found) >= want or floor <= 0:
        return found
    # MATERIALIZED: all the (few) matches from the GIN index, then sorted; without it the planner may
    # walk the whole table backwards looking for them one row at a time.
    rest = (
        "WITH hits AS MATERIALIZED (SELECT d.ticket_id FROM search_document d "  # noqa: S608 - constant SQL; words are parameters
        f"WHERE d.agent_text @@ {_TSQUERY} AND d.ticket_id < %s{scope}) "
        "SELECT ticket_id FROM hits ORDER BY ticket_id DESC LIMIT %s"
    )
    return found + _fetch_ids(rest, [text, floor, *scope_params, want - len(found)])


def search_queryset(user: User, text: str) -> QuerySet[Ticket]:
    """Tickets the user may see whose text matches; empty for an empty search."""
    condition = text_filter(user, text)
    if condition is None:
        return Ticket.objects.none()
    return visible_tickets(user).filter(condition)


def search_tickets(
    user: User, query: str, cursor: str | None = None, *, limit: int = PAGE_SIZE
) -> Page[Ticket]:
    """One page of matching tickets the user may see, newest first (keyset pagination on id)."""
    if connection.vendor != "postgresql":
        tickets = search_queryset(user, query)
        tickets = tickets.select_related("priority", "department", "requester", "assignee")
        return paginate(tickets, ordering=("-id",), cursor=cursor, limit=limit)
    words = terms(query)
    before = None
    if cursor:
        (before,) = decode_cursor(cursor, 1)
        if not isinstance(before, int) or isinstance(before, bool) or not 0 < before < 2**63:
            raise ValidationFailed(_("The cursor is not valid."), field="cursor")
    if not words:
        return Page(items=[], next_cursor=None)
    ids = _pg_page_ids(user, words, before, limit + 1)
    page_ids = ids[:limit]
    # The permission rule itself, once more, on the page only: the document's copy of the columns is
    # kept by triggers, this makes the page exact even if they were ever bypassed.
    tickets = visible_tickets(user).filter(pk__in=page_ids)
    items = list(tickets.select_related("priority", "department", "requester", "assignee").order_by("-id"))
    next_cursor = encode_cursor([page_ids[-1]]) if len(ids) > limit else None
    return Page(items=items, next_cursor=next_cursor)
