"""Migration operations of our own."""

from __future__ import annotations

from typing import Any

from django.db import migrations
from django.db.models import Index


class AlterFieldIndex(migrations.AlterField):
    """An AlterField that changes only the field's `db_index`: it drops or creates that one index.

    Django's AlterField rebuilds the whole table on SQLite (copy, drop, rename), which also drops the
    table's triggers (search documents, the immutable timeline) and rewrites every row."""

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        self._switch(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        self._switch(app_label, schema_editor, from_state, to_state)

    def _switch(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        old_model = from_state.apps.get_model(app_label, self.model_name)
        new_model = to_state.apps.get_model(app_label, self.model_name)
        old, new = old_model._meta.get_field(self.name), new_model._meta.get_field(self.name)
        if {key: value for key, value in old.deconstruct()[3].items() if key != "db_index"} != {
            key: value for key, value in new.deconstruct()[3].items() if key != "db_index"
        }:
            raise ValueError(f"AlterFieldIndex changes db_index only, not the rest of {self.name}")
        if old.db_index and not new.db_index:
            # As Django's own AlterField finds it: a btree index on this column alone, not one of Meta.indexes
            # (on PostgreSQL also the `_like` twin of a text column).
            names = schema_editor._constraint_names(
                old_model,
                [old.column],
                index=True,
                type_=Index.suffix,
                exclude={index.name for index in old_model._meta.indexes},
            )
            for name in names:
                schema_editor.execute(schema_editor._delete_index_sql(old_model, name))
        elif new.db_index and not old.db_index:
            for sql in schema_editor._field_indexes_sql(new_model, new):  # with PostgreSQL's `_like` twin
                schema_editor.execute(sql)
