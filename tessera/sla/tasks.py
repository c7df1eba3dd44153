"""SLA tasks: the periodic breach/warning sweep and the recomputation after a calendar change."""

from __future__ import annotations

from django.tasks import task

from tessera.core import clock
from tessera.sla import services


@task
def sweep_sla_due() -> int:
    """Claim and escalate SLA rows whose next check has passed (see services.sweep_due); safe to
    run from several workers at once."""
    return services.sweep_due(clock.now())


@task
def recompute_sla_dues(calendar_id: int | None = None, policy_id: int | None = None) -> int:
    """Recompute the dues of the running tickets on a changed calendar or policy, in batches
    (services.recompute_dues); idempotent."""
    return services.recompute_dues(calendar_id=calendar_id, policy_id=policy_id)
