"""Ticket endpoints: schema in → the same queries and services the pages use → schema out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.files import UploadedFile
from ninja.params.functions import File as file_param
from ninja.responses import Status as HttpStatus
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tessera.accounts.models import User
from tessera.accounts.queries import department_by_id, get_contact_for, get_department_for
from tessera.api.schemas import (
    AGENT_ONLY,
    BodyId,
    Cursor,
    Id,
    Instant,
    StrictBool,
    StrictSchema,
    TimeZone,
    Version,
    request_actor,
    text,
)
from tessera.core import clock
from tessera.core.errors import NotFound, ValidationFailed
from tessera.tickets import access, queries, services
from tessera.tickets.attachments import attachment_response
from tessera.tickets.models import (
    Attachment,
    Channel,
    Frequency,
    Impact,
    Location,
    OthersAffected,
    Priority,
    Status,
    Ticket,
    Urgency,
)
from tessera.tickets.reference import priority_by_id, priority_by_slug

router = Router(tags=["tickets"])


class DetailsIn(StrictSchema):
    affected_service: str | None = text(200, default=None, required=False)
    server_ip: str | None = Field(None, max_length=64, description="An IPv4 or IPv6 address.")
    order_number: str | None = text(64, default=None, required=False)
    problem_started_at: Instant | None = None
    problem_started_tz: TimeZone | None = None
    frequency: Frequency | None = None
    location: Location | None = None
    error_message: str | None = text(10_000, default=None, required=False, single_line=False)
    others_affected: OthersAffected | None = None
    recent_changes: str | None = text(10_000, default=None, required=False, single_line=False)
    diagnostics: str | None = text(50_000, default=None, required=False, single_line=False)


Tag = Annotated[str, text(50)]
Slug = Annotated[str, Field(min_length=1, max_length=50)]


class TicketIn(StrictSchema):
    subject: str = text(services.SUBJECT_MAX)
    description: str = text(services.BODY_MAX, single_line=False)
    department: BodyId | Slug = Field(description="A department id or slug.")
    requester_id: BodyId | None = Field(None, description="File for a colleague or (agents) a contact.")
    priority: Slug | None = Field(None, description="A priority slug (GET /priorities).")
    impact: Impact | None = None
    urgency: Urgency | None = None
    channel: Channel | None = Field(
        None, description="Agents only; customers file through `api`.", json_schema_extra=AGENT_ONLY
    )
    details: DetailsIn | None = None
    tags: list[Tag] = Field(
        default_factory=list, max_length=50, description="Agents only.", json_schema_extra=AGENT_ONLY
    )
    cc_ids: list[BodyId] = Field(default_factory=list, max_length=50)
    customer_service_id: BodyId | None = Field(None, description="One of the requester's services.")


class Out(BaseModel):
    """Responses are built as dicts; plain pydantic models validate those directly (ninja's Schema would
    first wrap every value for attribute access, which was a third of a queue request)."""


class PersonOut(Out):
    id: int
    email: str
    name: str


class DepartmentRef(Out):
    id: int
    slug: str
    name: str


class TicketOut(Out):
    id: int
    reference: str
    subject: str
    description: str
    status: str
    priority: str
    impact: str
    urgency: str
    channel: str
    department: DepartmentRef
    requester: PersonOut
    submitted_by: PersonOut
    assignee: PersonOut | None
    tags: list[str]
    cc: list[int]
    details: dict[str, Any]
    customer_service_id: int | None
    merged_into: int | None
    created_at: datetime
    updated_at: datetime
    version: int


class MessageOut(Out):
    id: int
    kind: str
    channel: str
    author: PersonOut
    body: str
    created_at: datetime
    merged_from: int | None = Field(
        description="The ticket of another requester a merge moved this from; until an agent publishes it, "
        "that ticket's people see it there and this ticket's customer does not."
    )


class EventOut(Out):
    id: int
    kind: str
    channel: str
    actor: PersonOut | None
    old: Any = None
    new: Any = None
    reason: str
    message_id: int | None
    created_at: datetime


class AttachmentOut(Out):
    id: int
    filename: str
    content_type: str
    size: int
    message_id: int | None
    created_at: datetime


class ExpectedReplyRef(Out):
    target: str = Field(description="first_response, or acknowledge when that is the only promise")
    label: str
    state: str = Field(description="running, paused, met, missed or stopped")
    due: datetime | None = Field(description="The promised instant; null while waiting on the customer.")
    met_at: datetime | None


class TicketDetailOut(TicketOut):
    messages: list[MessageOut]
    timeline: list[EventOut]
    attachments: list[AttachmentOut]
    expected_reply: ExpectedReplyRef | None = Field(
        description="When to expect an answer under the ticket's SLA (as the client area shows it); "
        "null when no target promises one. `GET /tickets/{id}/sla` has every target."
    )


class DetailsPatchIn(DetailsIn):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    @model_validator(mode="after")
    def _changes_something(self) -> DetailsPatchIn:
        if not self.model_fields_set:
            raise ValueError("Give at least one detail to change.")
        return self


class TicketPage(Out):
    items: list[TicketOut]
    next_cursor: str | None


class TicketFilters(Schema):
    department: str | None = Field(None, max_length=50, description="A department id or slug.")
    status: list[Status] | None = None
    assignee: str | None = Field(
        None, pattern=r"^(me|none|[1-9][0-9]{0,17})$", description="An agent id, `me` or `none`."
    )
    priority: str | None = Field(None, max_length=50, description="A priority slug.")
    requester: Id | None = None
    tag: str | None = Field(None, max_length=50)
    channel: Channel | None = None
    cursor: str | None = Cursor
    limit: int = Field(25, ge=1, le=100)


class ReplyIn(StrictSchema):
    body: str = text(services.BODY_MAX, single_line=False)
    version: Version | None = None


class NoteIn(StrictSchema):
    body: str = text(services.BODY_MAX, single_line=False)
    version: Version | None = None


class StatusIn(StrictSchema):
    status: Status
    reason: str = text(services.REASON_MAX, default="", required=False, single_line=False)
    version: Version | None = None


class PriorityIn(StrictSchema):
    priority: Slug = Field(description="A priority slug (GET /priorities).")
    reason: str = text(services.REASON_MAX, single_line=False, description="Shown to the customer.")
    version: Version | None = None


class AssignIn(StrictSchema):
    assignee_id: BodyId | None
    version: Version | None = None


class DepartmentIn(StrictSchema):
    department: BodyId | Slug = Field(description="A department id or slug.")
    reason: str = text(services.REASON_MAX, default="", required=False, single_line=False)
    version: Version | None = None


class TagsIn(StrictSchema):
    tags: list[Tag] = Field(max_length=50)
    version: Version | None = None


class CcIn(StrictSchema):
    contact_ids: list[BodyId] = Field(max_length=50)


class MergeIn(StrictSchema):
    target_id: BodyId
    # Tickets of two different requesters merge only with this set (each keeps seeing only their own).
    confirm_different_requesters: StrictBool = False


def _person(user: User) -> dict[str, Any]:
    return {"id": user.pk, "email": user.email, "name": user.display_name}


def _by_ticket(pairs: Any) -> dict[int, list[Any]]:
    """(ticket id, value) rows grouped by ticket, in the rows' order."""
    grouped: dict[int, list[Any]] = {}
    for ticket_id, value in pairs:
        grouped.setdefault(ticket_id, []).append(value)
    return grouped


