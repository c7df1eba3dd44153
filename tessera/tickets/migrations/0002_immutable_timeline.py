"""The database itself refuses to change a timeline event, whatever code path tries.

Deletes are refused by the model and by PROTECT foreign keys rather than a trigger, because test
databases are emptied with DELETE (SQLite) between transactional tests.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

SQLITE = (
    "CREATE TRIGGER tessera_timeline_immutable BEFORE UPDATE ON tickets_timelineevent "
    "BEGIN SELECT RAISE(ABORT, 'timeline events are immutable'); END;"
)
POSTGRES = (
    "CREATE OR REPLACE FUNCTION tessera_timeline_immutable() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'timeline events are immutable'; END; $$ LANGUAGE plpgsql;",
    "CREATE TRIGGER tessera_timeline_immutable BEFORE UPDATE ON tickets_timelineevent "
    "FOR EACH ROW EXECUTE FUNCTION tessera_timeline_immutable();",
)


def create(apps: Any, schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    statements = (SQLITE,) if vendor == "sqlite" else POSTGRES if vendor == "postgresql" else ()
    for statement in statements:
        schema_editor.execute(statement)


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor in {"sqlite", "postgresql"}:
        schema_editor.execute("DROP TRIGGER IF EXISTS tessera_timeline_immutable"
                              + (" ON tickets_timelineevent" if schema_editor.connection.vendor == "postgresql" else ""))


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
