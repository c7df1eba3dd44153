"""Recording timeline events. Other apps react through `event_recorded`, inside the same transaction,
so whatever they enqueue (notifications, SLA timers, live pushes) commits or rolls back with the change."""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

from tessera.accounts.models import User
from tessera.core import clock
from tessera.tickets.models import Message, Ticket, TimelineEvent

event_recorded = Signal()  # sender=TimelineEvent, event=TimelineEvent

Kind = TimelineEvent.Kind


def record_event(
    *,
    ticket: Ticket,
    actor: User | None,
    channel: str,
    kind: str,
    old: Any = None,
    new: Any = None,
    reason: str = "",
    message: Message | None = None,
    is_public: bool = True,
) -> TimelineEvent:
    """Write one immutable timeline event and tell listeners about it (same transaction)."""
    event = TimelineEvent.objects.create(
        ticket=ticket,
        actor=actor,
        channel=channel,
        kind=kind,
        old=old,
        new=new,
        reason=reason,
        message=message,
        is_public=is_public,
        created_at=clock.now(),
    )
    event_recorded.send(sender=TimelineEvent, event=event)
    return event