def tickets_out(
    tickets: list[Ticket],
    *,
    tags: dict[int, list[str]] | None = None,
    cc: dict[int, list[int]] | None = None,
) -> list[dict[str, Any]]:
    """Tickets as the API shows them, with a fixed number of queries however many there are: tags and CC
    ids in one query each (skipped when the caller already has them); people from the tickets' own
    select_related; departments and priorities from the per-process copy."""
    ids = [t.pk for t in tickets]
    if tags is None:
        links = Ticket.tags.through.objects.filter(ticket_id__in=ids).order_by("tag__name")
        tags = _by_ticket(links.values_list("ticket_id", "tag__name"))
    if cc is None:
        copied = Ticket.cc.through.objects.filter(ticket_id__in=ids).order_by("user_id")
        cc = _by_ticket(copied.values_list("ticket_id", "user_id"))
    result = []
    for ticket in tickets:
        department = department_by_id(ticket.department_id)
        result.append(
            {
                "id": ticket.pk,
                "reference": ticket.reference,
                "subject": ticket.subject,
                "description": ticket.description,
                "status": ticket.status,
                "priority": priority_by_id(ticket.priority_id).slug,
                "impact": ticket.impact,
                "urgency": ticket.urgency,
                "channel": ticket.channel,
                "department": {"id": department.pk, "slug": department.slug, "name": department.name},
                "requester": _person(ticket.requester),
                "submitted_by": _person(ticket.submitted_by),
                "assignee": _person(ticket.assignee) if ticket.assignee else None,
                "tags": tags.get(ticket.pk, []),
                "cc": cc.get(ticket.pk, []),
                "details": {name: getattr(ticket, name) for name in services.DETAIL_FIELDS},
                "customer_service_id": ticket.customer_service_id,
                "merged_into": ticket.merged_into_id,
                "created_at": ticket.created_at,
                "updated_at": ticket.updated_at,
                "version": ticket.version,
            }
        )
    return result


