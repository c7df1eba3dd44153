"""Ticket commands. Each validates everything first, then writes rows, timeline events and follow-up
tasks in one transaction, and returns the ticket. Views and the API call these and nothing else."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, prefetch_related_objects
from django.utils.translation import gettext as _

from tessera.accounts.models import Department, User
from tessera.core import clock
from tessera.core.errors import Conflict, IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from tessera.core.text import clean_text, clean_time_zone
from tessera.tickets import access
from tessera.tickets.attachments import CheckedFile, check_files
from tessera.tickets.events import Kind, record_event
from tessera.tickets.models import (
    Attachment,
    Channel,
    Frequency,
    Impact,
    Location,
    Message,
    OthersAffected,
    Priority,
    Status,
    Tag,
    Ticket,
    Urgency,
    attachment_path,
)
from tessera.tickets.reference import default_priority, required_field_rules
from tessera.tickets.routing import adjust_load, load_change, pick_agent

SUBJECT_MAX = 250
BODY_MAX = 100_000
REASON_MAX = 2_000

# Which status may follow which. Closed is final; a resolved ticket reopens to open.
TRANSITIONS: dict[str, set[str]] = {
    Status.NEW: {Status.OPEN, Status.WAITING, Status.RESOLVED, Status.CLOSED},
    Status.OPEN: {Status.WAITING, Status.RESOLVED, Status.CLOSED},
    Status.WAITING: {Status.OPEN, Status.RESOLVED, Status.CLOSED},
    Status.RESOLVED: {Status.OPEN, Status.CLOSED},
    Status.CLOSED: set(),
}
# What a customer may do to their own ticket: close it, or reopen/confirm a resolved one.
CUSTOMER_TRANSITIONS: dict[str, set[str]] = {
    Status.NEW: {Status.CLOSED},
    Status.OPEN: {Status.CLOSED},
    Status.WAITING: {Status.CLOSED},
    Status.RESOLVED: {Status.OPEN, Status.CLOSED},
    Status.CLOSED: set(),
}

DETAIL_FIELDS = (
    "affected_service",
    "server_ip",
    "order_number",
    "problem_started_at",
    "problem_started_tz",
    "frequency",
    "location",
    "error_message",
    "others_affected",
    "recent_changes",
    "diagnostics",
)


@dataclass
class IncidentDetails:
    affected_service: str = ""
    server_ip: str | None = None
    order_number: str = ""
    problem_started_at: datetime | None = None
    problem_started_tz: str = ""
    frequency: str = ""
    location: str = ""
    error_message: str = ""
    others_affected: str = ""
    recent_changes: str = ""
    diagnostics: str = ""

    @classmethod
    def from_values(cls, values: dict[str, Any] | None) -> IncidentDetails:
        values = dict(values or {})
        unknown = set(values) - set(DETAIL_FIELDS)
        if unknown:
            raise ValidationFailed(_("Unknown field."), field=sorted(unknown)[0])
        return cls(**{k: v for k, v in values.items() if v is not None})

    def cleaned(self) -> dict[str, Any]:
        """Validated values, ready for the model."""
        started = self.problem_started_at
        if started is not None and (started.tzinfo is None or started.utcoffset() is None):
            raise ValidationFailed(_("Give the start time with its time zone."), field="problem_started_at")
        server_ip = (self.server_ip or "").strip() or None
        if server_ip:
            try:
                server_ip = str(ipaddress.ip_address(server_ip))
            except ValueError:
                raise ValidationFailed(
                    _("“%(value)s” is not an IP address.") % {"value": server_ip[:64]}, field="server_ip"
                ) from None
        return {
            "affected_service": clean_text(
                self.affected_service, field="affected_service", max_length=200, single_line=True
            ),
            "server_ip": server_ip,
            "order_number": clean_text(
                self.order_number, field="order_number", max_length=64, single_line=True
            ),
            "problem_started_at": started,
            "problem_started_tz": clean_time_zone(
                self.problem_started_tz.strip(), field="problem_started_tz"
            ),
            "frequency": clean_choice(self.frequency, Frequency, "frequency"),
            "location": clean_choice(self.location, Location, "location"),
            "error_message": clean_text(self.error_message, field="error_message", max_length=10_000),
            "others_affected": clean_choice(self.others_affected, OthersAffected, "others_affected"),
            "recent_changes": clean_text(self.recent_changes, field="recent_changes", max_length=10_000),
            "diagnostics": clean_text(self.diagnostics, field="diagnostics", max_length=50_000),
        }


@dataclass
class NewTicket:
    subject: str
    description: str
    department: Department
    requester: User | None = None  # None: the actor files for themselves
    priority: Priority | None = None
    impact: str = ""
    urgency: str = ""
    channel: str = Channel.WEB
    details: IncidentDetails = field(default_factory=IncidentDetails)
    tags: list[str] = field(default_factory=list)
    cc: list[User] = field(default_factory=list)
    files: list[File[bytes]] = field(default_factory=list)
    customer_service_id: int | None = None  # one of the requester's services (tessera.catalog)


def create_ticket(*, actor: User, data: NewTicket) -> Ticket:
    """Open a ticket: validates everything, then writes the ticket, its attachments, CREATED (and
    ASSIGNED when routing picks an agent) events in one transaction."""
    requester = data.requester or actor
    _check_can_file_for(actor, requester)
    if not data.department.is_active:
        raise ValidationFailed(_("This department does not accept tickets."), field="department")
    subject = clean_text(
        data.subject, field="subject", max_length=SUBJECT_MAX, required=True, single_line=True
    )
    description = clean_text(data.description, field="description", max_length=BODY_MAX, required=True)
    channel = clean_choice(data.channel, Channel, "channel") or Channel.WEB
    impact = clean_choice(data.impact, Impact, "impact")
    urgency = clean_choice(data.urgency, Urgency, "urgency")
    priority = data.priority or _matrix_priority(impact, urgency) or default_priority()
    if priority is None:
        raise ValidationFailed(_("No priorities are configured."), field="priority")
    details = data.details.cleaned()
    service = None
    if data.customer_service_id is not None:
        from tessera.catalog.services import check_service_for  # catalog builds on tickets

        service = check_service_for(requester, data.customer_service_id)
        # The name as the customer's client area shows it, unless they described it themselves.
        details["affected_service"] = details["affected_service"] or service.name
    checked = check_files(data.files)
    tags = [clean_text(t, field="tags", max_length=50, required=True, single_line=True) for t in data.tags]
    _check_required(data.department, priority, details, has_files=bool(checked))

    now = clock.now()
    # Routing only reads (its balance is approximate by design), so it and the new instance are made before
    # the transaction: on SQLite a transaction holds the one write lock from its first statement to commit.
    assignee_id = pick_agent(data.department, requester.language) if data.department.auto_assign else None
    ticket = Ticket(
        subject=subject,
        description=description,
        requester=requester,
        submitted_by=actor,
        channel=channel,
        department=data.department,
        priority=priority,
        impact=impact,
        urgency=urgency,
        assignee_id=assignee_id,
        customer_service=service,
        created_at=now,
        updated_at=now,
        **details,
    )
    with transaction.atomic():
        ticket.save(force_insert=True)
        if tags:
            ticket.tags.set(_tags(tags))
        if data.cc:
            ticket.cc.set(data.cc)
        # The creation events' listeners (notifications, emails) each ask for the CC contacts: one read.
        prefetch_related_objects([ticket], "cc")
        record_event(
            ticket=ticket,
            actor=actor,
            channel=channel,
            kind=Kind.CREATED,
            new={
                "status": ticket.status,
                "priority": priority.slug,
                "department": data.department.slug,
                "requester": requester.pk,
                "submitted_by": actor.pk,
            },
        )
        _store_files(ticket, actor, channel, checked, message=None)
        if assignee_id is not None:
            record_event(
                ticket=ticket,
                actor=None,
                channel=Channel.SYSTEM,
                kind=Kind.ASSIGNED,
                old=None,
                new=assignee_id,
                is_public=False,
            )
            # Last statement before commit: every new ticket of a department may update the same agent's
            # row, so its lock is held for the commit only, not while the listeners above run.
            adjust_load({assignee_id: 1}, assigned_to=assignee_id)
    return ticket


def add_reply(
    *,
    actor: User,
    ticket: Ticket,
    body: str,
    channel: str = Channel.WEB,
    files: list[File[bytes]] | None = None,
    expected_version: int | None = None,
) -> Message:
    """Add a public reply. A customer's reply resumes a ticket waiting on them and reopens a resolved
    one within the department's window; an agent's first reply accepts a new ticket."""
    _check_visible(actor, ticket)
    text = clean_text(body, field="body", max_length=BODY_MAX, required=True)
    checked = check_files(files)
    channel = clean_choice(channel, Channel, "channel") or Channel.WEB
    is_agent = access.can_work_on(actor, ticket)
    with transaction.atomic():
        # The status the reply leads to depends on the status when it commits, not when the page was
        # read: a resolve that committed in the meantime is reopened by this reply, never swallowed.
        _lock_current_state(ticket)
        new_status = _status_after_reply(ticket, is_agent)
        old_status = ticket.status
        ticket = _bump(ticket, expected_version, status=new_status, conditional=expected_version is not None)
        message = Message.objects.create(
            ticket=ticket,
            author=actor,
            kind=Message.Kind.REPLY,
            channel=channel,
            body=text,
            created_at=clock.now(),
        )
        record_event(ticket=ticket, actor=actor, channel=channel, kind=Kind.REPLIED, message=message)
        _store_files(ticket, actor, channel, checked, message=message)
        if new_status:
            _record_status(ticket, actor, channel, old_status, new_status)
    return message


def add_note(
    *,
    actor: User,
    ticket: Ticket,
    body: str,
    files: list[File[bytes]] | None = None,
    channel: str = Channel.WEB,
    expected_version: int | None = None,
) -> Message:
    """Add an internal note, visible to agents only (with `expected_version`, refused with a conflict when
    the ticket changed since the agent read it)."""
    _check_agent(actor, ticket)
    text = clean_text(body, field="body", max_length=BODY_MAX, required=True)
    checked = check_files(files)
    with transaction.atomic():
        ticket = _bump(ticket, expected_version, conditional=expected_version is not None)
        message = Message.objects.create(
            ticket=ticket,
            author=actor,
            kind=Message.Kind.NOTE,
            channel=channel,
            body=text,
            created_at=clock.now(),
        )
        record_event(
            ticket=ticket,
            actor=actor,
            channel=channel,
            kind=Kind.NOTE_ADDED,
            message=message,
            is_public=False,
        )
        _store_files(ticket, actor, channel, checked, message=message, is_public=False)
    return message


def add_attachments(
    *, actor: User, ticket: Ticket, files: list[File[bytes]], channel: str = Channel.WEB
) -> list[Attachment]:
    """Attach files to the ticket itself (not to a message); all are checked before any is stored."""
    _check_visible(actor, ticket)
    if ticket.status == Status.CLOSED:
        raise IllegalTransition(_("This ticket is closed; please open a new ticket."), field="attachments")
    checked = check_files(files)
    if not checked:
        raise ValidationFailed(_("Choose at least one file."), field="attachments")
    with transaction.atomic():
        ticket = _bump(ticket, None, conditional=False)
        return _store_files(ticket, actor, channel, checked, message=None)


def transition_ticket(
    *,
    actor: User,
    ticket: Ticket,
    status: str,
    reason: str = "",
    channel: str = Channel.WEB,
    expected_version: int | None = None,
) -> Ticket:
    """Move the ticket to `status` if the lifecycle and the actor's role allow it. Returning a ticket
    for more information needs the question in `reason`, which the customer is shown."""
    _check_visible(actor, ticket)
    target = clean_choice(status, Status, "status")
    if not target:
        raise ValidationFailed(_("This field is required."), field="status")
    reason = clean_text(reason, field="reason", max_length=REASON_MAX)
    allowed = TRANSITIONS if access.can_work_on(actor, ticket) else CUSTOMER_TRANSITIONS
    if target == ticket.status or target not in allowed[ticket.status]:
        raise IllegalTransition(
            _("A ticket that is %(current)s cannot be moved to %(target)s.")
            % {"current": Status(ticket.status).label, "target": Status(target).label},
            field="status",
        )
    if target == Status.WAITING and not reason:
        raise ValidationFailed(_("Say what information you need from the customer."), field="reason")
    if ticket.status == Status.RESOLVED and target == Status.OPEN and not access.can_work_on(actor, ticket):
        _check_reopen_window(ticket)
    with transaction.atomic():
        old_status = ticket.status
        ticket = _bump(ticket, expected_version, status=target)
        _record_status(ticket, actor, channel, old_status, target, reason=reason)
    return ticket


def change_priority(
    *,
    actor: User | None,
    ticket: Ticket,
    priority: Priority,
    reason: str,
    channel: str = Channel.WEB,
    expected_version: int | None = None,
) -> Ticket:
    """Change the priority; the reason is shown to the customer. `actor=None` is the system (SLA
    escalation): no permission check, and the event records no actor."""
    _check_agent_or_system(actor, ticket)
    reason = clean_text(reason, field="reason", max_length=REASON_MAX, required=True)
    if priority.pk == ticket.priority_id:
        raise ValidationFailed(_("The ticket already has this priority."), field="priority")
    old = ticket.priority.slug
    with transaction.atomic():
        ticket = _bump(ticket, expected_version, priority=priority)
        record_event(
            ticket=ticket,
            actor=actor,
            channel=channel,
            kind=Kind.PRIORITY_CHANGED,
            old=old,
            new=priority.slug,
            reason=reason,
        )
    return ticket


def assign_ticket(
    *,
    actor: User | None,
    ticket: Ticket,
    assignee: User | None,
    channel: str = Channel.WEB,
    expected_version: int | None = None,
) -> Ticket:
    """Assign to an agent of the ticket's department, or unassign with None. `actor=None` is the
    system: no permission check, the assignee rule still applies."""
    _check_agent_or_system(actor, ticket)
    if assignee is not None and not (
        assignee.is_active and access.can_work_in_department(assignee, ticket.department_id)
    ):
        raise ValidationFailed(
            _("The assignee must be an agent of the ticket's department."), field="assignee"
        )
    old = ticket.assignee_id
    new = assignee.pk if assignee else None
    if old == new:
        raise ValidationFailed(_("The ticket is already assigned this way."), field="assignee")
    with transaction.atomic():
        ticket = _bump(ticket, expected_version, assignee=assignee)
        record_event(
            ticket=ticket, actor=actor, channel=channel, kind=Kind.ASSIGNED, old=old, new=new, is_public=False
        )
    return ticket


def change_department(
    *,
    actor: User | None,
    ticket: Ticket,
    department: Department,
    reason: str = "",
    channel: str = Channel.WEB,
    expected_version: int | None = None,
) -> Ticket:
    """Move the ticket to another department; the assignee is kept only if they work there too.
    `actor=None` is the system: no permission check."""
    _check_agent_or_system(actor, ticket)
    reason = clean_text(reason, field="reason", max_length=REASON_MAX)
    if department.pk == ticket.department_id:
        raise ValidationFailed(_("The ticket is already in this department."), field="department")
    if not department.is_active:
        raise ValidationFailed(_("This department does not accept tickets."), field="department")
    old = ticket.department.slug
    keep_assignee = ticket.assignee is not None and access.can_work_in_department(
        ticket.assignee, department.pk
    )
    with transaction.atomic():
        changes: dict[str, Any] = {"department": department}
        if ticket.assignee_id and not keep_assignee:
            changes["assignee"] = None
            record_event(
                ticket=ticket,
                actor=actor,
                channel=channel,
                kind=Kind.ASSIGNED,
                old=ticket.assignee_id,
                new=None,
                is_public=False,
            )
        ticket = _bump(ticket, expected_version, **changes)
        record_event(
            ticket=ticket,
            actor=actor,
            channel=channel,
            kind=Kind.DEPARTMENT_CHANGED,
            old=old,
            new=department.slug,
            reason=reason,
        )
    return ticket


def update_details(
    *,
    actor: User,
    ticket: Ticket,
    details: dict[str, Any],
    channel: str = Channel.WEB,
    expected_version: int | None = None,
) -> Ticket:
    """Change incident details; records one event listing each field's old and new value."""
    _check_agent(actor, ticket)
    current = {name: getattr(ticket, name) for name in DETAIL_FIELDS}
    merged = IncidentDetails.from_values({**current, **details}).cleaned()
    changed = {name: value for name, value in merged.items() if value != current[name]}
    if not changed:
        raise ValidationFailed(_("Nothing to change."), field=next(iter(details), None))
    with transaction.atomic():
        ticket = _bump(ticket, expected_version, **changed)
        record_event(
            ticket=ticket,
            actor=actor,
            channel=channel,
            kind=Kind.FIELDS_CHANGED,
            old={k: _jsonable(current[k]) for k in changed},
            new={k: _jsonable(v) for k, v in changed.items()},
        )
    return ticket


