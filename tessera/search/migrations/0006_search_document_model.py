"""Search documents as a Django model (tessera.search.models.SearchDocument), written by the search services.

Drops the machinery of 0001-0005 (triggers on tickets and messages, the PL/pgSQL functions, the
signature walk, the hand-made search_document table), creates the model's table, then its index:
PostgreSQL GIN indexes on the two tsvector columns (and two table settings, below); SQLite an FTS5 table
over the two text columns, kept in step by the three triggers FTS5's documentation gives for an
external-content table. Existing tickets are indexed with the frozen copy of the document below
(historical models).
"""

from __future__ import annotations

from typing import Any

import django.db.models.deletion
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations, models

import tessera.search.models

POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS search_document_ticket ON tickets_ticket",
    "DROP TRIGGER IF EXISTS search_document_message ON tickets_message",
    "DROP TRIGGER IF EXISTS search_document_truncate ON tickets_ticket",
    "DROP FUNCTION IF EXISTS search_walk(tsquery, bigint, bigint, bigint, bigint[], bigint, integer, integer)",
    "DROP FUNCTION IF EXISTS search_document_ticket_changed()",
    "DROP FUNCTION IF EXISTS search_document_message_changed()",
    "DROP FUNCTION IF EXISTS search_document_truncate()",
    "DROP FUNCTION IF EXISTS search_document_refresh(bigint)",
    "DROP TABLE IF EXISTS search_document",
    "DROP FUNCTION IF EXISTS search_signature(tsvector, integer)",
]
SQLITE_DROP = [
    *(
        f"DROP TRIGGER IF EXISTS search_document_{table}_{event}"
        for table in ("ticket", "message")
        for event in ("ai", "au", "ad")
    ),
    "DROP TABLE IF EXISTS search_document_fts",
]

FTS5 = "search_searchdocument_fts"
SQLITE_INDEX = [
    f"""CREATE VIRTUAL TABLE {FTS5} USING fts5(public, everything, content='search_searchdocument',
        content_rowid='ticket_id', tokenize='unicode61 remove_diacritics 2')""",
    f"""CREATE TRIGGER {FTS5}_ai AFTER INSERT ON search_searchdocument BEGIN
        INSERT INTO {FTS5} (rowid, public, everything) VALUES (new.ticket_id, new.public, new.everything);
    END""",
    f"""CREATE TRIGGER {FTS5}_ad AFTER DELETE ON search_searchdocument BEGIN
        INSERT INTO {FTS5} ({FTS5}, rowid, public, everything)
        VALUES ('delete', old.ticket_id, old.public, old.everything);
    END""",
    f"""CREATE TRIGGER {FTS5}_au AFTER UPDATE ON search_searchdocument BEGIN
        INSERT INTO {FTS5} ({FTS5}, rowid, public, everything)
        VALUES ('delete', old.ticket_id, old.public, old.everything);
        INSERT INTO {FTS5} (rowid, public, everything) VALUES (new.ticket_id, new.public, new.everything);
    END""",
]
SQLITE_UNINDEX = [f"DROP TRIGGER IF EXISTS {FTS5}_{event}" for event in ("ai", "ad", "au")] + [
    f"DROP TABLE IF EXISTS {FTS5}"
]
# Measured at 200,000 tickets (docs/decisions/0001-search-documents.md): documents of a few KB stay in the
# table's own pages instead of TOAST, so testing one while walking the newest costs ~0.4 µs instead of
# ~3.6 µs; and 10,000 tracked lexemes let the planner see that a word it does not know is rare.
POSTGRES_SETTINGS = [
    "ALTER TABLE search_searchdocument SET (toast_tuple_target = 8160)",
    "ALTER TABLE search_searchdocument ALTER COLUMN everything SET STATISTICS 1000",
]
POSTGRES_RESET = [
    "ALTER TABLE search_searchdocument RESET (toast_tuple_target)",
    "ALTER TABLE search_searchdocument ALTER COLUMN everything SET STATISTICS -1",
]
GIN_INDEXES = [
    GinIndex(fields=["public"], name="search_document_public"),
    GinIndex(fields=["everything"], name="search_document_everything"),
]


def drop_old(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    for sql in {"postgresql": POSTGRES_DROP, "sqlite": SQLITE_DROP}.get(vendor, []):
        schema_editor.execute(sql)


def add_index(apps: Any, schema_editor: Any) -> None:
    model = apps.get_model("search", "SearchDocument")
    if schema_editor.connection.vendor == "postgresql":
        for index in GIN_INDEXES:
            schema_editor.add_index(model, index)
        for sql in POSTGRES_SETTINGS:
            schema_editor.execute(sql)
    elif schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_INDEX:
            schema_editor.execute(sql)


def remove_index(apps: Any, schema_editor: Any) -> None:
    model = apps.get_model("search", "SearchDocument")
    if schema_editor.connection.vendor == "postgresql":
        for sql in POSTGRES_RESET:
            schema_editor.execute(sql)
        for index in GIN_INDEXES:
            schema_editor.remove_index(model, index)
    elif schema_editor.connection.vendor == "sqlite":
        for sql in SQLITE_UNINDEX:
            schema_editor.execute(sql)


def index_existing(apps: Any, schema_editor: Any) -> None:
    """The documents of the tickets that exist (a frozen copy of services._document)."""
    ticket_model = apps.get_model("tickets", "Ticket")
    message_model = apps.get_model("tickets", "Message")
    document_model = apps.get_model("search", "SearchDocument")
    postgres = schema_editor.connection.vendor == "postgresql"
    configs = {"en": "english", "it": "italian", "fr": "french"}
    details = ("affected_service", "server_ip", "order_number", "error_message", "recent_changes", "diagnostics")

    def vector(text: str, config: str) -> Any:
        simple = SearchVector(models.Value(text), config="simple")
        return simple if config == "simple" else SearchVector(models.Value(text), config=config) + simple

    for ticket in ticket_model.objects.select_related("requester").order_by("pk").iterator(chunk_size=500):
        public = [ticket.subject, ticket.description, *(str(v) for n in details if (v := getattr(ticket, n)))]
        notes = []
        for kind, body in message_model.objects.filter(ticket=ticket).order_by("id").values_list("kind", "body"):
            (public if kind == "reply" else notes).append(body)
        public_text = "\n".join(public)
        everything = "\n".join([public_text, *notes])
        if postgres:
            config = configs.get(ticket.requester.language, "simple")
            document_model.objects.create(
                ticket=ticket, public=vector(public_text, config), everything=vector(everything, config)
            )
        else:
            document_model.objects.create(ticket=ticket, public=public_text, everything=everything)


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0005_plpgsql_document_writes"),
        ("tickets", "0006_fewer_indexes"),
    ]

    operations = [
        migrations.RunPython(drop_old, migrations.RunPython.noop),
        migrations.CreateModel(
            name="SearchDocument",
            fields=[
                (
                    "ticket",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search_document",
                        serialize=False,
                        to="tickets.ticket",
                    ),
                ),
                ("public", tessera.search.models.DocumentField()),
                ("everything", tessera.search.models.DocumentField()),
            ],
        ),
        migrations.RunPython(add_index, remove_index),
        migrations.RunPython(index_existing, migrations.RunPython.noop),
    ]