def ticket_out(ticket: Ticket, **known: Any) -> dict[str, Any]:
    return tickets_out([ticket], **known)[0]


def ticket_detail_out(
    user: User,
    ticket: Ticket,
    *,
    new: bool = False,
    tags: list[str] | None = None,
    cc: list[int] | None = None,
) -> dict[str, Any]:
    """A ticket with the conversation, timeline and files `user` may see (tessera.tickets.access). `new`:
    just created here, so it has no messages yet and that query is skipped; `tags`/`cc` when the caller
    knows them."""
    messages = [] if new else list(access.visible_messages(user, ticket).select_related("author"))
    events = list(access.visible_events(user, ticket).select_related("actor").order_by("created_at", "id"))
    data = ticket_out(
        ticket, tags=None if tags is None else {ticket.pk: tags}, cc=None if cc is None else {ticket.pk: cc}
    )
    data["messages"] = [_message_out(m) for m in messages]
    data["timeline"] = [
        {
            "id": e.pk,
            "kind": e.kind,
            "channel": e.channel,
            "actor": _person(e.actor) if e.actor else None,
            "old": e.old,
            "new": e.new,
            "reason": e.reason,
            "message_id": e.message_id,
            "created_at": e.created_at,
        }
        for e in events
    ]
    attachments = [] if new else access.visible_attachments(user, ticket).order_by("id")
    data["attachments"] = [_attachment_out(a) for a in attachments]
    from tessera.sla.api import expected_reply_out  # the SLA app builds on tickets, not the reverse
    from tessera.sla.queries import expected_for

    data["expected_reply"] = expected_reply_out(expected_for(ticket, clock.now()))
    return data


def _priority(slug: str | None) -> Priority | None:
    return _known_priority(slug) if slug else None


def _known_priority(slug: str) -> Priority:
    priority = priority_by_slug(slug)
    if priority is None:
        raise ValidationFailed(_("Unknown priority “%(value)s”.") % {"value": slug[:40]}, field="priority")
    return priority


@router.post("/tickets", response={201: TicketDetailOut}, summary="Open a ticket")
def create_ticket(request: HttpRequest, payload: TicketIn) -> HttpStatus[dict[str, Any]]:
    user = request_actor(request)
    requester = get_contact_for(user, payload.requester_id) if payload.requester_id else None
    cc = [get_contact_for(user, pk) for pk in payload.cc_ids]
    # Customers using the API file through the API channel; agents may log phone or email requests.
    channel = payload.channel or Channel.API
    if not user.is_agent and channel != Channel.API:
        raise ValidationFailed(_("Only agents can choose the channel."), field="channel")
    if not user.is_agent and payload.tags:
        raise ValidationFailed(_("Only agents can tag tickets."), field="tags")
    details = services.IncidentDetails.from_values(
        payload.details.model_dump(exclude_none=True) if payload.details else None
    )
    ticket = services.create_ticket(
        actor=user,
        data=services.NewTicket(
            subject=payload.subject,
            description=payload.description,
            department=get_department_for(user, payload.department),
            requester=requester,
            priority=_priority(payload.priority),
            impact=payload.impact or "",
            urgency=payload.urgency or "",
            channel=channel,
            details=details,
            tags=payload.tags,
            cc=cc,
            customer_service_id=payload.customer_service_id,
        ),
    )
    known_empty: dict[str, list[Any] | None] = {
        "tags": [] if not payload.tags else None,
        "cc": [] if not payload.cc_ids else None,
    }
    return HttpStatus(201, ticket_detail_out(user, ticket, new=True, **known_empty))


