"""Ticket emails to the requester and CCs, triggered by timeline events inside the change's transaction
(so the email is queued if and only if the change commits), rendered in each recipient's language by the
delivery task (`render_email`) from the values taken when the event happened."""

from __future__ import annotations

import contextlib
import zoneinfo
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from tessera.accounts.models import User
from tessera.mail import ids
from tessera.mail.models import InboundMessage
from tessera.mail.outbound import Rendered, queue_template_email
from tessera.notifications.models import MessageKind
from tessera.tickets import access
from tessera.tickets.attachments import refusal_text
from tessera.tickets.models import Message, Status, Ticket, TimelineEvent
from tessera.tickets.reference import priority_by_slug

Kind = TimelineEvent.Kind
# Set while processing automatic mail (Auto-Submitted, bulk): RFC 3834 forbids answering it.
_quiet: ContextVar[bool] = ContextVar("tessera_mail_quiet", default=False)
# Files of the message being processed that were refused, as (reason, values) for the acknowledgement.
_refused: ContextVar[tuple[dict[str, Any], ...]] = ContextVar("tessera_mail_refused", default=())


@contextlib.contextmanager
def quiet(active: bool = True) -> Iterator[None]:
    token = _quiet.set(active)
    try:
        yield
    finally:
        _quiet.reset(token)


@contextlib.contextmanager
def refused_files(refusals: list[dict[str, Any]]) -> Iterator[None]:
    """The acknowledgement queued inside tells the customer which files were refused and why
    (each {"reason": a tickets.attachments.REFUSALS key, "params": its values})."""
    token = _refused.set(tuple(refusals))
    try:
        yield
    finally:
        _refused.reset(token)


def on_event_recorded(sender: object, event: TimelineEvent, **kwargs: Any) -> None:
    """Receiver of `event_recorded`: queues the customer emails this event calls for."""
    template = _template_for(event)
    if template is None:
        return
    if template == "ticket_received" and _quiet.get():
        return
    ticket = event.ticket
    for user in _recipients(ticket, event, include_actor=template == "ticket_received"):
        send_ticket_email(ticket=ticket, user=user, template=template, event=event)


def _template_for(event: TimelineEvent) -> str | None:
    if event.kind == Kind.CREATED:
        return "ticket_received"
    if event.kind == Kind.REPLIED:
        message = event.message
        if (
            message is None
            or message.kind != Message.Kind.REPLY
            or event.actor is None
            or not event.actor.is_agent
        ):
            return None
        return "agent_reply"
    if event.kind == Kind.PRIORITY_CHANGED:
        return "priority_changed"
    if event.kind == Kind.STATUS_CHANGED:
        new, old = str(event.new or ""), str(event.old or "")
        if new == Status.OPEN and old == Status.NEW:
            # An agent's first reply accepts the ticket; their reply email already says so.
            previous = (
                TimelineEvent.objects.filter(ticket_id=event.ticket_id, pk__lt=event.pk)
                .order_by("-pk")
                .first()
            )
            if previous is not None and previous.kind == Kind.REPLIED and previous.actor_id == event.actor_id:
                return None
            return "accepted"
        if event.actor is not None and not event.actor.is_agent and new == Status.OPEN:
            return None  # the customer's own reply reopened it; nothing to tell them
        by_status: dict[str, str] = {
            Status.WAITING.value: "returned",
            Status.RESOLVED.value: "resolved",
            Status.CLOSED.value: "closed",
        }
        return by_status.get(new, "status_changed")
    return None


def _recipients(ticket: Ticket, event: TimelineEvent, *, include_actor: bool) -> list[User]:
    people = [ticket.requester, *ticket.cc_people()]
    seen: set[int] = set()
    chosen = []
    for person in people:
        if person.pk in seen or not person.is_active or not person.email:
            continue
        if not access.shown_inside(person, event):  # what the customer may see of the ticket's history
            continue
        seen.add(person.pk)
        if person.pk == event.actor_id and not include_actor:
            continue  # nobody is emailed about their own action
        chosen.append(person)
    return chosen


def kind_for(ticket: Ticket) -> str:
    """The address kind (support/billing/abuse) for the ticket's department, by the setting's mapping."""
    kind = settings.TESSERA_MAIL_KIND_BY_DEPARTMENT.get(ticket.department.slug, MessageKind.SUPPORT)
    return kind if kind in MessageKind.values else MessageKind.SUPPORT


