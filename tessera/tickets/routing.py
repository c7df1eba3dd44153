"""Choosing the most suitable agent for a new ticket, and keeping agents' open-ticket counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, F

from tessera.accounts.models import Department, Membership, User
from tessera.core import clock
from tessera.tickets.models import OPEN_STATUSES, AgentLoad, Ticket

_EPOCH = datetime.fromtimestamp(0).astimezone()


def pick_agent(department: Department, language: str) -> int | None:
    """Id of the department member who speaks the customer's language (if any does) with the fewest open
    tickets; ties go round-robin to whoever was assigned longest ago. One indexed read; locks nothing: a
    slightly stale count only makes the balance approximate, never wrong. The caller records the
    assignment with `assigned`."""
    members = list(
        Membership.objects.filter(
            department=department, agent__is_active=True, agent__role__in=[User.Role.AGENT, User.Role.ADMIN]
        ).values_list(
            "agent_id",
            "agent__languages_spoken",
            "agent__load__open_tickets",
            "agent__load__last_assigned_at",
        )
    )
    if not members:
        return None
    speakers = [m for m in members if language in (m[1] or [])]
    chosen = min(speakers or members, key=lambda m: (max(m[2] or 0, 0), m[3] or _EPOCH, m[0]))
    return int(chosen[0])


def adjust_load(changes: dict[int, int], *, assigned_to: int | None = None) -> None:
    """Add each delta to the agent's open-ticket count (one conditional UPDATE per agent, in id order so
    two transactions never wait on each other in opposite orders; the agent's first ticket creates the
    row). Call it inside the transaction of the change."""
    now = clock.now()
    for agent_id in sorted(changes):
        delta = changes[agent_id]
        if delta == 0 and agent_id != assigned_to:
            continue
        values: dict[str, Any] = {"open_tickets": F("open_tickets") + delta}
        if agent_id == assigned_to:
            values["last_assigned_at"] = now
        loads = AgentLoad.objects.filter(agent_id=agent_id)
        if not loads.update(**values):
            AgentLoad.objects.get_or_create(agent_id=agent_id)  # safe against a concurrent first ticket
            loads.update(**values)


def load_change(
    old_assignee: int | None, old_status: str, new_assignee: int | None, new_status: str
) -> dict[int, int]:
    """Deltas of open-ticket counts when a ticket goes from one (assignee, status) to another."""
    changes: dict[int, int] = {}
    if old_assignee is not None and old_status in OPEN_STATUSES:
        changes[old_assignee] = changes.get(old_assignee, 0) - 1
    if new_assignee is not None and new_status in OPEN_STATUSES:
        changes[new_assignee] = changes.get(new_assignee, 0) + 1
    return {agent: delta for agent, delta in changes.items() if delta}


def recount_loads() -> int:
    """Set every agent's count from their tickets (the hourly repair); returns how many rows changed."""
    counts = dict(
        Ticket.objects.filter(assignee__isnull=False, status__in=OPEN_STATUSES)
        .values("assignee_id")
        .annotate(n=Count("id"))
        .values_list("assignee_id", "n")
    )
    changed = 0
    for load in AgentLoad.objects.all():
        actual = counts.pop(load.agent_id, 0)
        if load.open_tickets != actual:
            AgentLoad.objects.filter(pk=load.pk).update(open_tickets=actual)
            changed += 1
    AgentLoad.objects.bulk_create([AgentLoad(agent_id=a, open_tickets=n) for a, n in counts.items()])
    return changed + len(counts)
