"""Full-text ticket search on the database's own index (see migrations/0001_fulltext.py).

The user's text never reaches the engine's query syntax: it is cut into words and each word is quoted
(FTS5) or handed to `plainto_tsquery` (PostgreSQL), so operators, quotes and parentheses are just text.
"""

from __future__ import annotations

import json
import re

from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.core.errors import ValidationFailed
from tessera.core.pagination import Page, paginate
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
    """SQL for the ids of tickets whose subject, description or messages contain every word.

    Without `include_notes` only public replies count, so an internal note can never make a ticket
    match for a customer."""
    note_filter = "" if include_notes else " AND m.kind = 'reply'"
    if connection.vendor == "postgresql":
        text = " ".join(words)
        sql = (
            "SELECT t.id FROM tickets_ticket t WHERE to_tsvector('simple'::regconfig, "  # noqa: S608 - constant SQL (note_filter is a literal); words are parameters
            "t.subject || ' ' || t.description) @@ plainto_tsquery('simple'::regconfig, %s) "
            "UNION SELECT m.ticket_id FROM tickets_message m WHERE to_tsvector('simple'::regconfig, m.body) "
            f"@@ plainto_tsquery('simple'::regconfig, %s){note_filter}"
        )
        return RawSQL(sql, (text, text))  # noqa: S611 - only constant SQL; the words are parameters
    if connection.vendor == "sqlite":
        query = _fts5_query(words)
        sql = (
            "SELECT rowid FROM search_ticket_fts WHERE search_ticket_fts MATCH %s "  # noqa: S608 - constant SQL (note_filter is a literal); words are parameters
            "UNION SELECT m.ticket_id FROM search_message_fts f JOIN tickets_message m ON m.id = f.rowid "
            f"WHERE search_message_fts MATCH %s{note_filter}"
        )
        return RawSQL(sql, (query, query))  # noqa: S611 - only constant SQL; the words are parameters
    raise NotImplementedError(connection.vendor)


def text_filter(user: User, text: str) -> Q | None:
    """A filter for querysets of tickets matching `text` (None when there is nothing to look for)."""
    words = terms(text)
    if not words:
        return None
    include_notes = user.is_agent
    if connection.vendor == "postgresql" and _pg_estimate(words, include_notes) > COMMON_WORDS_ROWS:
        return Q(_pg_row_match(words, include_notes))
    if connection.vendor == "postgresql":
        # Evaluated once, up front (an InitPlan), then fetched by primary key: without this the planner
        # may walk the whole ticket table newest first and merge-join the few matches.
        ids = matching_ids(words, include_notes=include_notes)
        first_ids = f"tickets_ticket.id = ANY(ARRAY({ids.sql}))"
        return Q(RawSQL(first_ids, ids.params, output_field=BooleanField()))  # noqa: S611 - words are parameters
    return Q(pk__in=matching_ids(words, include_notes=include_notes))


# PostgreSQL: a word found in a large share of the tickets makes "all matches, newest first" expensive
# (hundreds of thousands of index hits, each a heap visit, then a sort), while walking the tickets newest
# first and testing each finds a page of matches within a few hundred rows. Which way is cheaper is
# read from the planner's own estimate (EXPLAIN, no execution), built from ANALYZE's word statistics.
COMMON_WORDS_ROWS = 50_000


def _pg_estimate(words: list[str], include_notes: bool) -> int:
    ids = matching_ids(words, include_notes=include_notes)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + ids.sql, ids.params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _pg_row_match(words: list[str], include_notes: bool) -> RawSQL:
    """The match as a per-row condition on tickets_ticket, for walking the tickets in index order."""
    note_filter = "" if include_notes else " AND m.kind = 'reply'"
    text = " ".join(words)
    sql = (
        "to_tsvector('simple'::regconfig, tickets_ticket.subject || ' ' || tickets_ticket.description) "  # noqa: S608 - constant SQL (note_filter is a literal); words are parameters
        "@@ plainto_tsquery('simple'::regconfig, %s) OR EXISTS (SELECT 1 FROM tickets_message m "
        "WHERE m.ticket_id = tickets_ticket.id AND to_tsvector('simple'::regconfig, m.body) "
        f"@@ plainto_tsquery('simple'::regconfig, %s){note_filter})"
    )
    return RawSQL(sql, (text, text), output_field=BooleanField())  # noqa: S611 - constant SQL, words are parameters


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
    tickets = search_queryset(user, query).select_related("priority", "department", "requester", "assignee")
    return paginate(tickets, ordering=("-id",), cursor=cursor, limit=limit)
