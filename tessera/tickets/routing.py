"""Choosing the most suitable agent for a new ticket."""

from __future__ import annotations

from django.db.models import Count, Q

from tessera.accounts.models import Department, Membership, User
from tessera.core import clock
from tessera.tickets.models import OPEN_STATUSES


def pick_agent(department: Department, language: str) -> User | None:
    """Department member who speaks the customer's language (if any does), with the fewest open
    tickets; ties go round-robin to whoever was assigned longest ago. Locks nothing: a slightly
    stale count only makes the balance approximate, never wrong."""
    memberships = list(
        Membership.objects.filter(
            department=department, agent__is_active=True, agent__role__in=["agent", "admin"]
        )
        .select_related("agent")
        .annotate(
            open_count=Count(
                "agent__assigned_tickets", filter=Q(agent__assigned_tickets__status__in=OPEN_STATUSES)
            )
        )
    )
    if not memberships:
        return None
    speakers = [m for m in memberships if language in (m.agent.languages_spoken or [])]
    candidates = speakers or memberships
    never = clock.now().replace(year=1970)
    chosen = min(candidates, key=lambda m: (m.open_count, m.last_assigned_at or never, m.agent_id))
    Membership.objects.filter(pk=chosen.pk).update(last_assigned_at=clock.now())
    return chosen.agent
