"""Full-text ticket search on the database's own index, one document per ticket: PostgreSQL tsvectors in
`search_document` (migrations 0002-0004), SQLite an FTS5 table (migration 0003), both written by
triggers in the same transaction as the change. A ticket's words may be spread over its conversation.

The user's text never reaches the engine's query syntax: it is cut into words and each word is quoted
(FTS5) or handed to `plainto_tsquery` (PostgreSQL), so operators, quotes and parentheses are just text.
"""

from __future__ import annotations

import math
import re
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from tessera.accounts.models import Membership, User
from tessera.core.errors import ValidationFailed
from tessera.core.pagination import Page, decode_cursor, encode_cursor
from tessera.core.refcache import ReferenceTable
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


def _fts5_query(user: User, words: list[str]) -> str:
    # Each word becomes a quoted FTS5 string (a phrase of its tokens); quotes inside are doubled. A customer
    # only matches the public column, so an internal note can never make a ticket match for them.
    query = " ".join('"' + word.replace('"', '""') + '"' for word in words)
    return query if user.is_agent else "{public_text} : (" + query + ")"


# PostgreSQL: one row per ticket in search_document, with `agent_text` (everything, GIN-indexed) and
# `public_text` (no internal notes). A customer may only ever match on public_text.
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
    sql = "SELECT rowid FROM search_document_fts WHERE search_document_fts MATCH %s"
    return Q(pk__in=RawSQL(sql, (_fts5_query(user, words),)))  # noqa: S611 - words are a parameter


