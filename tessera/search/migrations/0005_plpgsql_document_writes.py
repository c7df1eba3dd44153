"""PostgreSQL: write a new ticket's search document without re-planning SQL on every row.

Both SQL-language functions of 0002/0003 are planned afresh on every call, and a new ticket called
three of them (the refresh, then the signature twice for the generated columns): about 450 µs of the
ticket INSERT's 570 µs. PL/pgSQL keeps each statement's plan for the session instead. So:

- `search_signature` runs the same query from PL/pgSQL: same result (the generated columns need not be
  recomputed), its plan cached.
- A new ticket's document is written straight from the new row. Only when messages already name the
  ticket (foreign keys are deferred, so a transaction may insert them first) is it rebuilt from them.

The rows written are the same as before: tests/search compares them with `search_document_refresh`.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

SIGNATURE = """CREATE OR REPLACE FUNCTION search_signature(document tsvector, half integer) RETURNS bigint
    LANGUAGE {language} IMMUTABLE PARALLEL SAFE AS $$
    {body}
    $$"""
SIGNATURE_QUERY = """SELECT coalesce(bit_or(1::bigint << (hash & 63)), 0)
        FROM (SELECT get_byte(decode(md5(lexeme), 'hex'), 0) AS hash
              FROM unnest(tsvector_to_array(document)) AS lexeme) AS hashed
        WHERE (hash >> 6) & 1 = half"""

TICKET_CHANGED = """CREATE OR REPLACE FUNCTION search_document_ticket_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        text_of_ticket tsvector;
    BEGIN
        IF TG_OP = 'DELETE' THEN
            DELETE FROM search_document WHERE ticket_id = OLD.id;
        ELSIF TG_OP = 'INSERT' {insert_branch}
        ELSIF OLD.subject IS DISTINCT FROM NEW.subject
              OR OLD.description IS DISTINCT FROM NEW.description
              OR OLD.id IS DISTINCT FROM NEW.id THEN
            IF OLD.id IS DISTINCT FROM NEW.id THEN
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
    $$"""

# Without messages, search_document_refresh's document is the subject and description alone.
INSERT_FROM_ROW = """THEN
            IF EXISTS (SELECT 1 FROM tickets_message WHERE ticket_id = NEW.id) THEN
                PERFORM search_document_refresh(NEW.id);
            ELSE
                text_of_ticket := to_tsvector('simple'::regconfig, NEW.subject || ' ' || NEW.description);
                INSERT INTO search_document (ticket_id, department_id, assignee_id, public_text, agent_text)
                VALUES (NEW.id, NEW.department_id, NEW.assignee_id, text_of_ticket, text_of_ticket)
                ON CONFLICT (ticket_id) DO UPDATE SET department_id = excluded.department_id,
                    assignee_id = excluded.assignee_id, public_text = excluded.public_text,
                    agent_text = excluded.agent_text;
            END IF;"""
INSERT_BY_REFRESH = """THEN
            PERFORM search_document_refresh(NEW.id);"""

POSTGRES_FORWARD = [
    SIGNATURE.format(
        language="plpgsql",
        body=f"BEGIN\n        RETURN ({SIGNATURE_QUERY});\n    END",
    ),
    TICKET_CHANGED.format(insert_branch=INSERT_FROM_ROW),
]
POSTGRES_BACKWARD = [
    SIGNATURE.format(language="sql", body=SIGNATURE_QUERY),
    TICKET_CHANGED.format(insert_branch=INSERT_BY_REFRESH),
]


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES_FORWARD:
            schema_editor.execute(statement)


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for statement in POSTGRES_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("search", "0004_vacuum_search_document")]

    operations = [migrations.RunPython(forward, backward)]
