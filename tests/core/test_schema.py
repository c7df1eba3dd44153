"""Indexes are pages every insert writes: none may repeat what another index already gives."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.db import connection

pytestmark = pytest.mark.django_db


def _indexes(table: str) -> dict[str, dict[str, Any]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {name: info for name, info in constraints.items() if info["index"] and not info["primary_key"]}


def test_no_single_column_index_is_the_prefix_of_another_index() -> None:
    redundant = []
    for model in apps.get_models():
        if not model.__module__.startswith("tessera.") or not model._meta.managed:
            continue
        indexes = _indexes(model._meta.db_table)
        partial = {index.name for index in model._meta.indexes if index.condition is not None}
        for name, info in indexes.items():
            if info["unique"] or len(info["columns"]) != 1 or name in partial or name.endswith("_like"):
                continue
            column = info["columns"][0]
            covering = [
                other
                for other, other_info in indexes.items()
                if other != name
                and other not in partial
                and not other.endswith("_like")  # PostgreSQL's pattern-ops twin of a text column's index
                and other_info["columns"][:1] == [column]
            ]
            if covering:
                redundant.append(f"{model._meta.db_table}.{name} (covered by {', '.join(sorted(covering))})")
    assert redundant == [], "\n".join(redundant)


def test_the_dropped_indexes_are_gone_and_the_partial_ones_answer_lookups() -> None:
    ticket_indexes = _indexes("tickets_ticket")
    assert not any(info["columns"] == ["assignee_id"] for info in ticket_indexes.values())
    assert {"ticket_merged_into_idx", "ticket_customer_service_idx"} <= set(ticket_indexes)
    sla_columns = {tuple(info["columns"]) for info in _indexes("sla_ticketsla").values()}
    assert ("first_response_due",) not in sla_columns and ("due_at",) in sla_columns
    # A foreign key lookup (what PROTECT and SET_NULL run when a row is deleted) uses the partial index.
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN SELECT id FROM tickets_ticket WHERE merged_into_id = 12345")
            plan = " ".join(str(column) for row in cursor.fetchall() for column in row)
        else:
            # An empty test table is read sequentially whatever its indexes: check the index is eligible.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN SELECT id FROM tickets_ticket WHERE merged_into_id = 12345")
            plan = " ".join(row[0] for row in cursor.fetchall())
    assert "ticket_merged_into_idx" in plan


def test_the_tables_keep_their_triggers() -> None:
    # The SQLite rebuild Django's AlterField would run drops a table's triggers (tessera.core.migration_ops).
    if connection.vendor == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s"
    else:
        query = "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal"
    with connection.cursor() as cursor:
        cursor.execute(query, ["search_searchdocument"])
        search_triggers = {row[0] for row in cursor.fetchall()}
        cursor.execute(query, ["tickets_timelineevent"])
        event_triggers = {row[0] for row in cursor.fetchall()}
    # SQLite's FTS5 index of the search documents is kept by triggers; PostgreSQL's GIN indexes need none.
    assert len(search_triggers) == (3 if connection.vendor == "sqlite" else 0)
    assert event_triggers