def _fetch(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _fetch_ids(sql: str, params: list[Any]) -> list[int]:
    return [row[0] for row in _fetch(sql, params)]


def _customer_scope(user: User, column: str) -> tuple[str, list[Any]]:
    # Customers search only inside the tickets they may see (a few hundred rows at most). PostgreSQL
    # reads them into an array, then looks each one up by primary key. SQLite checks each match FTS5
    # streams against the list: the unary + keeps it from handing the list to FTS5 as rowid lookups,
    # which cost milliseconds each for a search of many words.
    visible, params = visible_tickets(user).order_by().values("id").query.sql_with_params()
    if connection.vendor == "postgresql":
        return f" AND {column} = ANY(ARRAY({visible}))", list(params)
    return f" AND +{column} IN ({visible})", list(params)


def _departments(user: User) -> list[int] | None:
    """The departments whose tickets an agent sees, besides those assigned to them (None: all, admins)."""
    if user.is_admin:
        return None
    return list(Membership.objects.filter(agent=user).values_list("department_id", flat=True))


def _sqlite_page_ids(user: User, words: list[str], before: int | None, want: int) -> list[int]:
    """SQLite: FTS5 reads its matches in rowid (= ticket id) order, so it stops after the newest `want`."""
    join, scope = "", ""
    params: list[Any] = []
    if not user.is_agent:
        scope, params = _customer_scope(user, "search_document_fts.rowid")
    elif (departments := _departments(user)) is not None:
        # The rule of tickets.queries.visible_tickets for an agent.
        join = " JOIN tickets_ticket t ON t.id = search_document_fts.rowid"
        marks = ", ".join(["%s"] * len(departments)) or "NULL"
        scope, params = f" AND (t.department_id IN ({marks}) OR t.assignee_id = %s)", [*departments, user.pk]
    sql = (
        f"SELECT search_document_fts.rowid FROM search_document_fts{join} "  # noqa: S608 - constant SQL and ORM SQL; words are parameters
        "WHERE search_document_fts MATCH %s AND search_document_fts.rowid < %s"
        f"{scope} ORDER BY search_document_fts.rowid DESC LIMIT %s"
    )
    below = 2**63 - 1 if before is None else before
    return _fetch_ids(sql, [_fts5_query(user, words), below, *params, want])


# PostgreSQL, agents and admins: a page is the newest matching documents, read one of two ways.
# - The GIN index on agent_text intersects the posting lists of the words (led by the rarest), then every
#   match is fetched and sorted. Cheap when some word is rare; twelve words that are each in half the
#   tickets make it decode ~6 M postings (≈ 0.3 s at 1 M tickets) however few tickets have them all.
# - search_walk (migration 0003) walks the primary key newest first. The key carries each document's
#   128-bit signature (its words, hashed to one bit each) and permission columns, so the index-only scan
#   skips, at ≈ 0.15 µs each, the documents that lack one of the query's bits; only the others are tested
#   against agent_text (≈ 2-4 µs each). It stops when the page is full, so its cost follows how rare the
#   combination of words is, not how common each word is.
# The choice uses the lexeme frequencies ANALYZE keeps for agent_text (pg_stats), as the planner does.
#
# Rough costs on the bench machine (PostgreSQL 15, 1 M documents), in microseconds:
GIN_POSTING_US = 0.05  # the GIN index decoding one posting-list entry
GIN_MATCH_US = 1.5  # fetching and sorting one of its matches
WALK_TEST_US = 3.5  # the walk testing one candidate document against agent_text
GIN_AT_ONCE_US = 20_000  # the GIN index reads the page when it should take less than this


def _load_frequencies() -> tuple[float, dict[str, float], float]:
    """Documents, lexeme frequencies and the share assumed for unlisted lexemes (none if never analysed)."""
    documents, elements, frequencies = _fetch(
        "SELECT c.reltuples, s.most_common_elems::text::text[], s.most_common_elem_freqs FROM pg_class c "
        "LEFT JOIN pg_stats s ON s.schemaname = current_schema() AND s.tablename = c.relname "
        "AND s.attname = 'agent_text' WHERE c.oid = 'search_document'::regclass",
        [],
    )[0]
    if not elements:
        return 0.0, {}, 0.0
    # After the listed frequencies come their minimum and maximum. As in PostgreSQL's own estimate
    # (tsquerysel), a lexeme that is not listed counts as half the least frequent one, at most 0.5 %.
    unlisted = min(0.005, frequencies[len(elements)] / 2)
    return float(documents), dict(zip(elements, frequencies, strict=False)), unlisted


# ANALYZE refreshes them now and then (autovacuum); a copy per process spares each search the lookup.
_frequencies = ReferenceTable(_load_frequencies, ttl=300)


def _walk_budget(lexemes: list[str]) -> int:
    """How many documents the walk may test before the GIN index would have been cheaper (0: use the
    index at once), from the lexeme frequencies of pg_stats. Past its budget the walk leaves the rest
    to the index: its words may be frequent only in old tickets, or share their bits with many others."""
    documents, listed, unlisted = _frequencies.get()
    if not listed:
        return 0  # never analysed: a new table, small enough for anything
    shares = [listed.get(lexeme, unlisted) for lexeme in lexemes]
    # The index intersects the posting lists, led by the rarest, then fetches every match (counted as
    # if the words were independent).
    postings = len(shares) * min(shares) * documents
    matches = math.prod(shares) * documents
    gin_us = postings * GIN_POSTING_US + matches * GIN_MATCH_US
    return 0 if gin_us <= GIN_AT_ONCE_US else int(gin_us / WALK_TEST_US)


def _gin_ids(text: str, below: int, departments: list[int] | None, assignee: int, want: int) -> list[int]:
    # MATERIALIZED: all the matches from the GIN index, then sorted; without it the planner may walk the
    # whole table backwards looking for them one row at a time.
    scope, params = "", []
    if departments is not None:
        # The rule of tickets.queries.visible_tickets for an agent, on the document's copy of the columns.
        scope, params = " AND (d.department_id = ANY(%s) OR d.assignee_id = %s)", [departments, assignee]
    sql = (
        "WITH hits AS MATERIALIZED (SELECT d.ticket_id FROM search_document d "  # noqa: S608 - constant SQL; words are parameters
        f"WHERE d.agent_text @@ {_TSQUERY} AND d.ticket_id < %s{scope}) "
        "SELECT ticket_id FROM hits ORDER BY ticket_id DESC LIMIT %s"
    )
    return _fetch_ids(sql, [text, below, *params, want])


def _pg_page_ids(user: User, words: list[str], before: int | None, want: int) -> list[int]:
    """PostgreSQL: up to `want` ids of matching tickets visible to `user`, newest first, below `before`."""
    text = " ".join(words)
    below = 2**63 - 1 if before is None else before
    if not user.is_agent:
        scope, params = _customer_scope(user, "d.ticket_id")
        sql = (
            f"SELECT d.ticket_id FROM search_document d WHERE d.public_text @@ {_TSQUERY}"  # noqa: S608 - SQL built by the ORM and constants; words are parameters
            f" AND d.ticket_id < %s{scope} ORDER BY d.ticket_id DESC LIMIT %s"
        )
        return _fetch_ids(sql, [text, below, *params, want])
    departments = _departments(user)
    lexemes, low, high = _fetch(
        "SELECT tsvector_to_array(v), search_signature(v, 0), search_signature(v, 1) "
        "FROM to_tsvector('simple'::regconfig, %s) v",
        [text],
    )[0]
    if not lexemes:
        return []
    budget = _walk_budget(lexemes)
    if not budget:
        return _gin_ids(text, below, departments, user.pk, want)
    walked = _fetch_ids(
        f"SELECT * FROM search_walk({_TSQUERY}, %s, %s, %s, %s, %s, %s, %s)",  # noqa: S608 - constant SQL
        [text, low, high, below, departments, user.pk, want, budget],
    )
    found = [ticket for ticket in walked if ticket]
    if len(found) == want or 0 in walked:
        return found
    # The walk spent its budget, having found every match between the last one it found and `below`:
    # the rest lie below that one.
    return found + _gin_ids(text, found[-1] if found else below, departments, user.pk, want - len(found))


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
    words = terms(query)
    before = None
    if cursor:
        (before,) = decode_cursor(cursor, 1)
        if not isinstance(before, int) or isinstance(before, bool) or not 0 < before < 2**63:
            raise ValidationFailed(_("The cursor is not valid."), field="cursor")
    if not words:
        return Page(items=[], next_cursor=None)
    read = _pg_page_ids if connection.vendor == "postgresql" else _sqlite_page_ids
    ids = read(user, words, before, limit + 1)
    page_ids = ids[:limit]
    # The permission rule itself, once more, on the page only: PostgreSQL's copy of the columns is kept
    # by triggers, this makes the page exact even if they were ever bypassed.
    tickets = visible_tickets(user).filter(pk__in=page_ids)
    items = list(tickets.select_related("priority", "department", "requester", "assignee").order_by("-id"))
    next_cursor = encode_cursor([page_ids[-1]]) if len(ids) > limit else None
    return Page(items=items, next_cursor=next_cursor)
