"""Workspace commands built on the ticket services: phone calls, splitting a reply off, canned responses
and bulk actions. Permissions are checked by the ticket services each of these calls."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from tessera.accounts.models import Department, User
from tessera.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from tessera.core.text import clean_text
from tessera.tickets import access
from tessera.tickets import services as tickets
from tessera.tickets.models import Channel, Message, Priority, Status, Ticket
from tessera.tickets.queries import get_ticket_for
from tessera.workspace.models import CannedResponse

BULK_MAX = 100


def _require_agent(actor: User) -> None:
    if not actor.is_agent:
        raise PermissionDenied(_("Only agents can do this."))


def log_phone_call(
    *,
    actor: User,
    contact: User,
    department: Department,
    subject: str,
    description: str,
    priority: Priority | None = None,
) -> Ticket:
    """Open a ticket for `contact` from a phone call: channel phone, submitted by the agent (one
    transaction, through tickets.services.create_ticket)."""
    _require_agent(actor)
    return tickets.create_ticket(
        actor=actor,
        data=tickets.NewTicket(
            subject=subject,
            description=description,
            department=department,
            requester=contact,
            priority=priority,
            channel=Channel.PHONE,
        ),
    )


def split_message(*, actor: User, message: Message, subject: str) -> Ticket:
    """Turn a public reply into a new ticket for the same requester and department. One transaction:
    the new ticket, and an internal note on each ticket pointing at the other."""
    ticket = message.ticket
    if not access.can_work_on(actor, ticket):
        raise NotFound(_("Ticket not found."))
    if message.kind != Message.Kind.REPLY:
        # An internal note would become a description the customer can read.
        raise ValidationFailed(_("Only public replies can be split into a new ticket."), field="message")
    subject = clean_text(subject, field="subject", max_length=tickets.SUBJECT_MAX, single_line=True)
    with transaction.atomic():
        new = tickets.create_ticket(
            actor=actor,
            data=tickets.NewTicket(
                subject=subject or _("Split from %(ref)s") % {"ref": ticket.reference},
                description=message.body,
                department=ticket.department,
                requester=ticket.requester,
                priority=ticket.priority,
                channel=message.channel if message.channel in Channel.values else Channel.WEB,
            ),
        )
        tickets.add_note(
            actor=actor,
            ticket=new,
            body=_("Split from %(ref)s (a message of %(date)s).")
            % {"ref": ticket.reference, "date": message.created_at.date().isoformat()},
        )
        tickets.add_note(
            actor=actor,
            ticket=ticket,
            body=_("A message was split into the new ticket %(ref)s.") % {"ref": new.reference},
        )
    return new


# Canned responses ----------------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z ]+?)\s*\}\}")


def canned_for(actor: User, ticket: Ticket) -> QuerySet[CannedResponse]:
    """The canned responses offered on this ticket: its department's and the global ones."""
    _require_agent(actor)
    return CannedResponse.objects.filter(
        Q(department__isnull=True) | Q(department_id=ticket.department_id), is_active=True
    )


def render_canned(*, actor: User, canned: CannedResponse, ticket: Ticket) -> str:
    """The canned text with its placeholders filled in. Plain substitution: a value (a customer's name)
    is inserted as text and never interpreted, and unknown placeholders stay as typed."""
    if not canned_for(actor, ticket).filter(pk=canned.pk).exists():
        raise NotFound(_("Canned response not found."))
    requester = ticket.requester
    full_name = requester.full_name.strip()
    values = {
        "requester first name": full_name.split()[0] if full_name else requester.email.split("@")[0],
        "requester name": requester.display_name,
        "ticket reference": ticket.reference,
        "ticket subject": ticket.subject,
        "agent name": actor.display_name,
        "department": ticket.department.name,
    }
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), canned.body)


# Bulk actions -------------------------------------------------------------------------------------------

BULK_ACTIONS = ("assign", "status", "tag", "merge")


@dataclass
class BulkOutcome:
    ticket_id: int
    reference: str
    ok: bool
    message: str


@dataclass
class BulkRequest:
    action: str
    ticket_ids: list[int]
    assignee: User | None = None  # None with action "assign" means unassign
    status: str = ""
    reason: str = ""
    tag: str = ""
    target: Ticket | None = None


def bulk_update(*, actor: User, request: BulkRequest) -> list[BulkOutcome]:
    """Apply one action to each selected ticket through the ticket services. Each ticket is its own
    transaction, so one refusal (an illegal transition, a ticket someone closed) neither aborts nor
    undoes the others; the outcome says, per ticket, what happened and why."""
    _require_agent(actor)
    if request.action not in BULK_ACTIONS:
        raise ValidationFailed(_("Choose an action."), field="action")
    ids = list(dict.fromkeys(request.ticket_ids))
    if not ids:
        raise ValidationFailed(_("Select at least one ticket."), field="ids")
    if len(ids) > BULK_MAX:
        raise ValidationFailed(
            _("Select at most %(max)d tickets at a time.") % {"max": BULK_MAX}, field="ids"
        )
    apply = _bulk_operation(actor, request)
    outcomes = []
    for ticket_id in ids:
        reference = f"#{ticket_id}"
        try:
            ticket = get_ticket_for(actor, ticket_id)
            reference = ticket.reference
            outcomes.append(BulkOutcome(ticket_id, reference, True, apply(ticket)))
        except DomainError as error:
            outcomes.append(BulkOutcome(ticket_id, reference, False, str(error.message)))
    return outcomes


def _bulk_operation(actor: User, request: BulkRequest) -> Callable[[Ticket], str]:
    """Validate the action's own input once, before any ticket is touched; return the per-ticket step."""
    if request.action == "assign":
        assignee = request.assignee

        def assign(ticket: Ticket) -> str:
            tickets.assign_ticket(actor=actor, ticket=ticket, assignee=assignee)
            return (
                _("Assigned to %(name)s.") % {"name": assignee.display_name} if assignee else _("Unassigned.")
            )

        return assign
    if request.action == "status":
        target = tickets.clean_choice(request.status, Status, "status")
        if not target:
            raise ValidationFailed(_("Choose a status."), field="status")
        reason = request.reason

        def transition(ticket: Ticket) -> str:
            tickets.transition_ticket(actor=actor, ticket=ticket, status=target, reason=reason)
            return _("Now %(status)s.") % {"status": Status(target).label}

        return transition
    if request.action == "tag":
        tag = clean_text(request.tag, field="tag", max_length=50, required=True, single_line=True)

        def add_tag(ticket: Ticket) -> str:
            names = list(ticket.tags.values_list("name", flat=True))
            if tag in names:
                return _("Already tagged “%(tag)s”.") % {"tag": tag}
            tickets.set_tags(actor=actor, ticket=ticket, tags=[*names, tag])
            return _("Tagged “%(tag)s”.") % {"tag": tag}

        return add_tag
    target_ticket = request.target
    if target_ticket is None:
        raise ValidationFailed(_("Give the ticket to merge into."), field="target")

    def merge(ticket: Ticket) -> str:
        if ticket.pk == target_ticket.pk:
            return _("This is the target ticket.")
        tickets.merge_tickets(actor=actor, source=ticket, target=target_ticket)
        return _("Merged into %(ref)s.") % {"ref": target_ticket.reference}

    return merge
