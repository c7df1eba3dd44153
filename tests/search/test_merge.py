"""The FTS5 index is merged by the periodic task, off the request path, and search finds the same tickets."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from tessera.core import schedule
from tessera.core.worker import run_pending_tasks
from tessera.search.services import FTS5_TABLE, merge_index, search_tickets
from tessera.search.tasks import merge_search_index
from tessera.tickets import services
from tests import factories

# Committed transactions, as in production: every committed write adds its own FTS5 segment.
pytestmark = pytest.mark.django_db(transaction=True)

QUERIES = ["printer", "toner cartridge", "wombat", "paper", "kerberos"]


def found(user: Any) -> dict[str, set[int]]:
    return {query: {t.pk for t in search_tickets(user, query).items} for query in QUERIES}


# Constant SQL over the FTS5 table's shadow tables (its config and its segment pages).
AUTOMERGE = f"SELECT v FROM {FTS5_TABLE}_config WHERE k = 'automerge'"  # noqa: S608
INDEX_ROWS = f"SELECT count(*) FROM {FTS5_TABLE}_data"  # noqa: S608
INTEGRITY_CHECK = f"INSERT INTO {FTS5_TABLE} ({FTS5_TABLE}, rank) VALUES ('integrity-check', 1)"  # noqa: S608


def fts5(sql: str) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def test_the_merge_task_runs_and_search_finds_the_same_tickets() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    tickets = [
        factories.ticket(
            carla, subject=f"Printer {n} jammed", description="paper" if n % 2 else "toner cartridge"
        )
        for n in range(12)
    ]
    services.add_reply(actor=carla, ticket=tickets[3], body="a wombat in the paper tray")
    before = found(agent)
    assert before["printer"] == {t.pk for t in tickets}
    assert before["wombat"] == {tickets[3].pk}
    assert before["kerberos"] == set()
    if connection.vendor == "sqlite":
        assert fts5(AUTOMERGE) == [(0,)]  # migration 0007
        assert "search.merge" in {job.name for job in schedule.jobs()}
        rows_before = fts5(INDEX_ROWS)[0][0]

    merge_search_index.enqueue()
    run_pending_tasks()

    assert found(agent) == before
    if connection.vendor == "sqlite":
        # The segments were merged: fewer index rows, the index agrees with its content, nothing left to do.
        assert fts5(INDEX_ROWS)[0][0] < rows_before
        fts5(INTEGRITY_CHECK)
        assert merge_index() == 0
    else:
        assert merge_index() == 0  # PostgreSQL's GIN indexes need no merging


def test_tickets_written_after_a_merge_are_found_with_the_older_ones() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    old = factories.ticket(carla, subject="Kerberos ticket expired", description="login fails")
    merge_index()
    new = factories.ticket(carla, subject="Kerberos again", description="login fails")
    assert {t.pk for t in search_tickets(agent, "kerberos login").items} == {old.pk, new.pk}
    merge_index()
    services.add_reply(actor=carla, ticket=old, body="solved by a new keytab")
    assert {t.pk for t in search_tickets(agent, "keytab").items} == {old.pk}
    assert {t.pk for t in search_tickets(agent, "kerberos").items} == {old.pk, new.pk}
