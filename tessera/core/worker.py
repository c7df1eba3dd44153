"""The task worker: django-tasks-db's worker loop plus a heartbeat, runnable in a thread or a process."""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta

from django.db import close_old_connections, connection
from django_tasks_db.management.commands.db_worker import Worker

from tessera.core import clock
from tessera.core.models import WorkerHeartbeat
from tessera.core.schedule import enqueue_due_jobs

logger = logging.getLogger("tessera.worker")
HEARTBEAT_SECONDS = 5
STALE_AFTER = timedelta(seconds=30)


class TaskWorker:
    def __init__(self, *, interval: float = 0.5, batch: bool = False) -> None:
        self.worker_id = f"{socket.gethostname()[:40]}-{os.getpid()}-{threading.get_ident() % 10000}"
        self.worker = Worker(
            queue_names=["*"],
            interval=interval,
            batch=batch,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=self.worker_id,
            excluded_queue_names=[],
        )
        self._stopped = threading.Event()

    def run(self) -> None:
        """Run until stop() is called (or, in batch mode, until the queue is empty)."""
        beat = threading.Thread(target=self._heartbeat, name="tessera-heartbeat", daemon=True)
        beat.start()
        try:
            self.worker.run()
        finally:
            self._stopped.set()
            close_old_connections()

    def stop(self) -> None:
        self.worker.running = False
        self._stopped.set()

    def _heartbeat(self) -> None:
        """Every few seconds: say we are alive, and enqueue the periodic jobs that are due."""
        started = clock.now()
        while not self._stopped.is_set():
            try:
                WorkerHeartbeat.objects.update_or_create(
                    worker_id=self.worker_id,
                    defaults={
                        "hostname": socket.gethostname()[:255],
                        "pid": os.getpid(),
                        "started_at": started,
                        "last_seen": clock.now(),
                    },
                )
                enqueue_due_jobs()
            except Exception:  # a locked or restarting database must not kill the heartbeat
                logger.warning("heartbeat failed", exc_info=True)
            finally:
                connection.close()
            self._stopped.wait(HEARTBEAT_SECONDS)
        WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()
        connection.close()


def run_pending_tasks() -> None:
    """Run every task that is ready now, in this thread, then return (tests and the CLI use it)."""
    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=f"batch-{os.getpid()}",
        excluded_queue_names=[],
    ).run()
