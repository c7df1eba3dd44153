from __future__ import annotations

from datetime import timedelta

from django.tasks import task
from django_tasks_db.models import DBTaskResult

from tessera.core import clock
from tessera.core.models import WorkerHeartbeat

KEEP_FINISHED_TASKS = timedelta(days=7)


@task
def prune_finished_tasks() -> int:
    """Delete task results finished more than a week ago, and heartbeats of long-gone workers."""
    now = clock.now()
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=now - KEEP_FINISHED_TASKS).delete()
    WorkerHeartbeat.objects.filter(last_seen__lt=now - timedelta(days=1)).delete()
    return deleted
