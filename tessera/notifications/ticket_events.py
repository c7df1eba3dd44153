"""Turns ticket timeline events into notifications, in the transaction that records the event.

Who hears about what:

- Customers (the requester, CC contacts and a colleague who filed on the requester's behalf) get an in-app
  notification, without an email copy, for public changes: a ticket opened for them by someone else, every
  status change (with the reason), every priority change (with the reason), agents' replies and merges.
  The mail app sends the ticket emails for those same events, so a copy from here would be a double email.
- Agents get an in-app notification with an email copy when a ticket is assigned to them, when they are
  mentioned in an internal note, and for SLA warnings and breaches on tickets assigned to them (or, when
  nobody is assigned or an escalation rule asks for it, to the department leads).
- Nobody is notified of their own action; internal events never reach customers.
- Exactly once per event and person: the dedupe key is the event id.

Mentions: in an internal note, ``@`` followed by the agent's email local part (``@jane.doe`` for
jane.doe@example.com) or by their full name in brackets (``@[Jane Doe]``), case-insensitive. Only agents
who can see the ticket are notified; an address such as ``bob@example.com`` is not a mention.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from tessera.accounts.models import Membership, User
from tessera.notifications.models import NotificationKind
from tessera.notifications.services import notify
from tessera.tickets import access
from tessera.tickets.models import Message, Status, Ticket, TimelineEvent
from tessera.tickets.reference import priority_by_slug

logger = logging.getLogger("tessera.notifications")
Kind = TimelineEvent.Kind

MENTION = re.compile(r"(?<![\w.@+-])@(?:\[([^\]\n]{1,200})\]|([A-Za-z0-9][A-Za-z0-9._+-]{0,63}))")
EXCERPT = 500


def on_event_recorded(sender: object, event: TimelineEvent, **kwargs: Any) -> None:
    """Receiver of `event_recorded`. A failure here is logged and must not undo the ticket change."""
    if event.kind not in _HANDLERS:
        return
    if event.kind == Kind.CREATED and not _customer_ids(event):
        return  # filed by the requester themselves, nobody copied: no savepoint for nothing
    try:
        with transaction.atomic():  # savepoint: a bug here rolls back only the notifications
            notify_for_event(event)
    except Exception:
        logger.exception("notifications for timeline event %s failed", event.pk)


def notify_for_event(event: TimelineEvent) -> int:
    """Create the notifications one timeline event causes; safe to call again (returns how many were new)."""
    handler = _HANDLERS.get(event.kind)
    if handler is None:
        return 0
    return sum(1 for created in handler(event) if created)


# Customers ------------------------------------------------------------------------------------------------


def _customer_ids(event: TimelineEvent) -> set[int]:
    """The ids of the customer side of a ticket (requester, CCs, who filed it), minus whoever acted."""
    ticket = event.ticket
    people = {ticket.requester_id, *(person.pk for person in ticket.cc_people())}
    if ticket.submitted_by_id != ticket.requester_id:
        people.add(ticket.submitted_by_id)
    people.discard(event.actor_id)
    return people


def _customers(event: TimelineEvent) -> list[User]:
    """The customer side of a ticket, minus whoever acted."""
    ticket = event.ticket
    people = _customer_ids(event)
    return [
        user
        for user in User.objects.filter(pk__in=people, is_active=True).order_by("pk")
        if not user.is_agent or user.pk == ticket.requester_id
    ]


def _notify_customers(event: TimelineEvent, kind: str, render: Any) -> list[object]:
    results: list[object] = []
    for user in _customers(event):
        if not access.shown_inside(user, event):  # the customer side is on the ticket: only the event counts
            continue
        with translation.override(user.language):
            title, body = render(user)
            results.append(
                notify(
                    user,
                    kind=kind,
                    title=title,
                    body=body,
                    url=ticket_url(user, event.ticket),
                    ticket=event.ticket,
                    dedupe_key=f"event:{event.pk}",
                    email=False,  # the mail app emails customers about these events itself
                )
            )
    return results


def _on_created(event: TimelineEvent) -> list[object]:
    ticket = event.ticket
    ref = ticket.reference

    def render(user: User) -> tuple[str, str]:
        if user.pk == ticket.requester_id:
            return _("Ticket %(ref)s was opened for you") % {"ref": ref}, ticket.subject
        return _("You are copied on ticket %(ref)s") % {"ref": ref}, ticket.subject

    return _notify_customers(event, NotificationKind.TICKET_CREATED, render)


def _status_title(ref: str, old: str, new: str) -> str:
    if new == Status.OPEN and old == Status.NEW:
        return _("Your ticket %(ref)s was accepted for work") % {"ref": ref}
    if new == Status.OPEN and old in (Status.RESOLVED, Status.CLOSED):
        return _("Ticket %(ref)s was reopened") % {"ref": ref}
    if new == Status.WAITING:
        return _("Ticket %(ref)s needs more information from you") % {"ref": ref}
    if new == Status.RESOLVED:
        return _("Ticket %(ref)s was resolved") % {"ref": ref}
    if new == Status.CLOSED:
        return _("Ticket %(ref)s was closed") % {"ref": ref}
    label = Status(new).label if new in Status.values else new
    return _("Ticket %(ref)s is now %(status)s") % {"ref": ref, "status": label}


def _on_status(event: TimelineEvent) -> list[object]:
    ref, old, new = event.ticket.reference, str(event.old or ""), str(event.new or "")
    return _notify_customers(
        event,
        NotificationKind.TICKET_STATUS,
        lambda user: (_status_title(ref, old, new), event.reason or event.ticket.subject),
    )


def _on_priority(event: TimelineEvent) -> list[object]:
    ref = event.ticket.reference
    priority = priority_by_slug(str(event.new or ""))  # the per-process copy of the priorities
    name = priority.name if priority else str(event.new or "")
    return _notify_customers(
        event,
        NotificationKind.TICKET_PRIORITY,
        lambda user: (
            _("The priority of ticket %(ref)s is now %(priority)s") % {"ref": ref, "priority": name},
            event.reason,
        ),
    )


def _on_reply(event: TimelineEvent) -> list[object]:
    message = event.message
    if message is None or message.kind != Message.Kind.REPLY or not message.author.is_agent:
        return []
    ref = event.ticket.reference
    return _notify_customers(
        event,
        NotificationKind.TICKET_REPLY,
        lambda user: (
            _("%(agent)s replied on ticket %(ref)s") % {"agent": message.author.display_name, "ref": ref},
            _excerpt(message.body),
        ),
    )


def _on_merged(event: TimelineEvent) -> list[object]:
    into = (event.new or {}).get("into") if isinstance(event.new, dict) else None
    ref = event.ticket.reference
    target = Ticket(pk=into).reference if into else ""
    return _notify_customers(
        event,
        NotificationKind.TICKET_STATUS,
        lambda user: (
            _("Ticket %(ref)s was merged into %(target)s") % {"ref": ref, "target": target},
            _("The conversation continues on %(target)s.") % {"target": target},
        ),
    )


# Agents ---------------------------------------------------------------------------------------------------


def _notify_agent(event: TimelineEvent, user: User, kind: str, title: str, body: str) -> object:
    return notify(
        user,
        kind=kind,
        title=title,
        body=body,
        url=ticket_url(user, event.ticket),
        ticket=event.ticket,
        dedupe_key=f"event:{event.pk}",
        email=True,
    )


def _on_assigned(event: TimelineEvent) -> list[object]:
    if not isinstance(event.new, int) or event.new == event.actor_id:
        return []
    ticket = event.ticket
    agent = User.objects.filter(pk=event.new).first()
    if agent is None or not agent.is_active or not agent.is_agent:
        return []
    with translation.override(agent.language):
        if event.actor is None:
            title = _("Ticket %(ref)s was routed to you") % {"ref": ticket.reference}
        else:
            title = _("%(actor)s assigned ticket %(ref)s to you") % {
                "actor": event.actor.display_name,
                "ref": ticket.reference,
            }
        return [_notify_agent(event, agent, NotificationKind.TICKET_ASSIGNED, title, ticket.subject)]


def mentioned_agents(ticket: Ticket, text: str) -> list[User]:
    """The agents who can see `ticket` and are mentioned in `text` (see the module docstring)."""
    names, locals_ = set(), set()
    for bracketed, plain in MENTION.findall(text):
        if bracketed:
            names.add(bracketed.strip().casefold())
        else:
            locals_.add(plain.rstrip("._-").casefold())
    if not names and not locals_:
        return []
    found = []
    for user in access.staff_for(ticket).order_by("pk"):
        local = user.email.split("@", 1)[0].casefold()
        if local in locals_ or (user.full_name and user.full_name.strip().casefold() in names):
            found.append(user)
    return found


def _on_note(event: TimelineEvent) -> list[object]:
    message = event.message
    if message is None:
        return []
    results: list[object] = []
    author = message.author.display_name
    ref = event.ticket.reference
    for agent in mentioned_agents(event.ticket, message.body):
        if agent.pk == event.actor_id:
            continue
        with translation.override(agent.language):
            title = _("%(author)s mentioned you on ticket %(ref)s") % {"author": author, "ref": ref}
            results.append(
                _notify_agent(event, agent, NotificationKind.TICKET_MENTION, title, _excerpt(message.body))
            )
    return results


def _sla_recipients(event: TimelineEvent) -> list[User]:
    """The assignee; the department leads too when nobody is assigned or an escalation rule asked for it
    (the SLA app lists "notify_lead" in the event's actions)."""
    ticket = event.ticket
    data = event.new if isinstance(event.new, dict) else {}
    people: set[int] = set()
    if ticket.assignee_id:
        people.add(ticket.assignee_id)
    if not ticket.assignee_id or "notify_lead" in (data.get("actions") or []):
        people |= set(
            Membership.objects.filter(department_id=ticket.department_id, is_lead=True).values_list(
                "agent_id", flat=True
            )
        )
    return list(User.objects.filter(pk__in=people, is_active=True).order_by("pk"))


def _on_sla(event: TimelineEvent) -> list[object]:
    from tessera.sla.models import Target

    data = event.new if isinstance(event.new, dict) else {}
    target = str(data.get("target", ""))
    due = _parse(data.get("due"))
    ref = event.ticket.reference
    breached = event.kind == Kind.SLA_BREACHED
    results: list[object] = []
    for agent in _sla_recipients(event):
        if not agent.is_agent:
            continue
        with translation.override(agent.language), timezone.override(agent.time_zone or "UTC"):
            label = Target(target).label if target in Target.values else target
            when = formats.date_format(timezone.localtime(due), "DATETIME_FORMAT") if due else ""
            if breached:
                title = _("SLA breached on ticket %(ref)s: %(target)s") % {"ref": ref, "target": label}
                body = _("The %(target)s target was due %(when)s.") % {"target": label, "when": when}
            else:
                title = _("SLA warning on ticket %(ref)s: %(target)s") % {"ref": ref, "target": label}
                body = _("The %(target)s target is due %(when)s.") % {"target": label, "when": when}
            kind = NotificationKind.SLA_BREACHED if breached else NotificationKind.SLA_WARNING
            results.append(_notify_agent(event, agent, kind, title, f"{event.ticket.subject}\n{body}"))
    return results


_HANDLERS: dict[str, Any] = {
    Kind.CREATED: _on_created,
    Kind.STATUS_CHANGED: _on_status,
    Kind.PRIORITY_CHANGED: _on_priority,
    Kind.REPLIED: _on_reply,
    Kind.MERGED: _on_merged,
    Kind.ASSIGNED: _on_assigned,
    Kind.NOTE_ADDED: _on_note,
    Kind.SLA_WARNING: _on_sla,
    Kind.SLA_BREACHED: _on_sla,
}


# Helpers --------------------------------------------------------------------------------------------------


def ticket_url(user: User, ticket: Ticket) -> str:
    """Where `user` opens the ticket: the agent workspace for agents, the client area for customers."""
    try:
        if user.is_agent:
            return reverse("workspace:ticket", args=[ticket.pk])
        return reverse("portal_ticket", kwargs={"reference": ticket.reference})
    except NoReverseMatch:  # those pages belong to other apps; keep notifying if one is renamed
        logger.warning("no ticket page to link to for user %s", user.pk)
        return ""


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
