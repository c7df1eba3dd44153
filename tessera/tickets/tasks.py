"""Ticket tasks: the hourly repair of agents' open-ticket counts."""

from __future__ import annotations

from django.tasks import task

from tessera.tickets.routing import recount_loads


@task
def recount_agent_loads() -> int:
    return recount_loads()
