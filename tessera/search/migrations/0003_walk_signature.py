"""Search documents that a page of "newest matching tickets" can be read from cheaply (see services.py).

PostgreSQL: each search_document row gets a 128-bit signature of its agent_text lexemes, each hashed to
one bit with md5 (which never changes between versions), in two bigint columns. The primary key carries
them and the two permission columns, so `search_walk` can walk the key newest first and skip documents
that lack one of the query's bits without reading them (index-only scan). Autovacuum runs more often on this
table so that the visibility map, which index-only scans need, keeps up with the stream of updates.

SQLite: one FTS5 row per ticket (rowid = ticket id) instead of one per ticket text and one per message.
FTS5 then returns matches in rowid order, so `ORDER BY rowid DESC LIMIT n` stops after the newest n
instead of collecting every match first, and, as on PostgreSQL, the words of a search may be spread
over the conversation. `public_text` holds the subject, description and public replies, `notes` the
internal notes (a customer's search is limited to the first column). Triggers keep it in the same
transaction as the change: a new message is appended, anything else rebuilds the ticket's row.
"""

from __future__ import annotations

import importlib
from typing import Any

from django.db import migrations

POSTGRES_FORWARD = [
    # One half (0: the low 64 bits, 1: the high ones) of the 128-bit signature.
    """CREATE OR REPLACE FUNCTION search_signature(document tsvector, half integer) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT coalesce(bit_or(1::bigint << (hash & 63)), 0)
        FROM (SELECT get_byte(decode(md5(lexeme), 'hex'), 0) AS hash
              FROM unnest(tsvector_to_array(document)) AS lexeme) AS hashed
        WHERE (hash >> 6) & 1 = half
    $$""",
    """ALTER TABLE search_document
        ADD COLUMN signature_low bigint GENERATED ALWAYS AS (search_signature(agent_text, 0)) STORED,
        ADD COLUMN signature_high bigint GENERATED ALWAYS AS (search_signature(agent_text, 1)) STORED""",
    """CREATE UNIQUE INDEX search_document_walk ON search_document (ticket_id)
        INCLUDE (department_id, assignee_id, signature_low, signature_high)""",
    """ALTER TABLE search_document DROP CONSTRAINT search_document_pkey,
        ADD CONSTRAINT search_document_pkey PRIMARY KEY USING INDEX search_document_walk""",
    """ALTER TABLE search_document SET (autovacuum_vacuum_scale_factor = 0.02,
        autovacuum_vacuum_insert_scale_factor = 0.02)""",
    # Up to `want` ids of documents below `below` that match `words` and are in one of `departments` or
    # assigned to `assignee` (NULL departments: all), newest first, testing at most `candidates`
    # documents that have every bit of the query's signature (`low`, `high`); a final 0 says the
    # candidates ran out first, so every document below `below` was looked at.
    # The loop is a cursor, which PostgreSQL plans to return its first rows fast: it walks the primary
    # key backwards, index-only, instead of sorting every candidate. Its cost estimate is that of walking
    # everything (~70,000 at 1 M documents), so a larger table would pass the JIT threshold (100,000)
    # and spend tens of milliseconds compiling a walk that stops early.
    """CREATE OR REPLACE FUNCTION search_walk(words tsquery, low bigint, high bigint, below bigint,
                                              departments bigint[], assignee bigint, want integer,
                                              candidates integer)
    RETURNS SETOF bigint LANGUAGE plpgsql STABLE SET jit = off AS $$
    DECLARE
        candidate record;
        matches integer := 0;
        tested integer := 0;
    BEGIN
        FOR candidate IN
            SELECT d.ticket_id,
                   (SELECT m.agent_text @@ words FROM search_document m WHERE m.ticket_id = d.ticket_id) AS hit
            FROM search_document d
            WHERE d.ticket_id < below AND d.signature_low & low = low AND d.signature_high & high = high
              AND (departments IS NULL OR d.department_id = ANY(departments) OR d.assignee_id = assignee)
            ORDER BY d.ticket_id DESC
        LOOP
            IF candidate.hit THEN
                RETURN NEXT candidate.ticket_id;
                matches := matches + 1;
                IF matches = want THEN
                    RETURN;
                END IF;
            END IF;
            tested := tested + 1;
            IF tested = candidates THEN
                RETURN;
            END IF;
        END LOOP;
        RETURN NEXT 0;
    END
    $$""",
]
POSTGRES_BACKWARD = [
    "ALTER TABLE search_document RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_insert_scale_factor)",
    "ALTER TABLE search_document DROP CONSTRAINT search_document_pkey",
    "ALTER TABLE search_document DROP COLUMN signature_low, DROP COLUMN signature_high",
    "ALTER TABLE search_document ADD PRIMARY KEY (ticket_id)",
    "DROP FUNCTION IF EXISTS search_walk(tsquery, bigint, bigint, bigint, bigint[], bigint, integer, integer)",
    "DROP FUNCTION IF EXISTS search_signature(tsvector, integer)",
]


