"""Status tasks: announcement fan-out and delivery in chunks, and the maintenance window sweep."""

from __future__ import annotations

from django.tasks import task

from tessera.core import clock
from tessera.status import announcements, services


@task
def fan_out_announcement(announcement_id: int) -> int:
    """Split the announcement's recipients into chunks, one delivery task each (claimed once); returns
    the number of recipients."""
    return announcements.fan_out(announcement_id)


@task
def deliver_announcement_chunk(announcement_id: int, user_ids: list[int]) -> int:
    """Notify (in-app + email copy) one chunk of recipients; a retry notifies nobody twice."""
    return announcements.deliver_chunk(announcement_id, user_ids)


@task
def sweep_maintenance() -> int:
    """Start windows whose time has come and complete those that have ended."""
    return services.start_due_maintenance(clock.now())
