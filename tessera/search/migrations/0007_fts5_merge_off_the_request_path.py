"""SQLite: FTS5 no longer merges its index segments inside the writes (`automerge` 0); the periodic task
`search.merge` does it in small steps (tessera.search.services.merge_index). `crisismerge` stays as FTS5's
own safety valve if no worker runs: at that many segments on one level, the write merges them at once.

Measured at 100,000 tickets (docs/benchmarks.md): with FTS5's defaults, one ticket creation in ~15 held the
write lock 0.8-1.2 s while merging. The settings are stored in the FTS5 table's config, so they hold for
every connection.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

FTS5 = "search_searchdocument_fts"
SETTINGS = {"automerge": 0, "crisismerge": 64}
DEFAULTS = {"automerge": 4, "crisismerge": 16}


def configure(values: dict[str, int]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "sqlite":
            return
        for name, value in values.items():
            schema_editor.execute(f"INSERT INTO {FTS5} ({FTS5}, rank) VALUES (%s, %s)", [name, value])

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0006_search_document_model")]

    operations = [migrations.RunPython(configure(SETTINGS), configure(DEFAULTS))]