def set_tags(
    *,
    actor: User,
    ticket: Ticket,
    tags: list[str],
    channel: str = Channel.WEB,
    expected_version: int | None = None,
) -> Ticket:
    """Replace the ticket's tags."""
    _check_agent(actor, ticket)
    names = sorted(
        {clean_text(t, field="tags", max_length=50, required=True, single_line=True) for t in tags}
    )
    old = sorted(ticket.tags.values_list("name", flat=True))
    if names == old:
        return ticket
    with transaction.atomic():
        ticket = _bump(ticket, expected_version, conditional=expected_version is not None)
        ticket.tags.set(_tags(names))
        record_event(
            ticket=ticket,
            actor=actor,
            channel=channel,
            kind=Kind.TAGS_CHANGED,
            old=old,
            new=names,
            is_public=False,
        )
    return ticket


def set_cc(*, actor: User, ticket: Ticket, contacts: list[User], channel: str = Channel.WEB) -> Ticket:
    """Replace the CC contacts (agents, or the requester for their own ticket); they see the ticket and its
    public replies."""
    _check_visible(actor, ticket)
    if not (access.can_work_on(actor, ticket) or actor.pk == ticket.requester_id):
        raise PermissionDenied(_("Only the requester or an agent can change who is copied."))
    if any(contact.is_agent for contact in contacts):
        raise ValidationFailed(_("Only customer contacts can be copied on a ticket."), field="cc")
    old = sorted(ticket.cc.values_list("id", flat=True))
    new = sorted({contact.pk for contact in contacts})
    if old == new:
        return ticket
    with transaction.atomic():
        ticket = _bump(ticket, None, conditional=False)
        ticket.cc.set(new)
        record_event(ticket=ticket, actor=actor, channel=channel, kind=Kind.CC_CHANGED, old=old, new=new)
    return ticket


