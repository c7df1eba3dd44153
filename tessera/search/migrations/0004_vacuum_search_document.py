"""PostgreSQL: VACUUM the search documents rewritten by 0003 (outside a transaction, as VACUUM requires).

Until a VACUUM sets the visibility map of the new table, the index-only walk of services.py has to visit
the heap for every document; ANALYZE refreshes the lexeme frequencies that choose between walk and GIN.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def vacuum(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("VACUUM (ANALYZE) search_document")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("search", "0003_walk_signature")]

    operations = [migrations.RunPython(vacuum, migrations.RunPython.noop)]
