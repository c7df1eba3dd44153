"""Status endpoints: the public read-only view (no authentication) and the agents' commands."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.responses import Status as HttpStatus
from pydantic import Field

from tessera.accounts.models import User
from tessera.api.schemas import BodyId, Cursor, Id, Instant, StrictBool, StrictSchema, request_actor, text
from tessera.core import clock
from tessera.core.errors import NotFound, PermissionDenied
from tessera.core.pagination import paginate
from tessera.status import queries, services
from tessera.status.models import (
    Component,
    ComponentState,
    Incident,
    IncidentImpact,
    IncidentStatus,
    Maintenance,
    MaintenanceStatus,
)
from tessera.tickets.queries import get_ticket_for

router = Router(tags=["status"])


class ComponentOut(Schema):
    id: int
    group: str
    name: str
    description: str
    state: str = Field(description="operational, degraded, partial_outage, major_outage or maintenance")
    state_label: str


class GroupOut(Schema):
    name: str
    state: str
    components: list[ComponentOut]


class UpdateOut(Schema):
    id: int
    status: str
    body: str
    created_at: datetime


class IncidentOut(Schema):
    id: int
    title: str
    impact: str
    status: str
    started_at: datetime
    resolved_at: datetime | None
    updated_at: datetime
    url: str
    component_ids: list[int]
    updates: list[UpdateOut]


class MaintenanceOut(Schema):
    id: int
    title: str
    description: str
    status: str
    starts_at: datetime
    ends_at: datetime
    url: str
    component_ids: list[int]


class SummaryOut(Schema):
    state: str = Field(description="The worst state of any public component.")
    updated_at: datetime
    groups: list[GroupOut]
    incidents: list[IncidentOut] = Field(description="Incidents that are not resolved.")
    maintenance: list[MaintenanceOut] = Field(description="Windows scheduled or in progress.")


class IncidentPage(Schema):
    items: list[IncidentOut]
    next_cursor: str | None


class IncidentFilter(Schema):
    cursor: str | None = Cursor
    limit: int = Field(20, ge=1, le=100)


def _component_out(c: Component) -> dict[str, Any]:
    return {
        "id": c.pk,
        "group": c.group.name,
        "name": c.name,
        "description": c.description,
        "state": c.state,
        "state_label": str(ComponentState(c.state).label),
    }


def incident_out(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.pk,
        "title": incident.title,
        "impact": incident.impact,
        "status": incident.status,
        "started_at": incident.started_at,
        "resolved_at": incident.resolved_at,
        "updated_at": incident.updated_at,
        "url": f"/status/incidents/{incident.pk}",
        "component_ids": sorted(c.pk for c in incident.components.all()),
        "updates": [
            {"id": u.pk, "status": u.status, "body": u.body, "created_at": u.created_at}
            for u in incident.updates.all()
        ],
    }


def maintenance_out(window: Maintenance) -> dict[str, Any]:
    return {
        "id": window.pk,
        "title": window.title,
        "description": window.description,
        "status": window.status,
        "starts_at": window.starts_at,
        "ends_at": window.ends_at,
        "url": f"/status/maintenance/{window.pk}",
        "component_ids": sorted(c.pk for c in window.components.all()),
    }


# Public --------------------------------------------------------------------------------------------------


@router.get("/status/summary", response=SummaryOut, auth=None, summary="The status page as data (public)")
def summary(request: HttpRequest) -> dict[str, Any]:
    components = list(Component.objects.filter(is_public=True).select_related("group"))
    groups: dict[int, dict[str, Any]] = {}
    for c in components:
        group = groups.setdefault(c.group_id, {"name": c.group.name, "components": []})
        group["components"].append(_component_out(c))
    for group in groups.values():
        group["state"] = _worst([c["state"] for c in group["components"]])
    return {
        "state": _worst([c.state for c in components]),
        "updated_at": clock.now(),
        "groups": list(groups.values()),
        "incidents": [
            incident_out(i) for i in queries.public_incidents().exclude(status=IncidentStatus.RESOLVED)
        ],
        "maintenance": [
            maintenance_out(m)
            for m in queries.public_maintenance()
            .filter(status__in=[MaintenanceStatus.SCHEDULED, MaintenanceStatus.IN_PROGRESS])
            .order_by("starts_at")
        ],
    }


def _worst(states: list[str]) -> str:
    from tessera.status.models import STATE_SEVERITY

    return max(states, key=lambda s: STATE_SEVERITY[ComponentState(s)], default=ComponentState.OPERATIONAL)


@router.get("/status/incidents", response=IncidentPage, auth=None, summary="Incidents, newest first (public)")
def list_incidents(request: HttpRequest, filters: Query[IncidentFilter]) -> dict[str, Any]:
    page = paginate(queries.public_incidents(), ordering=("-id",), cursor=filters.cursor, limit=filters.limit)
    return {"items": [incident_out(i) for i in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/status/incidents/{incident_id}", response=IncidentOut, auth=None, summary="One incident (public)"
)
def get_incident(request: HttpRequest, incident_id: Id) -> dict[str, Any]:
    return incident_out(queries.get_incident_for(None, incident_id))


@router.get(
    "/status/maintenance", response=list[MaintenanceOut], auth=None, summary="Planned maintenance (public)"
)
def list_maintenance(request: HttpRequest) -> list[dict[str, Any]]:
    windows = queries.public_maintenance().exclude(status=MaintenanceStatus.COMPLETED).order_by("starts_at")
    return [maintenance_out(m) for m in windows]


# Agents --------------------------------------------------------------------------------------------------


ComponentRef = Annotated[
    BodyId | Annotated[str, Field(min_length=1, max_length=250)],
    Field(description="A component id or 'Group / Component'"),
]


class IncidentIn(StrictSchema):
    title: str = text(services.TITLE_MAX)
    body: str = text(services.BODY_MAX, single_line=False)
    components: list[ComponentRef] = Field(min_length=1, max_length=500)
    impact: IncidentImpact = IncidentImpact.MINOR
    status: IncidentStatus = IncidentStatus.INVESTIGATING
    component_state: ComponentState | None = ComponentState.MAJOR_OUTAGE
    notify: StrictBool = True


class UpdateIn(StrictSchema):
    status: IncidentStatus
    body: str = text(services.BODY_MAX, single_line=False)
    component_state: ComponentState | None = None
    notify: StrictBool = True


class MaintenanceIn(StrictSchema):
    title: str = text(services.TITLE_MAX)
    description: str = text(services.BODY_MAX, default="", required=False, single_line=False)
    starts_at: Instant
    ends_at: Instant
    components: list[ComponentRef] = Field(min_length=1, max_length=500)
    notify: StrictBool = True


class RescheduleIn(StrictSchema):
    starts_at: Instant
    ends_at: Instant
    notify: StrictBool = True


class ComponentStateIn(StrictSchema):
    state: ComponentState


class LinkIn(StrictSchema):
    ticket_id: BodyId


class LinkedTicketOut(Schema):
    ticket_id: int
    reference: str
    status: str
    linked_at: datetime


class AnswerIn(StrictSchema):
    body: str = text(services.BODY_MAX, single_line=False)
    resolve: StrictBool = True


class OutcomeOut(Schema):
    ticket_id: int
    reference: str
    ok: bool
    replied: bool
    resolved: bool
    error: str


def _agent(request: HttpRequest) -> User:
    user = request_actor(request)
    if not user.is_agent:
        raise PermissionDenied(_("Only agents can change the status page."))
    return user


def _incident(incident_id: Id) -> Incident:
    incident = Incident.objects.prefetch_related("updates", "components").filter(pk=incident_id).first()
    if incident is None:
        raise NotFound(_("Incident not found."))
    return incident


@router.post("/status/incidents", response={201: IncidentOut}, summary="Post an incident (agents)")
def create_incident(request: HttpRequest, payload: IncidentIn) -> HttpStatus[dict[str, Any]]:
    actor = _agent(request)
    incident = services.post_incident(
        actor=actor,
        title=payload.title,
        body=payload.body,
        components=services.resolve_components(payload.components),
        impact=payload.impact,
        status=payload.status,
        component_state=payload.component_state,
        notify=payload.notify,
    )
    return HttpStatus(201, incident_out(_incident(incident.pk)))


@router.post(
    "/status/incidents/{incident_id}/updates", response={201: IncidentOut}, summary="Post an update (agents)"
)
def create_update(request: HttpRequest, incident_id: Id, payload: UpdateIn) -> HttpStatus[dict[str, Any]]:
    actor = _agent(request)
    incident = _incident(incident_id)
    services.post_incident_update(
        actor=actor,
        incident=incident,
        status=payload.status,
        body=payload.body,
        component_state=payload.component_state,
        notify=payload.notify,
    )
    return HttpStatus(201, incident_out(_incident(incident_id)))


@router.post("/status/maintenance", response={201: MaintenanceOut}, summary="Schedule maintenance (agents)")
def create_maintenance(request: HttpRequest, payload: MaintenanceIn) -> HttpStatus[dict[str, Any]]:
    actor = _agent(request)
    window = services.schedule_maintenance(
        actor=actor,
        title=payload.title,
        description=payload.description,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        components=services.resolve_components(payload.components),
        notify=payload.notify,
    )
    window.refresh_from_db()
    return HttpStatus(201, maintenance_out(window))


def _maintenance(maintenance_id: Id) -> Maintenance:
    window = Maintenance.objects.prefetch_related("components").filter(pk=maintenance_id).first()
    if window is None:
        raise NotFound(_("Maintenance not found."))
    return window


@router.put(
    "/status/maintenance/{maintenance_id}/window", response=MaintenanceOut, summary="Move a window (agents)"
)
def move_maintenance(request: HttpRequest, maintenance_id: Id, payload: RescheduleIn) -> dict[str, Any]:
    actor = _agent(request)
    window = services.reschedule_maintenance(
        actor=actor,
        maintenance=_maintenance(maintenance_id),
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        notify=payload.notify,
    )
    return maintenance_out(window)


@router.post(
    "/status/maintenance/{maintenance_id}/complete",
    response=MaintenanceOut,
    summary="Complete a window (agents)",
)
def finish_maintenance(request: HttpRequest, maintenance_id: Id) -> dict[str, Any]:
    actor = _agent(request)
    window = services.complete_maintenance(actor=actor, maintenance=_maintenance(maintenance_id), notify=True)
    return maintenance_out(window)


@router.put(
    "/status/components/{component_id}/state",
    response=ComponentOut,
    summary="Set a component's state (agents)",
)
def put_component_state(request: HttpRequest, component_id: Id, payload: ComponentStateIn) -> dict[str, Any]:
    actor = _agent(request)
    component = Component.objects.select_related("group").filter(pk=component_id).first()
    if component is None:
        raise NotFound(_("Component not found."))
    return _component_out(services.set_component_state(actor=actor, component=component, state=payload.state))


@router.get(
    "/status/incidents/{incident_id}/tickets",
    response=list[LinkedTicketOut],
    summary="Tickets linked to an incident (agents)",
)
def list_links(request: HttpRequest, incident_id: Id) -> list[dict[str, Any]]:
    _agent(request)
    incident = _incident(incident_id)
    return [
        {
            "ticket_id": link.ticket_id,
            "reference": link.ticket.reference,
            "status": link.ticket.status,
            "linked_at": link.linked_at,
        }
        for link in incident.ticket_links.select_related("ticket")
    ]


@router.post(
    "/status/incidents/{incident_id}/tickets",
    response={201: LinkedTicketOut},
    summary="Link a ticket to an incident (agents)",
)
def link(request: HttpRequest, incident_id: Id, payload: LinkIn) -> HttpStatus[dict[str, Any]]:
    actor = _agent(request)
    ticket = get_ticket_for(actor, payload.ticket_id)
    made = services.link_ticket(actor=actor, incident=_incident(incident_id), ticket=ticket)
    return HttpStatus(
        201,
        {
            "ticket_id": ticket.pk,
            "reference": ticket.reference,
            "status": ticket.status,
            "linked_at": made.linked_at,
        },
    )


@router.delete(
    "/status/incidents/{incident_id}/tickets/{ticket_id}",
    response={204: None},
    summary="Unlink a ticket (agents)",
)
def unlink(request: HttpRequest, incident_id: Id, ticket_id: Id) -> HttpStatus[None]:
    actor = _agent(request)
    ticket = get_ticket_for(actor, ticket_id)
    services.unlink_ticket(actor=actor, incident=_incident(incident_id), ticket=ticket)
    return HttpStatus(204, None)


@router.post(
    "/status/incidents/{incident_id}/answer-tickets",
    response=list[OutcomeOut],
    summary="Reply to (and resolve) every linked ticket (agents)",
)
def answer(request: HttpRequest, incident_id: Id, payload: AnswerIn) -> list[dict[str, Any]]:
    actor = _agent(request)
    outcomes = services.answer_linked_tickets(
        actor=actor, incident=_incident(incident_id), body=payload.body, resolve=payload.resolve
    )
    return [o.__dict__ for o in outcomes]
