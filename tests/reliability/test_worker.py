"""Background work survives the database saying no: a locked SQLite file, a worker that exits, a stall."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client
from django_tasks_db.models import DBTaskResult

from tessera.core import clock
from tessera.core.models import WorkerHeartbeat
from tessera.core.tasks import prune_finished_tasks
from tessera.core.worker import SupervisedWorker, TaskWorker

pytestmark = pytest.mark.django_db(transaction=True)


def _until(condition: Callable[[], bool], seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="a write lock on the SQLite file")
def test_worker_survives_a_write_lock_held_past_the_busy_timeout(monkeypatch: Any) -> None:
    result = prune_finished_tasks.enqueue()
    # Connections the worker's threads open wait only 0.1 s for the lock, then get "database is locked".
    monkeypatch.setitem(connections.settings["default"]["OPTIONS"], "timeout", 0.1)
    outsider = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    outsider.execute("BEGIN IMMEDIATE")
    worker = TaskWorker(interval=0.05, max_backoff=0.2)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        assert _until(lambda: worker.failures >= 2), "the worker never met the lock"
        assert thread.is_alive()
    finally:
        outsider.execute("ROLLBACK")
        outsider.close()
    try:
        assert _until(lambda: DBTaskResult.objects.get(pk=result.id).status == "SUCCESSFUL")
        assert thread.is_alive()
    finally:
        worker.stop()
        thread.join(10)
        connections.close_all()


def test_serve_restarts_a_worker_that_exits() -> None:
    class ExitsAtOnce(TaskWorker):
        def run(self) -> None:  # a worker thread that died for any reason
            return

    made: list[TaskWorker] = []

    def factory() -> TaskWorker:
        worker: TaskWorker = ExitsAtOnce() if not made else TaskWorker(interval=0.05)
        made.append(worker)
        return worker

    supervisor = SupervisedWorker(factory)
    try:
        supervisor.thread.join(5)
        assert supervisor.ensure_running() is True
        assert supervisor.restarts == 1 and supervisor.thread.is_alive()
        assert supervisor.ensure_running() is False  # a live worker is left alone
    finally:
        supervisor.stop(timeout=10)
        connections.close_all()
    assert not supervisor.thread.is_alive()


def test_health_is_503_when_the_heartbeat_is_older_than_the_configured_limit(settings: Any) -> None:
    now = clock.now()
    WorkerHeartbeat.objects.create(
        worker_id="w", hostname="h", pid=1, started_at=now, last_seen=now - timedelta(seconds=20)
    )
    settings.TESSERA_WORKER_STALE_SECONDS = 60
    assert Client().get("/health").status_code == 200
    settings.TESSERA_WORKER_STALE_SECONDS = 10
    response = Client().get("/health")
    assert response.status_code == 503 and response.json()["worker"]["status"] == "down"
