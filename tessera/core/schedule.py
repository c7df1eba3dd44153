"""Periodic jobs (SLA sweeps, mailbox polls, clean-ups): declared here by each app, enqueued by workers.

Each job is a django.tasks task run every `every`. Any worker may enqueue a due job; the conditional UPDATE
in `enqueue_due_jobs` makes sure only one of them does, however many workers and hosts there are.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from tessera.core import clock
from tessera.core.models import ScheduledRun

logger = logging.getLogger("tessera.schedule")


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    task: Any  # a django.tasks Task taking no arguments


_JOBS: dict[str, Job] = {}


def register(name: str, every: timedelta, task: Any) -> None:
    """Declare a periodic job; apps call this from their AppConfig.ready()."""
    _JOBS[name] = Job(name, every, task)


def jobs() -> list[Job]:
    return list(_JOBS.values())


def enqueue_due_jobs(now: datetime | None = None) -> list[str]:
    """Enqueue every job whose time has come, each at most once per period; returns their names."""
    now = now or clock.now()
    enqueued = []
    for job in _JOBS.values():
        run, _ = ScheduledRun.objects.get_or_create(name=job.name, defaults={"next_run_at": now})
        if run.next_run_at > now:
            continue
        with transaction.atomic():
            claimed = ScheduledRun.objects.filter(pk=run.pk, next_run_at=run.next_run_at).update(
                next_run_at=now + job.every, last_enqueued_at=now
            )
            if claimed:
                job.task.enqueue()  # same transaction as the claim: both happen or neither
                enqueued.append(job.name)
    return enqueued