def merge_tickets(
    *,
    actor: User,
    source: Ticket,
    target: Ticket,
    channel: str = Channel.WEB,
    confirm_different_requesters: bool = False,
) -> Ticket:
    """Merge `source` into `target`: its messages and attachments move, it is closed with a pointer to the
    target, and both timelines record the merge. Both tickets are locked, in id order, against races.
    Tickets of two different requesters merge only when confirmed, and then what was moved stays with
    the people who could see it before (tessera.tickets.access, `merged_from`)."""
    _check_agent(actor, source)
    _check_agent(actor, target)
    if source.pk == target.pk:
        raise ValidationFailed(_("A ticket cannot be merged into itself."), field="target")
    if source.requester_id != target.requester_id and not confirm_different_requesters:
        raise ValidationFailed(
            _(
                "%(source)s was opened by %(source_person)s and %(target)s by %(target_person)s. Confirm "
                "to merge the tickets of two different people: each keeps seeing only their own messages "
                "and files."
            )
            % {
                "source": source.reference,
                "source_person": source.requester.display_name,
                "target": target.reference,
                "target_person": target.requester.display_name,
            },
            field="confirm_different_requesters",
        )
    with transaction.atomic():
        locked = {
            t.pk: t
            for t in Ticket.objects.select_for_update().filter(pk__in=[source.pk, target.pk]).order_by("pk")
        }
        source, target = locked[source.pk], locked[target.pk]
        if source.merged_into_id or source.status == Status.CLOSED:
            raise IllegalTransition(
                _("Ticket %(ref)s is already closed or merged.") % {"ref": source.reference}, field="source"
            )
        if target.merged_into_id or target.status == Status.CLOSED:
            raise IllegalTransition(
                _("Ticket %(ref)s is closed and cannot receive a merge.") % {"ref": target.reference},
                field="target",
            )
        moved = list(source.messages.values_list("id", flat=True))
        if source.requester_id != target.requester_id:
            # Items moved by an earlier merge keep the ticket they came from.
            Message.objects.filter(ticket=source, merged_from__isnull=True).update(merged_from=source)
            Attachment.objects.filter(ticket=source, merged_from__isnull=True).update(merged_from=source)
        Message.objects.filter(ticket=source).update(ticket=target)
        Attachment.objects.filter(ticket=source).update(ticket=target)
        now = clock.now()
        Ticket.objects.filter(pk=source.pk).update(
            status=Status.CLOSED, merged_into=target, closed_at=now, updated_at=now, version=F("version") + 1
        )
        adjust_load(load_change(source.assignee_id, source.status, source.assignee_id, Status.CLOSED))
        Ticket.objects.filter(pk=target.pk).update(updated_at=now, version=F("version") + 1)
        record_event(
            ticket=source,
            actor=actor,
            channel=channel,
            kind=Kind.MERGED,
            old=source.status,
            new={"into": target.pk, "status": Status.CLOSED},
        )
        record_event(
            ticket=target,
            actor=actor,
            channel=channel,
            kind=Kind.MERGED_FROM,
            new={"from": source.pk, "messages": moved},
        )
    target.refresh_from_db()
    return target


