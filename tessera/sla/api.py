"""SLA endpoints: calendars, policies, a ticket's SLA state and the calendar preview."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.responses import Status as HttpStatus
from pydantic import Field

from tessera.accounts.models import User
from tessera.api.schemas import StrictSchema, request_actor
from tessera.core import clock
from tessera.core.errors import NotFound, PermissionDenied, ValidationFailed
from tessera.sla import services
from tessera.sla.calendar import Calendar, Pause, add_business_minutes, business_minutes_between
from tessera.sla.models import TARGETS, BusinessCalendar, SlaPolicy, TicketSla
from tessera.tickets.queries import get_ticket_for

router = Router(tags=["sla"])


class CalendarIn(StrictSchema):
    name: str = Field(max_length=1_000)
    definition: dict[str, Any]


class CalendarOut(Schema):
    id: int
    name: str
    definition: dict[str, Any]


class TargetMinutesOut(Schema):
    priority: str
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    acknowledge_minutes: int | None


class PolicyOut(Schema):
    id: int
    name: str
    order: int
    is_active: bool
    department: str | None
    organisation_id: int | None
    channel: str
    calendar_id: int
    targets: list[TargetMinutesOut]


class TargetStateOut(Schema):
    target: str
    minutes: int
    state: str = Field(description="running, paused, met, missed or stopped")
    due: datetime | None
    met_at: datetime | None
    breached: bool
    business_minutes_left: float | None = Field(
        description="From now to the due instant; negative when overdue; null when met or paused."
    )


class TicketSlaOut(Schema):
    ticket_id: int
    policy: str | None
    calendar: str | None
    started_at: datetime
    paused_since: datetime | None
    pauses: list[tuple[datetime, datetime]]
    targets: list[TargetStateOut]


class PreviewIn(StrictSchema):
    calendar_id: int | None = None
    definition: dict[str, Any] | None = None
    start: datetime
    minutes: float | None = Field(None, ge=0, le=10_000_000)
    end: datetime | None = None
    pauses: list[tuple[datetime, datetime | None]] = Field(default_factory=list, max_length=1_000)


class PreviewOut(Schema):
    due: datetime | None = None
    business_minutes: float | None = None


def _agent(request: HttpRequest) -> User:
    user = request_actor(request)
    if not user.is_agent:
        raise PermissionDenied(_("Only agents can see or change SLA settings."))
    return user


@router.get("/sla/calendars", response=list[CalendarOut], summary="Business calendars (agents)")
def list_calendars(request: HttpRequest) -> list[dict[str, Any]]:
    _agent(request)
    return [{"id": c.pk, "name": c.name, "definition": c.definition} for c in BusinessCalendar.objects.all()]


@router.post("/sla/calendars", response={201: CalendarOut}, summary="Create a business calendar (agents)")
def create_calendar(request: HttpRequest, payload: CalendarIn) -> HttpStatus[dict[str, Any]]:
    calendar = services.create_calendar(
        actor=request_actor(request), name=payload.name, definition=payload.definition
    )
    return HttpStatus(201, {"id": calendar.pk, "name": calendar.name, "definition": calendar.definition})


@router.get("/sla/policies", response=list[PolicyOut], summary="SLA policies in matching order (agents)")
def list_policies(request: HttpRequest) -> list[dict[str, Any]]:
    _agent(request)
    policies = SlaPolicy.objects.select_related("department").prefetch_related("targets__priority")
    return [
        {
            "id": p.pk,
            "name": p.name,
            "order": p.order,
            "is_active": p.is_active,
            "department": p.department.slug if p.department else None,
            "organisation_id": p.organisation_id,
            "channel": p.channel,
            "calendar_id": p.calendar_id,
            "targets": [
                {"priority": t.priority.slug, **{f"{n}_minutes": getattr(t, f"{n}_minutes") for n in TARGETS}}
                for t in p.targets.all()
            ],
        }
        for p in policies
    ]


@router.get("/tickets/{ticket_id}/sla", response=TicketSlaOut, summary="A ticket's SLA clocks")
def ticket_sla(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    ticket = get_ticket_for(request_actor(request), ticket_id)  # 404 unless visible
    state = TicketSla.objects.select_related("policy__calendar").filter(ticket=ticket).first()
    if state is None:
        raise NotFound(_("This ticket has no SLA."))
    return sla_state_out(state, clock.now())


def sla_state_out(state: TicketSla, now: datetime) -> dict[str, Any]:
    """The ticket's clocks with time left (business minutes) per target, as of `now`."""
    calendar = state.policy.calendar.as_calendar() if state.policy else None
    pauses = state.all_pauses()
    running = {c.target for c in services.running_clocks(state)}
    met_at = {
        "first_response": state.first_responded_at,
        "next_response": None,
        "resolution": state.resolved_at,
        "acknowledge": state.acknowledged_at,
    }
    targets = []
    for target in TARGETS:
        minutes = state.targets.get(target)
        if minutes is None or (target == "next_response" and target not in running):
            continue
        due: datetime | None = getattr(state, f"{target}_due")
        breached: bool = getattr(state, f"{target}_breached")
        left = None
        if target in running:
            if due is None:
                status = "paused"
            else:
                left = business_minutes_between(calendar, now, due, pauses) if calendar else None
                status = "running"
        elif state.stopped_at is not None and met_at[target] is None:
            status = "stopped"
        else:
            status = "missed" if breached else "met"
        targets.append(
            {
                "target": target,
                "minutes": minutes,
                "state": status,
                "due": due,
                "met_at": met_at[target],
                "breached": breached,
                "business_minutes_left": left,
            }
        )
    return {
        "ticket_id": state.ticket_id,
        "policy": state.policy.name if state.policy else None,
        "calendar": state.policy.calendar.name if state.policy else None,
        "started_at": state.started_at,
        "paused_since": state.paused_since,
        "pauses": state.closed_pauses(),
        "targets": targets,
    }


@router.post(
    "/sla/preview", response=PreviewOut, summary="Due instant, or business minutes between two instants"
)
def preview(request: HttpRequest, payload: PreviewIn) -> dict[str, Any]:
    _agent(request)
    calendar = _preview_calendar(payload)
    if (payload.minutes is None) == (payload.end is None):
        raise ValidationFailed(_("Give either minutes or end, not both."), field="minutes")
    pauses: list[Pause] = [(s, e) for s, e in payload.pauses]
    try:
        if payload.minutes is not None:
            return {"due": add_business_minutes(calendar, payload.start, payload.minutes, pauses)}
        assert payload.end is not None  # noqa: S101 - checked above: exactly one is given
        if payload.end < payload.start:
            raise ValidationFailed(_("The end must not be before the start."), field="end")
        return {"business_minutes": business_minutes_between(calendar, payload.start, payload.end, pauses)}
    except ValueError as exc:  # naive instants, pauses ending before they start, beyond the horizon
        raise ValidationFailed(
            _("Cannot compute this: %(error)s") % {"error": str(exc)[:300]}, field="start"
        ) from None


def _preview_calendar(payload: PreviewIn) -> Calendar:
    if (payload.calendar_id is None) == (payload.definition is None):
        raise ValidationFailed(_("Give either calendar_id or definition."), field="calendar_id")
    if payload.calendar_id is None:
        return services.parse_calendar(payload.definition)
    stored = BusinessCalendar.objects.filter(pk=payload.calendar_id).first()
    if stored is None:
        raise ValidationFailed(_("Unknown calendar."), field="calendar_id")
    return stored.as_calendar()
