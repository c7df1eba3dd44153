"""The full-text index over tickets and messages, in each database's own engine.

SQLite: two FTS5 external-content tables (no copy of the text) kept by triggers.
PostgreSQL: GIN expression indexes, which PostgreSQL itself maintains.
Either way the index is written by the same statement as the row, so it cannot drift from the tickets.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

SQLITE_FORWARD = [
    """CREATE VIRTUAL TABLE search_ticket_fts USING fts5(
        subject, description, content='tickets_ticket', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
    """CREATE VIRTUAL TABLE search_message_fts USING fts5(
        body, content='tickets_message', content_rowid='id', tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER search_ticket_ai AFTER INSERT ON tickets_ticket BEGIN
        INSERT INTO search_ticket_fts(rowid, subject, description) VALUES (new.id, new.subject, new.description);
    END""",
    """CREATE TRIGGER search_ticket_ad AFTER DELETE ON tickets_ticket BEGIN
        INSERT INTO search_ticket_fts(search_ticket_fts, rowid, subject, description)
        VALUES ('delete', old.id, old.subject, old.description);
    END""",
    """CREATE TRIGGER search_ticket_au AFTER UPDATE OF subject, description ON tickets_ticket BEGIN
        INSERT INTO search_ticket_fts(search_ticket_fts, rowid, subject, description)
        VALUES ('delete', old.id, old.subject, old.description);
        INSERT INTO search_ticket_fts(rowid, subject, description) VALUES (new.id, new.subject, new.description);
    END""",
    """CREATE TRIGGER search_message_ai AFTER INSERT ON tickets_message BEGIN
        INSERT INTO search_message_fts(rowid, body) VALUES (new.id, new.body);
    END""",
    """CREATE TRIGGER search_message_ad AFTER DELETE ON tickets_message BEGIN
        INSERT INTO search_message_fts(search_message_fts, rowid, body) VALUES ('delete', old.id, old.body);
    END""",
    """CREATE TRIGGER search_message_au AFTER UPDATE OF body ON tickets_message BEGIN
        INSERT INTO search_message_fts(search_message_fts, rowid, body) VALUES ('delete', old.id, old.body);
        INSERT INTO search_message_fts(rowid, body) VALUES (new.id, new.body);
    END""",
    # Index what existed before this migration.
    "INSERT INTO search_ticket_fts(search_ticket_fts) VALUES ('rebuild')",
    "INSERT INTO search_message_fts(search_message_fts) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
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
]

# The expressions must match tessera/search/services.py exactly, or PostgreSQL will not use the indexes.
# 'simple': no stemming, because tickets arrive in English, Italian, Polish and French alike.
POSTGRES_FORWARD = [
    """CREATE INDEX IF NOT EXISTS search_ticket_fts ON tickets_ticket
        USING GIN (to_tsvector('simple'::regconfig, subject || ' ' || description))""",
    """CREATE INDEX IF NOT EXISTS search_message_fts ON tickets_message
        USING GIN (to_tsvector('simple'::regconfig, body))""",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS search_ticket_fts",
    "DROP INDEX IF EXISTS search_message_fts",
]


def _run(statements: dict[str, list[str]]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("tickets", "0004_ticket_customer_service")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        )
    ]