def publish_merged_message(*, actor: User, message: Message) -> Message:
    """Show a message moved in from another requester's ticket (and its files) to everyone who sees the
    ticket it is now on: an agent's decision."""
    ticket = message.ticket
    _check_agent(actor, ticket)
    if message.merged_from_id is None:
        raise ValidationFailed(_("This message is already shown on this ticket."), field="message")
    with transaction.atomic():
        Attachment.objects.filter(message=message).update(merged_from=None)
        merged_from = message.merged_from_id
        message.merged_from = None
        message.save(update_fields=["merged_from"])
        ticket = _bump(ticket, None, conditional=False)
        # Agents' record of the decision; listeners (search) refresh what customers may now find. The
        # message is named in `new`, not linked: it stays shown where it is, not as this event.
        record_event(
            ticket=ticket,
            actor=actor,
            channel=Channel.WEB,
            kind=Kind.MESSAGE_PUBLISHED,
            new={"message": message.pk, "from": merged_from},
            is_public=False,
        )
    return message


# Helpers ------------------------------------------------------------------------------------------------


def _check_visible(actor: User, ticket: Ticket) -> None:
    if not access.can_view_ticket(actor, ticket):
        raise NotFound(_("Ticket not found."))


def _check_agent(actor: User, ticket: Ticket) -> None:
    _check_visible(actor, ticket)
    if not access.can_work_on(actor, ticket):
        raise PermissionDenied(_("Only agents of the ticket's department can do this."))


