from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from tessera.core import clock
from tessera.core.models import ScheduledRun
from tessera.core.schedule import enqueue_due_jobs
from tessera.core.tasks import KEEP_FINISHED_TASKS, prune_finished_tasks
from tessera.core.worker import run_pending_tasks

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_due_job_is_enqueued_once_per_period_however_often_workers_ask() -> None:
    now = clock.now()
    assert "core.prune_finished_tasks" in enqueue_due_jobs(now)
    assert "core.prune_finished_tasks" not in enqueue_due_jobs(now)
    assert "core.prune_finished_tasks" not in enqueue_due_jobs(now + timedelta(hours=5))
    assert "core.prune_finished_tasks" in enqueue_due_jobs(now + timedelta(hours=6, seconds=1))
    assert DBTaskResult.objects.filter(task_path__endswith="prune_finished_tasks").count() == 2
    run = ScheduledRun.objects.get(name="core.prune_finished_tasks")
    assert run.next_run_at == now + timedelta(hours=12, seconds=1)


def test_worker_runs_enqueued_jobs_and_pruning_removes_only_old_results() -> None:
    prune_finished_tasks.enqueue()
    run_pending_tasks()
    finished = DBTaskResult.objects.finished()
    assert finished.count() == 1 and finished.get().status == "SUCCESSFUL"
    DBTaskResult.objects.update(finished_at=clock.now() - KEEP_FINISHED_TASKS - timedelta(minutes=1))
    prune_finished_tasks.enqueue()
    run_pending_tasks()
    assert DBTaskResult.objects.count() == 1  # the old one is gone; the run that pruned it remains


def test_the_configured_task_backend_is_django_tasks_db_as_published() -> None:
    assert type(prune_finished_tasks.get_backend()) is DatabaseBackend


def test_a_task_enqueued_in_a_rolled_back_transaction_does_not_exist() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        result = prune_finished_tasks.enqueue()
        assert DBTaskResult.objects.filter(pk=result.id).exists()
        raise RuntimeError("the change that caused it failed")
    assert not DBTaskResult.objects.exists()
    committed = prune_finished_tasks.enqueue()
    stored = DBTaskResult.objects.get()
    assert str(stored.pk) == committed.id and stored.task_path == prune_finished_tasks.module_path