def thread_headers(ticket: Ticket, *, new_ticket: bool = False) -> dict[str, str]:
    """Message threading for every mail client: the customer's own first message and latest message (when
    the ticket came by mail) plus the ticket's stable thread id; Reply-To threads the answer back in.
    `new_ticket`: the ticket is being created in this transaction, so no processed inbound message can
    point at it yet (the one creating it is linked when its processing commits): no query."""
    inbound = (
        []
        if new_ticket
        else list(
            InboundMessage.objects.filter(ticket=ticket, status=InboundMessage.Status.PROCESSED)
            .exclude(message_id="")
            .order_by("received_at", "pk")
            .values_list("message_id", flat=True)
        )
    )
    references = [ids.thread_root(ticket.pk)]
    if inbound:
        references = [inbound[0], *references]
        if inbound[-1] != inbound[0]:
            references.append(inbound[-1])
    base = ticket.department.email or settings.DEFAULT_FROM_EMAIL.rpartition("<")[2].strip(">")
    return {
        "In-Reply-To": references[-1],
        "References": " ".join(references),
        "Reply-To": ids.reply_address(base, ticket.pk),
    }


def ticket_url(ticket: Ticket) -> str:
    """The ticket's page in the client area (ticket emails go to requesters and CCs)."""
    return settings.BASE_URL + reverse("portal_ticket", args=[ticket.pk])


def send_ticket_email(*, ticket: Ticket, user: User, template: str, event: TimelineEvent) -> None:
    """Queue one ticket email; the delivery task renders it (`render_email`) from the values taken here,
    in the recipient's language and time zone, so it says what it would have said if rendered here."""
    context: dict[str, Any] = {
        "ticket": {
            "reference": ticket.reference,
            "subject": ticket.subject,
            "department": {"reopen_window_days": ticket.department.reopen_window_days},
        },
        "recipient": {"display_name": user.display_name},
        "reason": event.reason,
        "url": ticket_url(ticket),
        "marker": ids.marker(ticket.pk),
        "unverified": not user.is_verified and user.pk == ticket.requester_id,
    }
    if template == "ticket_received":
        from tessera.sla.models import TicketSla

        try:
            state = ticket.sla  # the SLA listener's row, cached on the ticket when it ran before us
        except TicketSla.DoesNotExist:
            state = None
        due = state.first_response_due if state else None
        context["due"] = due.isoformat() if due else None
        context["refused"] = list(_refused.get())
    elif template == "agent_reply" and event.message is not None:
        context["body"] = event.message.body
        context["agent"] = {"display_name": event.actor.display_name if event.actor else ""}
    elif template == "priority_changed":
        old, new = priority_by_slug(str(event.old)), priority_by_slug(str(event.new))
        context["old_priority"] = old.name if old else event.old
        context["new_priority"] = new.name if new else event.new
    elif template == "status_changed":
        context["status"] = event.new  # its label is translated when rendered
    queue_template_email(
        template=f"ticket/{template}",
        recipient=user,
        kind=kind_for(ticket),
        inputs={"language": user.language, "time_zone": user.time_zone, "context": context},
        ticket=ticket,
        auto_submitted=template != "agent_reply",
        dedupe_key=f"ticket-event:{event.pk}:{user.pk}",
        headers=thread_headers(ticket, new_ticket=event.kind == Kind.CREATED),
    )


def send_refused_files(*, ticket: Ticket, user: User, refusals: list[dict[str, Any]], key: str) -> None:
    """Tell a customer whose emailed reply carried files we refused which ones and why, in their language
    (a new ticket's acknowledgement says it itself)."""
    context: dict[str, Any] = {
        "ticket": {"reference": ticket.reference, "subject": ticket.subject},
        "recipient": {"display_name": user.display_name},
        "url": ticket_url(ticket),
        "marker": ids.marker(ticket.pk),
        "refused": refusals,
    }
    queue_template_email(
        template="ticket/files_refused",
        recipient=user,
        kind=kind_for(ticket),
        inputs={"language": user.language, "time_zone": user.time_zone, "context": context},
        ticket=ticket,
        dedupe_key=f"files-refused:{key}",
        headers=thread_headers(ticket),
    )


def render_email(template: str, inputs: dict[str, Any]) -> Rendered:
    """Subject, text and HTML of a ticket email queued by `send_ticket_email`, in the recipient's language
    and time zone (tessera.mail.outbound calls this when it delivers)."""
    context = dict(inputs["context"])
    if context.get("due"):
        context["due"] = datetime.fromisoformat(context["due"])
    if "status" in context:
        status = context["status"]
        context["status"] = Status(status).label if status in Status.values else status
    try:
        zone = zoneinfo.ZoneInfo(inputs.get("time_zone") or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    language = inputs.get("language")
    language = language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(zone):
        if context.get("refused"):
            context["refused"] = [refusal_text(r["reason"], r["params"]) for r in context["refused"]]
        return Rendered(
            subject=render_to_string(f"mail/emails/{template}/subject.txt", context).strip(),
            text=render_to_string(f"mail/emails/{template}/body.txt", context),
            html=render_to_string(f"mail/emails/{template}/body.html", context),
        )