def _check_agent_or_system(actor: User | None, ticket: Ticket) -> None:
    # None is Tessera itself (SLA escalation): it acts on any ticket, and only code can pass None.
    if actor is not None:
        _check_agent(actor, ticket)


def _check_can_file_for(actor: User, requester: User) -> None:
    if requester.pk == actor.pk or actor.is_agent:
        return
    # A customer may file on behalf of a colleague of the same organisation (the seeds allow it).
    if actor.organisation_id and requester.organisation_id == actor.organisation_id:
        return
    raise PermissionDenied(_("You can only file requests for colleagues of your organisation."))


def _check_required(
    department: Department, priority: Priority, details: dict[str, Any], *, has_files: bool
) -> None:
    for rule in required_field_rules(department.pk, priority.pk):
        for name in rule.fields:
            if name == "ip_or_order":
                if not (details["server_ip"] or details["order_number"]):
                    raise ValidationFailed(
                        _("Give the server IP or the order number for a %(priority)s %(department)s ticket.")
                        % {"priority": priority.name, "department": department.name},
                        field="server_ip",
                    )
            elif name == "attachment":
                if not has_files:
                    raise ValidationFailed(
                        _("Attach at least one file (a screenshot or a log)."), field="attachments"
                    )
            elif not details.get(name):
                raise ValidationFailed(
                    _("This field is required for a %(priority)s %(department)s ticket.")
                    % {"priority": priority.name, "department": department.name},
                    field=name,
                )


