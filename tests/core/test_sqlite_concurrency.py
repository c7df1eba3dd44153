"""The embedded SQLite database under concurrent writers, with Django's stock backend as settings.py
configures it (WAL, IMMEDIATE transactions, a busy timeout): a writer waits for the one before it, and one
that waits past the timeout gets Django's OperationalError instead of hanging."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError, connection, connections, transaction

from tessera.core import clock
from tessera.core.models import WorkerHeartbeat

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the embedded SQLite database only"),
]


def _write(worker_id: str) -> None:
    now = clock.now()
    WorkerHeartbeat.objects.create(worker_id=worker_id, hostname="test", pid=1, started_at=now, last_seen=now)


def _in_thread(target: Callable[[], None], errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            target()
        except BaseException as error:  # reported to the test's thread
            errors.append(error)
        finally:
            connections.close_all()  # this thread's own connection

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_settings_use_the_stock_backend_with_wal_and_immediate_transactions() -> None:
    assert connection.settings_dict["ENGINE"] == "django.db.backends.sqlite3"
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"


def test_a_second_writer_waits_for_the_first_to_commit_and_both_succeed() -> None:
    holding, second_waits = threading.Event(), threading.Event()
    timeline: list[str] = []
    errors: list[BaseException] = []

    def first() -> None:
        with transaction.atomic():
            _write("first")
            holding.set()
            second_waits.wait(10)
            time.sleep(0.2)  # the second writer is now blocked in BEGIN IMMEDIATE, well within the timeout
            timeline.append("first commits")

    def second() -> None:
        holding.wait(10)
        second_waits.set()
        with transaction.atomic():
            timeline.append("second began")
            _write("second")

    threads = [_in_thread(first, errors), _in_thread(second, errors)]
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert timeline == ["first commits", "second began"]
    assert sorted(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["first", "second"]


def test_a_lock_held_past_the_timeout_is_a_clear_error_not_a_hang() -> None:
    # Another process's writer holds SQLite's write lock and does not let go.
    outsider = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    outsider.execute("BEGIN IMMEDIATE")
    errors: list[BaseException] = []

    def writer() -> None:
        waiting = connections["default"]  # a new connection, this thread's own, with a short timeout
        options: dict[str, Any] = {**waiting.settings_dict["OPTIONS"], "timeout": 0.2}
        waiting.settings_dict = {**waiting.settings_dict, "OPTIONS": options}
        with transaction.atomic():
            _write("blocked")

    try:
        _in_thread(writer, errors).join(30)
    finally:
        outsider.execute("ROLLBACK")
        outsider.close()
    assert len(errors) == 1
    assert isinstance(errors[0], OperationalError) and "locked" in str(errors[0])
    assert not WorkerHeartbeat.objects.filter(worker_id="blocked").exists()
