"""The task worker: django-tasks-db's worker loop plus a heartbeat, runnable in a thread or a process.

The loop survives any database error (a locked SQLite file, a restarting PostgreSQL): it logs, backs off
and starts again, so emails, SLA timers and sweeps resume on their own once the database answers."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection
from django_tasks_db.management.commands.db_worker import Worker

from tessera.core import clock
from tessera.core.models import WorkerHeartbeat
from tessera.core.schedule import enqueue_due_jobs

logger = logging.getLogger("tessera.worker")
HEARTBEAT_SECONDS = 5
MAX_BACKOFF_SECONDS = 30.0


def stale_after() -> timedelta:
    """A worker whose last heartbeat is older than this is stalled (/health answers 503)."""
    return timedelta(seconds=settings.TESSERA_WORKER_STALE_SECONDS)


def known_queues() -> list[str]:
    return list(settings.TASKS["default"]["QUEUES"])


def check_queues(names: list[str]) -> None:
    unknown = sorted(set(names) - set(known_queues()) - {"*"})
    if unknown:
        raise ValueError(
            f"Unknown task queue {', '.join(unknown)}; the queues are {', '.join(known_queues())}"
        )


class TaskWorker:
    """One worker loop. `queues` names the queues it takes ("*": all), `exclude` the ones it leaves to
    other workers; within its queues it runs the highest priority first, then the oldest."""

    def __init__(
        self,
        *,
        interval: float = 0.5,
        batch: bool = False,
        max_backoff: float = MAX_BACKOFF_SECONDS,
        queues: list[str] | None = None,
        exclude: list[str] | None = None,
    ) -> None:
        self.queues = list(queues or ["*"])
        self.exclude = list(exclude or [])
        check_queues(self.queues + self.exclude)
        self.worker_id = f"{socket.gethostname()[:40]}-{os.getpid()}-{threading.get_ident() % 10000}"
        self.worker = Worker(
            queue_names=self.queues,
            interval=interval,
            batch=batch,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=self.worker_id,
            excluded_queue_names=self.exclude,
        )
        self.max_backoff = max_backoff
        self.failures = 0  # database errors survived so far
        self._stopped = threading.Event()

    def run(self) -> None:
        """Run until stop() is called (or, in batch mode, until the queue is empty)."""
        beat = threading.Thread(target=self._heartbeat, name="tessera-heartbeat", daemon=True)
        beat.start()
        backoff = min(0.5, self.max_backoff)
        try:
            while not self._stopped.is_set():
                try:
                    self.worker.run()
                    return  # stopped, or a batch that emptied the queue
                except Exception:  # any database error: the worker must outlive it
                    self.failures += 1
                    logger.exception("task worker failed; retrying in %.1f s", backoff)
                    try:
                        connection.close()  # a broken connection is reopened on the next try
                    except Exception:
                        logger.warning("closing the broken connection failed", exc_info=True)
                    self._stopped.wait(backoff)
                    backoff = min(backoff * 2, self.max_backoff)
        finally:
            self._stopped.set()
            close_old_connections()

    def stop(self) -> None:
        self.worker.running = False
        self._stopped.set()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

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


class SupervisedWorker:
    """An in-process worker of `tessera serve`: a thread that is started again whenever it exits."""

    def __init__(self, factory: Callable[[], TaskWorker] = TaskWorker, name: str = "tessera-worker") -> None:
        self.factory = factory
        self.name = name
        self.restarts = 0
        self._stopping = False
        self.worker = factory()
        self.thread = self._start(self.worker)

    def _start(self, worker: TaskWorker) -> threading.Thread:
        thread = threading.Thread(target=worker.run, name=self.name, daemon=True)
        thread.start()
        return thread

    def ensure_running(self) -> bool:
        """Called periodically by the supervising loop: restart a worker that has exited. True if it did."""
        if self._stopping or self.thread.is_alive():
            return False
        self.restarts += 1
        logger.error("the task worker %s exited; starting it again (restart %d)", self.name, self.restarts)
        self.worker = self.factory()
        self.thread = self._start(self.worker)
        return True

    def stop(self, timeout: float = 5) -> None:
        self._stopping = True
        self.worker.stop()
        self.thread.join(timeout=timeout)


def serve_workers() -> list[SupervisedWorker]:
    """The workers `tessera serve` runs in its process: one for outbound email alone, so acknowledgements
    and replies leave while a backlog of inbound mail is processed, and one for every other queue. Sending
    mostly waits on the network, so the two threads overlap well even on one core."""
    out = settings.TASK_QUEUE_MAIL_OUT
    return [
        SupervisedWorker(lambda: TaskWorker(queues=[out]), name="tessera-worker-mail-out"),
        SupervisedWorker(lambda: TaskWorker(exclude=[out]), name="tessera-worker"),
    ]