@router.get("/tickets", response=TicketPage, summary="List tickets (cursor pagination, newest first)")
def list_tickets(request: HttpRequest, filters: Query[TicketFilters]) -> dict[str, Any]:
    user = request_actor(request)
    tickets = access.visible_tickets(user)
    if filters.department:
        tickets = tickets.filter(department_id=get_department_for(user, filters.department).pk)
    if filters.status:
        tickets = tickets.filter(status__in=sorted(set(filters.status)))
    if filters.assignee == "me":
        tickets = tickets.filter(assignee_id=user.pk)
    elif filters.assignee == "none":
        tickets = tickets.filter(assignee__isnull=True)
    elif filters.assignee:
        tickets = tickets.filter(assignee_id=int(filters.assignee))  # the pattern admits 1..18 digits
    priority = _priority(filters.priority)
    if priority is not None:
        tickets = tickets.filter(priority_id=priority.pk)
    if filters.requester:
        tickets = tickets.filter(requester_id=filters.requester)
    if filters.tag:
        tickets = tickets.filter(tags__name=filters.tag)
    if filters.channel:
        tickets = tickets.filter(channel=filters.channel)
    page = queries.ticket_page(user, tickets, cursor=filters.cursor, limit=filters.limit)
    return {"items": tickets_out(page.items), "next_cursor": page.next_cursor}


@router.get(
    "/tickets/{ticket_id}", response=TicketDetailOut, summary="A ticket with its conversation and timeline"
)
def get_ticket(request: HttpRequest, ticket_id: Id) -> dict[str, Any]:
    user = request_actor(request)
    return ticket_detail_out(user, queries.get_ticket_for(user, ticket_id))


@router.post("/tickets/{ticket_id}/replies", response={201: MessageOut}, summary="Reply (public)")
def reply(request: HttpRequest, ticket_id: Id, payload: ReplyIn) -> HttpStatus[dict[str, Any]]:
    user = request_actor(request)
    ticket = queries.get_ticket_for(user, ticket_id)
    message = services.add_reply(
        actor=user, ticket=ticket, body=payload.body, channel=Channel.API, expected_version=payload.version
    )
    return HttpStatus(201, _message_out(message))


@router.post("/tickets/{ticket_id}/notes", response={201: MessageOut}, summary="Internal note (agents)")
def note(request: HttpRequest, ticket_id: Id, payload: NoteIn) -> HttpStatus[dict[str, Any]]:
    user = request_actor(request)
    ticket = queries.get_ticket_for(user, ticket_id)
    return HttpStatus(
        201,
        _message_out(
            services.add_note(
                actor=user,
                ticket=ticket,
                body=payload.body,
                channel=Channel.API,
                expected_version=payload.version,
            )
        ),
    )


def _message_out(message: Any) -> dict[str, Any]:
    return {
        "id": message.pk,
        "kind": message.kind,
        "channel": message.channel,
        "author": _person(message.author),
        "body": message.body,
        "created_at": message.created_at,
        "merged_from": message.merged_from_id,
    }


class PublishIn(StrictSchema):
    confirm: StrictBool = Field(
        json_schema_extra={"const": True},
        description="true: you confirm that the ticket's requester (and everyone who sees the ticket) will "
        "see this message and its files.",
    )


@router.post(
    "/tickets/{ticket_id}/messages/{message_id}/publish",
    response=MessageOut,
    summary="Show a message merged in from another requester's ticket to this ticket's customer",
)
def publish_message(
    request: HttpRequest, ticket_id: Id, message_id: Id, payload: PublishIn
) -> dict[str, Any]:
    user = request_actor(request)
    ticket = queries.get_ticket_for(user, ticket_id)
    message = access.visible_messages(user, ticket).filter(pk=message_id, ticket=ticket).first()
    if message is None:
        raise NotFound(_("Message not found."))
    return _message_out(
        services.publish_merged_message(
            actor=user, message=message, confirm=payload.confirm, channel=Channel.API
        )
    )


@router.post("/tickets/{ticket_id}/status", response=TicketOut, summary="Change the status")
def change_status(request: HttpRequest, ticket_id: Id, payload: StatusIn) -> dict[str, Any]:
    user = request_actor(request)
    ticket = queries.get_ticket_for(user, ticket_id)
    return ticket_out(
        services.transition_ticket(
            actor=user,
            ticket=ticket,
            status=payload.status,
            reason=payload.reason,
            channel=Channel.API,
            expected_version=payload.version,
        )
    )


@router.post(
    "/tickets/{ticket_id}/priority", response=TicketOut, summary="Change the priority, with a reason"
)
def change_priority(request: HttpRequest, ticket_id: Id, payload: PriorityIn) -> dict[str, Any]:
    user = request_actor(request)
    ticket = queries.get_ticket_for(user, ticket_id)
    return ticket_out(
        services.change_priority(
            actor=user,
            ticket=ticket,
            priority=_known_priority(payload.priority),
            reason=payload.reason,
            channel=Channel.API,
            expected_version=payload.version,
        )
    )


