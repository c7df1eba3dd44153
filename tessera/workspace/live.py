"""Telling open ticket pages that their ticket changed.

Two paths, so it is right in every deployment:
- push: after a change commits, a message goes to the ticket's channel-layer group. With Redis this
  crosses from the gunicorn HTTP workers to the websocket process, so pages hear of it at once.
- watch: the consumer also re-reads one indexed value (the newest timeline event id of the ticket)
  every LIVE_POLL_SECONDS. With the default in-memory layer the push never leaves the HTTP process,
  and this cheap primary-key lookup is what carries the news.
Both only *trigger* a check; what the page is told always comes from the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.core.live import push_after_commit
from tessera.tickets import access
from tessera.tickets.models import Priority, Status, Ticket, TimelineEvent


def group_name(ticket_id: int) -> str:
    return f"ticket.{ticket_id}"


def on_event_recorded(sender: object, event: TimelineEvent, **kwargs: Any) -> None:
    """Receiver of tickets.events.event_recorded: push after commit (nothing if rolled back). A ticket
    being created has no open page yet, so its creation is not pushed."""
    if event.kind != TimelineEvent.Kind.CREATED:
        push_after_commit(group_name(event.ticket_id), {"type": "ticket.changed"})


@dataclass
class Snapshot:
    version: int
    last_event_id: int


def snapshot(ticket_id: int) -> Snapshot | None:
    row = Ticket.objects.filter(pk=ticket_id).values_list("version", flat=True).first()
    if row is None:
        return None
    last = (
        TimelineEvent.objects.filter(ticket_id=ticket_id).order_by("-id").values_list("id", flat=True).first()
    )
    return Snapshot(version=row, last_event_id=last or 0)


def may_watch(user_id: int, ticket_id: int) -> bool:
    """Re-checked before every push, from fresh rows: the agent may have left the ticket's department or
    been deactivated, or the ticket moved to a department they are not in."""
    user = User.objects.filter(pk=user_id).first()
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    return user is not None and ticket is not None and access.can_work_on(user, ticket)


def changes_since(user: User, ticket_id: int, after_event_id: int) -> list[str]:
    """One line per change made by someone else after `after_event_id` that `user` may see, newest last."""
    events = (
        access.visible_events(user, Ticket(pk=ticket_id))
        .filter(id__gt=after_event_id)
        .exclude(actor_id=user.pk)
        .select_related("actor")
        .order_by("id")[:20]
    )
    return [describe(event) for event in events]


def describe(event: TimelineEvent) -> str:
    who = event.actor.display_name if event.actor else _("Tessera")
    kind = event.kind
    if kind == TimelineEvent.Kind.REPLIED:
        return _("%(who)s replied") % {"who": who}
    if kind == TimelineEvent.Kind.NOTE_ADDED:
        return _("%(who)s added an internal note") % {"who": who}
    if kind == TimelineEvent.Kind.STATUS_CHANGED:
        label = Status(event.new).label if event.new in Status.values else str(event.new)
        return _("%(who)s changed the status to %(status)s") % {"who": who, "status": label}
    if kind == TimelineEvent.Kind.PRIORITY_CHANGED:
        name = Priority.objects.filter(slug=event.new).values_list("name", flat=True).first() or event.new
        return _("%(who)s changed the priority to %(priority)s") % {"who": who, "priority": name}
    return _("%(who)s: %(change)s") % {"who": who, "change": event.get_kind_display()}
