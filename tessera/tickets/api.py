"""Ticket endpoints: schema in → the same queries and services the pages use → schema out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status as HttpStatus
from pydantic import Field

from tessera.accounts.models import User
from tessera.accounts.queries import get_contact_for, get_department_for
from tessera.api.schemas import StrictSchema, request_actor
from tessera.core.errors import NotFound, ValidationFailed
from tessera.core.pagination import paginate
from tessera.tickets import queries, services
from tessera.tickets.models import Attachment, Channel, Priority, Status, Ticket, TimelineEvent

router = Router(tags=["tickets"])


class DetailsIn(StrictSchema):
    affected_service: str | None = None
    server_ip: str | None = None
    order_number: str | None = None
    problem_started_at: datetime | None = None
    problem_started_tz: str | None = None
    frequency: str | None = None
    location: str | None = None
    error_message: str | None = None
    others_affected: str | None = None
    recent_changes: str | None = None
    diagnostics: str | None = None


class TicketIn(StrictSchema):
    subject: str = Field(max_length=100_000)
    description: str = Field(max_length=1_000_000)
    department: int | str
    requester_id: int | None = None
    priority: str | None = None
    impact: str | None = None
    urgency: str | None = None
    channel: str | None = None
    details: DetailsIn | None = None
    tags: list[str] = Field(default_factory=list, max_length=50)
    cc_ids: list[int] = Field(default_factory=list, max_length=50)


class PersonOut(Schema):
    id: int
    email: str
    name: str


class DepartmentRef(Schema):
    id: int
    slug: str
    name: str


class TicketOut(Schema):
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
    merged_into: int | None
    created_at: datetime
    updated_at: datetime
    version: int


class MessageOut(Schema):
    id: int
    kind: str
    channel: str
    author: PersonOut
    body: str
    created_at: datetime


class EventOut(Schema):
    id: int
    kind: str
    channel: str
    actor: PersonOut | None
    old: Any = None
    new: Any = None
    reason: str
    message_id: int | None
    created_at: datetime


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    message_id: int | None
    created_at: datetime


class TicketDetailOut(TicketOut):
    messages: list[MessageOut]
    timeline: list[EventOut]
    attachments: list[AttachmentOut]


class TicketPage(Schema):
    items: list[TicketOut]
    next_cursor: str | None


class TicketFilters(Schema):
    department: str | None = None
    status: list[str] | None = None
    assignee: str | None = Field(None, description="An agent id, `me` or `none`.")
    priority: str | None = None
    requester: int | None = None
    tag: str | None = None
    channel: str | None = None
    cursor: str | None = None
    limit: int = Field(25, ge=1, le=100)


class ReplyIn(StrictSchema):
    body: str = Field(max_length=1_000_000)
    version: int | None = Field(None, description="The version you read; a newer one gives 409.")


class NoteIn(StrictSchema):
    body: str = Field(max_length=1_000_000)


class StatusIn(StrictSchema):
    status: str
    reason: str = ""
    version: int | None = None


class PriorityIn(StrictSchema):
    priority: str
    reason: str
    version: int | None = None


class AssignIn(StrictSchema):
    assignee_id: int | None
    version: int | None = None


class DepartmentIn(StrictSchema):
    department: int | str
    reason: str = ""
    version: int | None = None


class TagsIn(StrictSchema):
    tags: list[str] = Field(max_length=50)


class CcIn(StrictSchema):
    contact_ids: list[int] = Field(max_length=50)


class MergeIn(StrictSchema):
    target_id: int


def _person(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "email": user.email, "name": user.display_name}


def ticket_out(ticket: Ticket, tags: list[str] | None = None) -> dict[str, Any]:
    return {
        "id": ticket.pk,
        "reference": ticket.reference,
        "subject": ticket.subject,
        "description": ticket.description,
        "status": ticket.status,
        "priority": ticket.priority.slug,
        "impact": ticket.impact,
        "urgency": ticket.urgency,
        "channel": ticket.channel,
        "department": {
            "id": ticket.department.pk,
            "slug": ticket.department.slug,
            "name": ticket.department.name,
        },
        "requester": _person(ticket.requester),
        "submitted_by": _person(ticket.submitted_by),
        "assignee": _person(ticket.assignee),
        "tags": tags if tags is not None else [t.name for t in ticket.tags.all()],
        "cc": [contact.pk for contact in ticket.cc.all()],
        "details": {name: getattr(ticket, name) for name in services.DETAIL_FIELDS},
        "merged_into": ticket.merged_into_id,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "version": ticket.version,
    }


def ticket_detail_out(user: User, ticket: Ticket) -> dict[str, Any]:
    agent_view = user.is_agent
    messages = ticket.messages.select_related("author")
    events = TimelineEvent.objects.filter(ticket=ticket).select_related("actor")
    attachments = ticket.attachments.all()
    if not agent_view:
        messages = messages.filter(kind="reply")
        events = events.filter(is_public=True)
        attachments = attachments.exclude(message__kind="note")
    data = ticket_out(ticket)
    data["messages"] = [
        {
            "id": m.pk,
            "kind": m.kind,
            "channel": m.channel,
            "author": _person(m.author),
            "body": m.body,
            "created_at": m.created_at,
        }
        for m in messages
    ]
    data["timeline"] = [
        {
            "id": e.pk,
            "kind": e.kind,
            "channel": e.channel,
            "actor": _person(e.actor),
            "old": e.old,
            "new": e.new,
            "reason": e.reason,
            "message_id": e.message_id,
            "created_at": e.created_at,
        }
        for e in events
    ]
    data["attachments"] = list(
        attachments.values("id", "filename", "content_type", "size", "message_id", "created_at")
    )
    return data


def _priority(slug: str | None) -> Priority | None:
    if not slug:
        return None
    priority = Priority.objects.filter(slug=slug).first()
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
        ),
    )
    return HttpStatus(201, ticket_detail_out(user, queries.get_ticket_for(user, ticket.pk)))


@router.get("/tickets", response=TicketPage, summary="List tickets (cursor pagination, newest first)")
def list_tickets(request: HttpRequest, filters: Query[TicketFilters]) -> dict[str, Any]:
    user = request_actor(request)
    tickets = (
        queries.visible_tickets(user)
        .select_related("requester", "submitted_by", "department", "priority", "assignee")
        .prefetch_related("cc")
    )
    if filters.department:
        tickets = tickets.filter(department=get_department_for(user, filters.department))
    if filters.status:
        for status in filters.status:
            services.clean_choice(status, Status, "status")
        tickets = tickets.filter(status__in=filters.status)
    if filters.assignee == "me":
        tickets = tickets.filter(assignee=user)
    elif filters.assignee == "none":
        tickets = tickets.filter(assignee__isnull=True)
    elif filters.assignee:
        if not filters.assignee.isdigit():
            raise ValidationFailed(_("Use an agent id, “me” or “none”."), field="assignee")
        tickets = tickets.filter(assignee_id=int(filters.assignee))
    if filters.priority:
        tickets = tickets.filter(priority=_priority(filters.priority))
    if filters.requester:
        tickets = tickets.filter(requester_id=filters.requester)
    if filters.tag:
        tickets = tickets.filter(tags__name=filters.tag)
    if filters.channel:
        tickets = tickets.filter(channel=services.clean_choice(filters.channel, Channel, "channel"))
    page = paginate(tickets, ordering=("-id",), cursor=filters.cursor, limit=filters.limit)
    tag_map = _tags_for([t.pk for t in page.items])
    return {
        "items": [ticket_out(t, tag_map.get(t.pk, [])) for t in page.items],
        "next_cursor": page.next_cursor,
    }


def _tags_for(ticket_ids: list[int]) -> dict[int, list[str]]:
    result: dict[int, list[str]] = {}
    for ticket_id, name in Ticket.tags.through.objects.filter(ticket_id__in=ticket_ids).values_list(
        "ticket_id", "tag__name"
    ):
        result.setdefault(ticket_id, []).append(name)
    return result


@router.get(
    "/tickets/{ticket_id}", response=TicketDetailOut, summary="A ticket with its conversation and timeline"
)
def get_ticket(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    user = request_actor(request)
    return ticket_detail_out(user, queries.get_ticket_for(user, ticket_id))


@router.post("/tickets/{ticket_id}/replies", response={201: MessageOut}, summary="Reply (public)")
def reply(request: HttpRequest, ticket_id: int, payload: ReplyIn) -> HttpStatus[dict[str, Any]]:
    user = request_actor(request)
    ticket = queries.get_ticket_for(user, ticket_id)
    message = services.add_reply(
        actor=user, ticket=ticket, body=payload.body, channel=Channel.API, expected_version=payload.version
    )
    return HttpStatus(201, _message_out(message))


@router.post("/tickets/{ticket_id}/notes", response={201: MessageOut}, summary="Internal note (agents)")
def note(request: HttpRequest, ticket_id: int, payload: NoteIn) -> HttpStatus[dict[str, Any]]:
    user = request_actor(request)
    ticket = queries.get_ticket_for(user, ticket_id)
    return HttpStatus(
        201,
        _message_out(services.add_note(actor=user, ticket=ticket, body=payload.body, channel=Channel.API)),
    )


def _message_out(message: Any) -> dict[str, Any]:
    return {
        "id": message.pk,
        "kind": message.kind,
        "channel": message.channel,
        "author": _person(message.author),
        "body": message.body,
        "created_at": message.created_at,
    }


@router.post("/tickets/{ticket_id}/status", response=TicketOut, summary="Change the status")
def change_status(request: HttpRequest, ticket_id: int, payload: StatusIn) -> dict[str, Any]:
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
def change_priority(request: HttpRequest, ticket_id: int, payload: PriorityIn) -> dict[str, Any]:
    user = request_actor(request)
    ticket = queries.get_ticket_for(user, ticket_id)
    priority = _priority(payload.priority)
    assert priority is not None  # noqa: S101 - a non-empty slug either resolves or raises
    return ticket_out(
        services.change_priority(
            actor=user,
            ticket=ticket,
            priority=priority,
            reason=payload.reason,
            channel=Channel.API,
            expected_version=payload.version,
        )
    )


@router.post("/tickets/{ticket_id}/assignee", response=TicketOut, summary="Assign or unassign")
def assign(request: HttpRequest, ticket_id: int, payload: AssignIn) -> dict[str, Any]:
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
def move(request: HttpRequest, ticket_id: int, payload: DepartmentIn) -> dict[str, Any]:
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
def update_details(request: HttpRequest, ticket_id: int, payload: DetailsIn) -> dict[str, Any]:
    user = request_actor(request)
    ticket = queries.get_ticket_for(user, ticket_id)
    changes = payload.model_dump(exclude_unset=True)
    return ticket_out(
        services.update_details(actor=user, ticket=ticket, details=changes, channel=Channel.API)
    )


@router.put("/tickets/{ticket_id}/tags", response=TicketOut, summary="Replace the tags")
def put_tags(request: HttpRequest, ticket_id: int, payload: TagsIn) -> dict[str, Any]:
    user = request_actor(request)
    ticket = queries.get_ticket_for(user, ticket_id)
    return ticket_out(services.set_tags(actor=user, ticket=ticket, tags=payload.tags, channel=Channel.API))


@router.put("/tickets/{ticket_id}/cc", response=TicketOut, summary="Replace the CC contacts")
def put_cc(request: HttpRequest, ticket_id: int, payload: CcIn) -> dict[str, Any]:
    user = request_actor(request)
    ticket = queries.get_ticket_for(user, ticket_id)
    contacts = [get_contact_for(user, pk) for pk in payload.contact_ids]
    return ticket_out(services.set_cc(actor=user, ticket=ticket, contacts=contacts, channel=Channel.API))


@router.post("/tickets/{ticket_id}/merge", response=TicketOut, summary="Merge this ticket into another")
def merge(request: HttpRequest, ticket_id: int, payload: MergeIn) -> dict[str, Any]:
    user = request_actor(request)
    source = queries.get_ticket_for(user, ticket_id)
    target = queries.get_ticket_for(user, payload.target_id)
    return ticket_out(services.merge_tickets(actor=user, source=source, target=target, channel=Channel.API))


@router.post(
    "/tickets/{ticket_id}/attachments",
    response={201: list[AttachmentOut]},
    summary="Upload attachments (multipart, field `files`)",
)
def upload(request: HttpRequest, ticket_id: int, files: File[list[UploadedFile]]) -> HttpStatus[list[Any]]:
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
def download(request: HttpRequest, attachment_id: int) -> FileResponse:
    user = request_actor(request)
    attachment = get_attachment_for(user, attachment_id)
    return attachment_response(attachment)


def get_attachment_for(user: User, attachment_id: int) -> Attachment:
    attachment = Attachment.objects.select_related("message").filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound(_("Attachment not found."))
    queries.get_ticket_for(user, attachment.ticket_id)  # 404 unless the ticket is visible
    if attachment.message is not None and attachment.message.kind == "note" and not user.is_agent:
        raise NotFound(_("Attachment not found."))
    return attachment


def attachment_response(attachment: Attachment) -> FileResponse:
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
