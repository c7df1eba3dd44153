"""Client-area tasks."""

from __future__ import annotations

from django.tasks import task

from tessera.portal import services


@task
def purge_pending_uploads() -> int:
    """Delete files kept for ticket forms that were never resubmitted (older than a day)."""
    return services.purge_pending_uploads()
