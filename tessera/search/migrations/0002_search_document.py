"""PostgreSQL: one search document per ticket instead of expression indexes on tickets and messages.

`search_document` holds, per ticket, two tsvectors — `public_text` (subject, description and public
replies: what a customer may match) and `agent_text` (the same plus internal notes) — and the two
columns agent visibility depends on (`department_id`, `assignee_id`). Triggers on tickets_ticket and
tickets_message write it in the same statement as the change, so it cannot drift from the tickets; a
TRUNCATE of the tickets empties it too (test database flushes).

Why: the expression indexes made a search a UNION over 1 M tickets and 5.75 M messages, with a heap visit
per message hit; a single narrow row per ticket lets a page of "newest matching tickets" be read either
by walking the newest documents or from one GIN index (see services.py).

SQLite keeps the FTS5 tables of 0001.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

# 'simple': no stemming, because tickets arrive in English, Italian, Polish and French alike. Any message
# kind other than 'reply' is treated as internal (never matched for customers).
POSTGRES_FORWARD = [
    """CREATE TABLE IF NOT EXISTS search_document (
        ticket_id bigint PRIMARY KEY,
        department_id bigint NOT NULL,
        assignee_id bigint NULL,
        public_text tsvector NOT NULL,
        agent_text tsvector NOT NULL
    )""",
    # Recompute one ticket's document from scratch (or drop it when the ticket is gone).
    """CREATE OR REPLACE FUNCTION search_document_refresh(ticket bigint) RETURNS void
    LANGUAGE sql AS $$
        INSERT INTO search_document AS d (ticket_id, department_id, assignee_id, public_text, agent_text)
        SELECT t.id, t.department_id, t.assignee_id, p.v,
               p.v || to_tsvector('simple'::regconfig, coalesce(m.notes, ''))
        FROM tickets_ticket t
        CROSS JOIN LATERAL (
            SELECT string_agg(body, E'\\n' ORDER BY id) FILTER (WHERE kind = 'reply') AS replies,
                   string_agg(body, E'\\n' ORDER BY id) FILTER (WHERE kind <> 'reply') AS notes
            FROM tickets_message WHERE ticket_id = t.id
        ) m
        CROSS JOIN LATERAL (
            SELECT to_tsvector('simple'::regconfig, t.subject || ' ' || t.description)
                   || to_tsvector('simple'::regconfig, coalesce(m.replies, '')) AS v
        ) p
        WHERE t.id = ticket
        ON CONFLICT (ticket_id) DO UPDATE SET department_id = excluded.department_id,
            assignee_id = excluded.assignee_id, public_text = excluded.public_text,
            agent_text = excluded.agent_text;
        DELETE FROM search_document
        WHERE ticket_id = ticket AND NOT EXISTS (SELECT 1 FROM tickets_ticket WHERE id = ticket);
    $$""",
    """CREATE OR REPLACE FUNCTION search_document_ticket_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM search_document WHERE ticket_id = OLD.id;
        ELSIF TG_OP = 'INSERT'
              OR OLD.subject IS DISTINCT FROM NEW.subject
              OR OLD.description IS DISTINCT FROM NEW.description
              OR OLD.id IS DISTINCT FROM NEW.id THEN
            IF TG_OP = 'UPDATE' AND OLD.id IS DISTINCT FROM NEW.id THEN
                DELETE FROM search_document WHERE ticket_id = OLD.id;
            END IF;
            PERFORM search_document_refresh(NEW.id);
        ELSIF OLD.department_id IS DISTINCT FROM NEW.department_id
              OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id THEN
            UPDATE search_document SET department_id = NEW.department_id, assignee_id = NEW.assignee_id
            WHERE ticket_id = NEW.id;
        END IF;
        RETURN NULL;
    END
    $$""",
    """CREATE OR REPLACE FUNCTION search_document_message_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        added tsvector;
    BEGIN
        IF TG_OP = 'INSERT' THEN
            -- The common case (a new reply or note): append to the document instead of rebuilding it.
            added := to_tsvector('simple'::regconfig, NEW.body);
            UPDATE search_document
            SET agent_text = agent_text || added,
                public_text = CASE WHEN NEW.kind = 'reply' THEN public_text || added ELSE public_text END
            WHERE ticket_id = NEW.ticket_id;
            IF NOT FOUND THEN
                PERFORM search_document_refresh(NEW.ticket_id);
            END IF;
            RETURN NULL;
        END IF;
        PERFORM search_document_refresh(OLD.ticket_id);
        IF TG_OP = 'UPDATE' AND NEW.ticket_id IS DISTINCT FROM OLD.ticket_id THEN
            PERFORM search_document_refresh(NEW.ticket_id);
        END IF;
        RETURN NULL;
    END
    $$""",
    """CREATE OR REPLACE FUNCTION search_document_truncate() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        TRUNCATE search_document;
        RETURN NULL;
    END
    $$""",
    "DROP TRIGGER IF EXISTS search_document_ticket ON tickets_ticket",
    """CREATE TRIGGER search_document_ticket AFTER INSERT OR DELETE OR UPDATE OF
        id, subject, description, department_id, assignee_id ON tickets_ticket
        FOR EACH ROW EXECUTE FUNCTION search_document_ticket_changed()""",
    "DROP TRIGGER IF EXISTS search_document_message ON tickets_message",
    """CREATE TRIGGER search_document_message AFTER INSERT OR DELETE OR UPDATE OF
        body, kind, ticket_id ON tickets_message
        FOR EACH ROW EXECUTE FUNCTION search_document_message_changed()""",
    "DROP TRIGGER IF EXISTS search_document_truncate ON tickets_ticket",
    """CREATE TRIGGER search_document_truncate AFTER TRUNCATE ON tickets_ticket
        FOR EACH STATEMENT EXECUTE FUNCTION search_document_truncate()""",
    # Index what existed before this migration, in ticket order (the newest-first walk reads the
    # table backwards along the primary key).
    """INSERT INTO search_document (ticket_id, department_id, assignee_id, public_text, agent_text)
    SELECT t.id, t.department_id, t.assignee_id, p.v,
           p.v || to_tsvector('simple'::regconfig, coalesce(m.notes, ''))
    FROM tickets_ticket t
    LEFT JOIN (
        SELECT ticket_id,
               string_agg(body, E'\\n' ORDER BY id) FILTER (WHERE kind = 'reply') AS replies,
               string_agg(body, E'\\n' ORDER BY id) FILTER (WHERE kind <> 'reply') AS notes
        FROM tickets_message GROUP BY ticket_id
    ) m ON m.ticket_id = t.id
    CROSS JOIN LATERAL (
        SELECT to_tsvector('simple'::regconfig, t.subject || ' ' || t.description)
               || to_tsvector('simple'::regconfig, coalesce(m.replies, '')) AS v
    ) p
    ORDER BY t.id
    ON CONFLICT (ticket_id) DO NOTHING""",
    "CREATE INDEX IF NOT EXISTS search_document_agent_text ON search_document USING GIN (agent_text)",
    "ANALYZE search_document",
    # The expression indexes of 0001 are no longer read; they only slowed every write.
    "DROP INDEX IF EXISTS search_ticket_fts",
    "DROP INDEX IF EXISTS search_message_fts",
]

POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS search_document_ticket ON tickets_ticket",
    "DROP TRIGGER IF EXISTS search_document_message ON tickets_message",
    "DROP TRIGGER IF EXISTS search_document_truncate ON tickets_ticket",
    "DROP FUNCTION IF EXISTS search_document_ticket_changed()",
    "DROP FUNCTION IF EXISTS search_document_message_changed()",
    "DROP FUNCTION IF EXISTS search_document_truncate()",
    "DROP FUNCTION IF EXISTS search_document_refresh(bigint)",
    "DROP TABLE IF EXISTS search_document",
    """CREATE INDEX IF NOT EXISTS search_ticket_fts ON tickets_ticket
        USING GIN (to_tsvector('simple'::regconfig, subject || ' ' || description))""",
    """CREATE INDEX IF NOT EXISTS search_message_fts ON tickets_message
        USING GIN (to_tsvector('simple'::regconfig, body))""",
]


def _run(statements: list[str]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0001_fulltext")]

    operations = [migrations.RunPython(_run(POSTGRES_FORWARD), _run(POSTGRES_BACKWARD))]