def _matrix_priority(impact: str, urgency: str) -> Priority | None:
    """The impact x urgency matrix decides the priority when the customer answered those questions."""
    from tessera.sla.services import priority_for  # sla listens to tickets, so import at call time

    return priority_for(impact, urgency)


def _check_reopen_window(ticket: Ticket) -> None:
    resolved_at = ticket.resolved_at or ticket.updated_at
    if clock.now() - resolved_at > timedelta(days=ticket.department.reopen_window_days):
        raise IllegalTransition(
            _("This ticket was resolved more than %(days)d days ago; please open a new ticket.")
            % {"days": ticket.department.reopen_window_days},
            field="status",
        )


def _status_after_reply(ticket: Ticket, is_agent: bool) -> str | None:
    if ticket.status == Status.CLOSED:
        raise IllegalTransition(_("This ticket is closed; please open a new ticket."), field="body")
    if is_agent:
        return Status.OPEN if ticket.status == Status.NEW else None
    if ticket.status == Status.WAITING:
        return Status.OPEN
    if ticket.status == Status.RESOLVED:
        _check_reopen_window(ticket)
        return Status.OPEN
    return None


def _lock_current_state(ticket: Ticket) -> None:
    """Lock the ticket's row until the transaction ends (PostgreSQL; SQLite's IMMEDIATE transactions
    already hold the write lock) and re-read the fields a change is decided on."""
    ticket.refresh_from_db(
        from_queryset=Ticket.objects.select_for_update(),
        fields=["status", "version", "resolved_at", "closed_at", "assignee", "updated_at"],
    )