@router.post("/tickets/{ticket_id}/assignee", response=TicketOut, summary="Assign or unassign")
def assign(request: HttpRequest, ticket_id: Id, payload: AssignIn) -> dict[str, Any]:
    user = request_actor(request)
    ticket = queries.get_ticket_for(user, ticket_id)
    assignee = None
    if payload.assignee_id is not None:
        assignee = User.objects.filter(pk=payload.assignee_id, role__in=["agent", "admin"]).first()
        if assignee is None:
            raise ValidationFailed(
                _("The assignee must be an agent of the ticket's department."), field="assignee"
            )
    return ticket_out(
        services.assign_ticket(
            actor=user,
            ticket=ticket,
            assignee=assignee,
            channel=Channel.API,
            expected_version=payload.version,
        )
    )


@router.post("/tickets/{ticket_id}/department", response=TicketOut, summary="Move to another department")
def move(request: HttpRequest, ticket_id: Id, payload: DepartmentIn) -> dict[str, Any]:
    user = request_actor(request)
    ticket = queries.get_ticket_for(user, ticket_id)
    department = get_department_for(user, payload.department)
    return ticket_out(
        services.change_department(
            actor=user,
            ticket=ticket,
            department=department,
            reason=payload.reason,
            channel=Channel.API,
            expected_version=payload.version,
        )
    )


@router.patch("/tickets/{ticket_id}/details", response=TicketOut, summary="Change incident details")
def update_details(request: HttpRequest, ticket_id: Id, payload: DetailsPatchIn) -> dict[str, Any]:
    user = request_actor(request)
    ticket = queries.get_ticket_for(user, ticket_id)
    changes = payload.model_dump(exclude_unset=True)
    return ticket_out(
        services.update_details(actor=user, ticket=ticket, details=changes, channel=Channel.API)
    )


@router.put("/tickets/{ticket_id}/tags", response=TicketOut, summary="Replace the tags")
def put_tags(request: HttpRequest, ticket_id: Id, payload: TagsIn) -> dict[str, Any]:
    user = request_actor(request)
    ticket = queries.get_ticket_for(user, ticket_id)
    return ticket_out(
        services.set_tags(
            actor=user,
            ticket=ticket,
            tags=payload.tags,
            channel=Channel.API,
            expected_version=payload.version,
        )
    )


@router.put("/tickets/{ticket_id}/cc", response=TicketOut, summary="Replace the CC contacts")
def put_cc(request: HttpRequest, ticket_id: Id, payload: CcIn) -> dict[str, Any]:
    user = request_actor(request)
    ticket = queries.get_ticket_for(user, ticket_id)
    contacts = [get_contact_for(user, pk) for pk in payload.contact_ids]
    return ticket_out(services.set_cc(actor=user, ticket=ticket, contacts=contacts, channel=Channel.API))


@router.post("/tickets/{ticket_id}/merge", response=TicketOut, summary="Merge this ticket into another")
def merge(request: HttpRequest, ticket_id: Id, payload: MergeIn) -> dict[str, Any]:
    user = request_actor(request)
    source = queries.get_ticket_for(user, ticket_id)
    target = queries.get_ticket_for(user, payload.target_id)
    return ticket_out(
        services.merge_tickets(
            actor=user,
            source=source,
            target=target,
            channel=Channel.API,
            confirm_different_requesters=payload.confirm_different_requesters,
        )
    )


# At least one file: multipart/form-data has no way to send an empty list.
Uploads = Annotated[list[UploadedFile], file_param(..., min_length=1)]


@router.post(
    "/tickets/{ticket_id}/attachments",
    response={201: list[AttachmentOut]},
    summary="Upload attachments (multipart, field `files`)",
)
def upload(request: HttpRequest, ticket_id: Id, files: Uploads) -> HttpStatus[list[Any]]:
    user = request_actor(request)
    ticket = queries.get_ticket_for(user, ticket_id)
    stored = services.add_attachments(actor=user, ticket=ticket, files=list(files), channel=Channel.API)
    return HttpStatus(201, [_attachment_out(a) for a in stored])


def _attachment_out(a: Attachment) -> dict[str, Any]:
    return {
        "id": a.pk,
        "filename": a.filename,
        "content_type": a.content_type,
        "size": a.size,
        "message_id": a.message_id,
        "created_at": a.created_at,
    }


@router.get("/attachments/{attachment_id}", summary="Download an attachment (always as a download)")
def download(request: HttpRequest, attachment_id: Id) -> FileResponse:
    return attachment_response(queries.get_attachment_for(request_actor(request), attachment_id))
