from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """Each task worker writes here every few seconds, so the health endpoint can tell a live worker
    from a dead one."""

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.hostname}:{self.pid})"


class ScheduledRun(models.Model):
    """When each periodic job is next due. Workers claim a run with a conditional UPDATE of `next_run_at`,
    so with many workers on many hosts each run is enqueued exactly once."""

    name = models.CharField(max_length=100, unique=True)
    next_run_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