def _refresh(ticket: str) -> str:
    """SQLite statements that rebuild the FTS row of the ticket whose id is the expression `ticket`."""
    return f"""
        DELETE FROM search_document_fts WHERE rowid = {ticket};
        INSERT INTO search_document_fts (rowid, public_text, notes)
        SELECT t.id,
               t.subject || char(10) || t.description || coalesce(char(10) || (SELECT group_concat(body, char(10))
                   FROM tickets_message WHERE ticket_id = t.id AND kind = 'reply'), ''),
               coalesce((SELECT group_concat(body, char(10))
                   FROM tickets_message WHERE ticket_id = t.id AND kind <> 'reply'), '')
        FROM tickets_ticket t WHERE t.id = {ticket};"""


SQLITE_TRIGGERS = (
    "search_document_ticket_ai",
    "search_document_ticket_au",
    "search_document_ticket_ad",
    "search_document_message_ai",
    "search_document_message_au",
    "search_document_message_ad",
)
SQLITE_FORWARD = [
    *(
        f"DROP TRIGGER IF EXISTS {name}"
        for name in (
            "search_ticket_ai",
            "search_ticket_ad",
            "search_ticket_au",
            "search_message_ai",
            "search_message_ad",
            "search_message_au",
        )
    ),
    "DROP TABLE IF EXISTS search_ticket_fts",
    "DROP TABLE IF EXISTS search_message_fts",
    """CREATE VIRTUAL TABLE search_document_fts USING fts5(
        public_text, notes, tokenize='unicode61 remove_diacritics 2')""",
    f"CREATE TRIGGER search_document_ticket_ai AFTER INSERT ON tickets_ticket BEGIN {_refresh('new.id')} END",
    # WHEN: an UPDATE that names these columns without changing them leaves the document alone.
    f"""CREATE TRIGGER search_document_ticket_au AFTER UPDATE OF id, subject, description ON tickets_ticket
    WHEN old.id IS NOT new.id OR old.subject IS NOT new.subject OR old.description IS NOT new.description BEGIN
        DELETE FROM search_document_fts WHERE rowid = old.id; {_refresh("new.id")}
    END""",
    """CREATE TRIGGER search_document_ticket_ad AFTER DELETE ON tickets_ticket BEGIN
        DELETE FROM search_document_fts WHERE rowid = old.id;
    END""",
    # The common case (a new reply or note): append to the ticket's row instead of rebuilding it.
    """CREATE TRIGGER search_document_message_ai AFTER INSERT ON tickets_message BEGIN
        UPDATE search_document_fts SET public_text = public_text || char(10) || new.body
        WHERE rowid = new.ticket_id AND new.kind = 'reply';
        UPDATE search_document_fts SET notes = notes || char(10) || new.body
        WHERE rowid = new.ticket_id AND new.kind <> 'reply';
    END""",
    f"""CREATE TRIGGER search_document_message_au AFTER UPDATE OF body, kind, ticket_id ON tickets_message BEGIN
        {_refresh("old.ticket_id")} {_refresh("new.ticket_id")}
    END""",
    f"CREATE TRIGGER search_document_message_ad AFTER DELETE ON tickets_message BEGIN {_refresh('old.ticket_id')} END",
    # Index what existed before this migration, then merge the index into one segment.
    """INSERT INTO search_document_fts (rowid, public_text, notes)
    SELECT t.id, t.subject || char(10) || t.description || coalesce(char(10) || r.body, ''), coalesce(n.body, '')
    FROM tickets_ticket t
    LEFT JOIN (SELECT ticket_id, group_concat(body, char(10)) AS body FROM tickets_message
               WHERE kind = 'reply' GROUP BY ticket_id) r ON r.ticket_id = t.id
    LEFT JOIN (SELECT ticket_id, group_concat(body, char(10)) AS body FROM tickets_message
               WHERE kind <> 'reply' GROUP BY ticket_id) n ON n.ticket_id = t.id""",
    "INSERT INTO search_document_fts (search_document_fts) VALUES ('optimize')",
]


def _sqlite_backward() -> list[str]:
    previous = importlib.import_module("tessera.search.migrations.0001_fulltext")
    drop = [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS]
    return [*drop, "DROP TABLE IF EXISTS search_document_fts", *previous.SQLITE_FORWARD]


def _run(statements: dict[str, Any]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        chosen = statements.get(schema_editor.connection.vendor, [])
        for sql in chosen() if callable(chosen) else chosen:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0002_search_document")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": POSTGRES_BACKWARD, "sqlite": _sqlite_backward}),
        )
    ]
