"""SLA tasks: the periodic breach/warning sweep."""

from __future__ import annotations

from django.tasks import task

from tessera.core import clock
from tessera.sla import services


@task
def sweep_sla_due() -> int:
    """Claim and escalate SLA rows whose next check has passed (see services.sweep_due); safe to
    run from several workers at once."""
    return services.sweep_due(clock.now())