def _bump(
    ticket: Ticket, expected_version: int | None, *, conditional: bool = True, **changes: Any
) -> Ticket:
    """Apply `changes` and bump the version with one UPDATE. When conditional, the UPDATE only matches
    the version the caller read, so of two concurrent writers the second gets a conflict, not a lost
    update."""
    changes = {k: v for k, v in changes.items() if v is not None or k in ("assignee",)}
    now = clock.now()
    status = changes.get("status")
    if status == Status.RESOLVED:
        changes["resolved_at"] = now
    elif status == Status.CLOSED:
        changes["closed_at"] = now
    elif status == Status.OPEN and ticket.status in (Status.RESOLVED, Status.CLOSED):
        changes["resolved_at"] = None
    row = Ticket.objects.filter(pk=ticket.pk)
    read_version = expected_version if expected_version is not None else ticket.version
    if conditional:
        row = row.filter(version=read_version)
    if not row.update(version=F("version") + 1, updated_at=now, **changes):
        raise Conflict(
            _("Someone else changed this ticket in the meantime. Reload it and try again."), field="version"
        )
    if "status" in changes or "assignee" in changes:
        new_assignee = changes["assignee"].pk if changes.get("assignee") else None
        adjust_load(
            load_change(
                ticket.assignee_id,
                ticket.status,
                new_assignee if "assignee" in changes else ticket.assignee_id,
                changes.get("status", ticket.status),
            )
        )
    for name, value in changes.items():
        setattr(ticket, name, value)
    ticket.updated_at = now
    if conditional:
        ticket.version = read_version + 1  # the UPDATE matched exactly that version
    else:
        ticket.version = Ticket.objects.values_list("version", flat=True).get(pk=ticket.pk)
    return ticket


def _record_status(
    ticket: Ticket, actor: User, channel: str, old: str, new_status: str, reason: str = ""
) -> None:
    record_event(
        ticket=ticket,
        actor=actor,
        channel=channel,
        kind=Kind.STATUS_CHANGED,
        old=old,
        new=new_status,
        reason=reason,
    )


def _store_files(
    ticket: Ticket,
    actor: User,
    channel: str,
    files: list[CheckedFile],
    *,
    message: Message | None,
    is_public: bool = True,
) -> list[Attachment]:
    stored = []
    for checked in files:
        attachment = Attachment(
            ticket=ticket,
            message=message,
            uploaded_by=actor,
            filename=checked.filename,
            content_type=checked.content_type,
            size=checked.size,
            sha256=checked.sha256,
            created_at=clock.now(),
        )
        name = attachment_path(attachment, checked.filename)
        if attachment.file.storage.exists(name):
            attachment.file.name = name  # identical content is stored once
        else:
            attachment.file.save(checked.sha256, ContentFile(checked.content), save=False)
        attachment.save()
        record_event(
            ticket=ticket,
            actor=actor,
            channel=channel,
            kind=Kind.ATTACHMENT_ADDED,
            new={"id": attachment.pk, "filename": checked.filename, "size": checked.size},
            message=message,
            is_public=is_public,
        )
        stored.append(attachment)
    return stored


def _tags(names: list[str]) -> list[Tag]:
    return [Tag.objects.get_or_create(name=name)[0] for name in names]


def clean_choice(value: str | None, choices: Any, field_name: str) -> str:
    if not value:
        return ""
    if value not in choices.values:
        raise ValidationFailed(
            _("“%(value)s” is not one of: %(choices)s.")
            % {"value": str(value)[:40], "choices": ", ".join(choices.values)},
            field=field_name,
        )
    return str(value)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
