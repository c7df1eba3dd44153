"""SLA endpoints: calendars, policies, a ticket's SLA state and the calendar preview."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.responses import Status as HttpStatus
from pydantic import BeforeValidator, ConfigDict, Field

from tessera.accounts.models import User
from tessera.accounts.queries import get_department_for
from tessera.api.schemas import (
    BodyId,
    Cursor,
    Id,
    Instant,
    StrictBool,
    StrictFloat,
    StrictSchema,
    exactly_one_given,
    json_integer,
    request_actor,
    text,
)
from tessera.core import clock
from tessera.core.errors import NotFound, PermissionDenied
from tessera.core.pagination import paginate
from tessera.sla import queries, services
from tessera.sla.calendar import MAX_CLOSED_DATES, MAX_EXTRA_OPENINGS, MAX_INTERVALS_PER_DAY, SEARCH_HORIZON
from tessera.sla.models import TARGETS, BusinessCalendar, PriorityMatrix, SlaPolicy, TicketSla
from tessera.tickets.access import visible_tickets
from tessera.tickets.models import Channel, Impact, Urgency
from tessera.tickets.queries import get_ticket_for

router = Router(tags=["sla"])

CALENDAR_DEFINITION_DOC = f"""A business calendar: the hours during which SLA time counts.

- `tz` (required): an IANA time zone, such as `Europe/Rome`. Every time below is a wall-clock time there.
- `weekly`: weekday (`mon` … `sun`, or `0` = Monday … `6` = Sunday) → a list of `["HH:MM", "HH:MM"]`
  intervals (`:SS` optional), at most {MAX_INTERVALS_PER_DAY} a day. An interval belongs to the day on
  which it starts. `"24:00"` is allowed as an end only and means midnight at the end of the day, so
  `["00:00", "24:00"]` is the whole day. An end at or before the start means the next day: `["22:00",
  "06:00"]` is a night shift until 06:00 the next morning. Intervals that overlap or touch join.
  A start equal to its end is refused (use `00:00`-`24:00`). An overnight interval longer than 12 hours
  (`["18:00", "09:00"]`) is valid but comes back with a warning: usually the times were swapped.
- `holiday_country`, `holiday_subdiv`: public holidays (ISO codes, for example `IT` / `BZ`) are closed.
- `closed_dates`: ISO dates (at most {MAX_CLOSED_DATES}) closed as well. A closed date drops the weekly
  intervals that start on it, including the part of a night shift after midnight.
- `extra_openings`: `{{"date", "start", "end"}}` one-off openings (at most {MAX_EXTRA_OPENINGS}, and
  {MAX_INTERVALS_PER_DAY} a date); they apply even on a closed date or a holiday.

Instants: an interval is open from its start up to, not including, its end, and a target reached at
closing time is due at the closing instant (18:00), not at the next opening. On the day the clocks go
back, a repeated wall time (02:30 in Europe/Rome) means its first occurrence; on the day they go
forward, a time that does not exist means the instant the clocks jump. Real elapsed time counts, so
`00:00`-`24:00` lasts 23 or 25 hours on those days. A due instant more than {SEARCH_HORIZON.days}
days (five years) ahead is not computed."""

CALENDAR_EXAMPLE = {
    "tz": "Europe/Rome",
    "weekly": {day: [["09:00", "13:00"], ["14:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holiday_country": "IT",
    "holiday_subdiv": None,
    "closed_dates": ["2026-08-14"],
    "extra_openings": [{"date": "2026-12-19", "start": "09:00", "end": "13:00"}],
}
CalendarDefinition = Annotated[
    dict[str, Any],
    Field(
        description=CALENDAR_DEFINITION_DOC,
        examples=[
            CALENDAR_EXAMPLE,
            {"tz": "UTC", "weekly": {"fri": [["22:00", "06:00"]], "sat": [["00:00", "24:00"]]}},
        ],
    ),
]
WARNINGS_DOC = (
    "What looks like a mistake in the calendar (hours probably reversed); it is valid all the same."
)


class CalendarIn(StrictSchema):
    name: str = text(100)
    definition: CalendarDefinition


class CalendarOut(Schema):
    id: int
    name: str
    definition: CalendarDefinition
    warnings: list[str] = Field(description=WARNINGS_DOC)


class CalendarPatchIn(StrictSchema):
    name: str | None = text(100, default=None)
    definition: CalendarDefinition | None = None


CALENDAR_OF_PRIORITY = (
    "A calendar for this priority's tickets (Critical around the clock); null: the policy's."
)


class TargetMinutesOut(Schema):
    priority: str
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    acknowledge_minutes: int | None
    calendar_id: int | None = Field(description=CALENDAR_OF_PRIORITY)


class RuleSchema(StrictSchema):
    level: Literal["warning", "breach"]
    target: Literal["", "first_response", "next_response", "resolution", "acknowledge"] = ""
    notify_lead: StrictBool = False
    raise_priority: StrictBool = False
    unassign: StrictBool = False
    move_to: str | None = Field(None, min_length=1, max_length=50, description="A department slug.")


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
    escalation_rules: list[RuleSchema]


Minutes = Annotated[int, Field(ge=1, le=services.MAX_TARGET_MINUTES), BeforeValidator(json_integer)]
Order = Annotated[int, Field(ge=0, le=1_000_000), BeforeValidator(json_integer)]


class TargetMinutesIn(StrictSchema):
    priority: str = Field(min_length=1, max_length=30, description="A priority slug.")
    first_response_minutes: Minutes | None = None
    next_response_minutes: Minutes | None = None
    resolution_minutes: Minutes | None = None
    acknowledge_minutes: Minutes | None = None
    calendar_id: BodyId | None = Field(None, description=CALENDAR_OF_PRIORITY)


class PolicyIn(StrictSchema):
    name: str = text(100)
    calendar_id: BodyId
    order: Order = 100
    is_active: StrictBool = True
    department: str | None = Field(
        None, min_length=1, max_length=50, description="A department slug; null: any."
    )
    organisation_id: BodyId | None = None
    channel: Channel | Literal[""] = Field("", description="A channel; empty: any.")
    targets: list[TargetMinutesIn] = Field(default_factory=list, max_length=50)
    escalation_rules: list[RuleSchema] = Field(default_factory=list, max_length=50)


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


class ExpectedReplyOut(Schema):
    """When the customer may expect an answer: the first-response target, else the acknowledge one."""

    target: Literal["first_response", "acknowledge"]
    label: str
    state: str = Field(description="running, paused, met, missed or stopped")
    due: datetime | None = Field(description="The promised instant; null while waiting on the customer.")
    met_at: datetime | None


class TicketSlaOut(Schema):
    ticket_id: int
    policy: str | None
    calendar: str | None
    started_at: datetime
    paused_since: datetime | None
    pauses: list[tuple[datetime, datetime]]
    targets: list[TargetStateOut]
    expected_reply: ExpectedReplyOut | None = Field(
        description="What the customer is told to expect; null when no target promises an answer."
    )


class PreviewIn(StrictSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "allOf": [exactly_one_given("calendar_id", "definition"), exactly_one_given("minutes", "end")]
        },
    )

    calendar_id: BodyId | None = Field(None, description="A calendar, or give its `definition`.")
    definition: CalendarDefinition | None = None
    start: Instant
    minutes: StrictFloat | None = Field(
        None,
        ge=0,
        le=services.MAX_PREVIEW_MINUTES,
        description="Business minutes, or give `end`. A JSON number: `true` is refused.",
    )
    end: Instant | None = None
    pauses: list[tuple[Instant, Instant | None]] = Field(default_factory=list, max_length=1_000)


class PreviewOut(Schema):
    due: datetime | None = None
    business_minutes: float | None = None
    warnings: list[str] = Field(default_factory=list, description=WARNINGS_DOC)


def _agent(request: HttpRequest) -> User:
    user = request_actor(request)
    if not user.is_agent:
        raise PermissionDenied(_("Only agents can see or change SLA settings."))
    return user


@router.get("/sla/calendars", response=list[CalendarOut], summary="Business calendars (agents)")
def list_calendars(request: HttpRequest) -> list[dict[str, Any]]:
    _agent(request)
    return [_calendar_out(c) for c in BusinessCalendar.objects.all()]


@router.post("/sla/calendars", response={201: CalendarOut}, summary="Create a business calendar (agents)")
def create_calendar(request: HttpRequest, payload: CalendarIn) -> HttpStatus[dict[str, Any]]:
    calendar = services.create_calendar(
        actor=request_actor(request), name=payload.name, definition=payload.definition
    )
    return HttpStatus(201, _calendar_out(calendar))


@router.put("/sla/calendars/{calendar_id}", response=CalendarOut, summary="Change a calendar (admins)")
def update_calendar(request: HttpRequest, calendar_id: Id, payload: CalendarPatchIn) -> dict[str, Any]:
    actor = _agent(request)
    stored = BusinessCalendar.objects.filter(pk=calendar_id).first()
    if stored is None:
        raise NotFound(_("Calendar not found."))
    calendar = services.update_calendar(
        actor=actor, calendar=stored, name=payload.name, definition=payload.definition
    )
    return _calendar_out(calendar)


def _calendar_out(calendar: BusinessCalendar) -> dict[str, Any]:
    return {
        "id": calendar.pk,
        "name": calendar.name,
        "definition": calendar.definition,
        "warnings": services.calendar_warnings(calendar.as_calendar()),
    }


@router.get("/sla/policies", response=list[PolicyOut], summary="SLA policies in matching order (agents)")
def list_policies(request: HttpRequest) -> list[dict[str, Any]]:
    _agent(request)
    policies = SlaPolicy.objects.select_related("department").prefetch_related(
        "targets__priority", "escalation_rules__move_to"
    )
    return [_policy_out(p) for p in policies]


@router.post("/sla/policies", response={201: PolicyOut}, summary="Create an SLA policy (admins)")
def create_policy(request: HttpRequest, payload: PolicyIn) -> HttpStatus[dict[str, Any]]:
    policy = services.save_policy(actor=request_actor(request), spec=_spec(payload))
    return HttpStatus(201, _policy_out(_reload(policy.pk)))


@router.put("/sla/policies/{policy_id}", response=PolicyOut, summary="Replace an SLA policy (admins)")
def replace_policy(request: HttpRequest, policy_id: Id, payload: PolicyIn) -> dict[str, Any]:
    actor = _agent(request)
    policy = SlaPolicy.objects.filter(pk=policy_id).first()
    if policy is None:
        raise NotFound(_("Policy not found."))
    services.save_policy(actor=actor, spec=_spec(payload), policy=policy)
    return _policy_out(_reload(policy_id))


def _reload(policy_id: int) -> SlaPolicy:
    return (
        SlaPolicy.objects.select_related("department")
        .prefetch_related("targets__priority", "escalation_rules__move_to")
        .get(pk=policy_id)
    )


def _spec(payload: PolicyIn) -> services.PolicySpec:
    return services.PolicySpec(
        name=payload.name,
        calendar_id=payload.calendar_id,
        order=payload.order,
        is_active=payload.is_active,
        department=payload.department,
        organisation_id=payload.organisation_id,
        channel=payload.channel,
        targets=tuple(
            services.TargetMinutes(
                priority=t.priority,
                first_response=t.first_response_minutes,
                next_response=t.next_response_minutes,
                resolution=t.resolution_minutes,
                acknowledge=t.acknowledge_minutes,
                calendar_id=t.calendar_id,
            )
            for t in payload.targets
        ),
        rules=tuple(services.RuleSpec(**r.model_dump()) for r in payload.escalation_rules),
    )


def _policy_out(p: SlaPolicy) -> dict[str, Any]:
    return {
        "id": p.pk,
        "name": p.name,
        "order": p.order,
        "is_active": p.is_active,
        "department": p.department.slug if p.department else None,
        "organisation_id": p.organisation_id,
        "channel": p.channel,
        "calendar_id": p.calendar_id,
        "targets": [
            {
                "priority": t.priority.slug,
                **{f"{n}_minutes": getattr(t, f"{n}_minutes") for n in TARGETS},
                "calendar_id": t.calendar_id,
            }
            for t in p.targets.all()
        ],
        "escalation_rules": [
            {
                "level": r.level,
                "target": r.target,
                "notify_lead": r.notify_lead,
                "raise_priority": r.raise_priority,
                "unassign": r.unassign,
                "move_to": r.move_to.slug if r.move_to else None,
            }
            for r in p.escalation_rules.all()
        ],
    }


class MatrixCell(StrictSchema):
    impact: Impact
    urgency: Urgency
    priority: str | None = Field(
        None, min_length=1, max_length=30, description="A priority slug; null clears the cell."
    )


class MatrixIn(StrictSchema):
    cells: list[MatrixCell] = Field(max_length=100)


class DepartmentOptionIn(StrictSchema):
    priority_input: Literal["direct", "matrix"]


class DepartmentOptionOut(Schema):
    department: str
    priority_input: str


@router.get("/sla/matrix", response=list[MatrixCell], summary="The impact x urgency → priority matrix")
def get_matrix(request: HttpRequest) -> list[dict[str, Any]]:
    request_actor(request)  # customers see the questions' outcome too: it is shown on the form
    return [
        {"impact": c.impact, "urgency": c.urgency, "priority": c.priority.slug}
        for c in PriorityMatrix.objects.select_related("priority")
    ]


@router.put("/sla/matrix", response=list[MatrixCell], summary="Set matrix cells (admins)")
def put_matrix(request: HttpRequest, payload: MatrixIn) -> list[dict[str, Any]]:
    services.set_matrix(
        actor=request_actor(request), cells={(c.impact, c.urgency): c.priority for c in payload.cells}
    )
    return get_matrix(request)


@router.get(
    "/sla/departments/{department}", response=DepartmentOptionOut, summary="A department's SLA options"
)
def get_department_option(request: HttpRequest, department: str) -> dict[str, Any]:
    found = get_department_for(request_actor(request), department)
    mode = "matrix" if queries.uses_matrix(found) else "direct"
    return {"department": found.slug, "priority_input": mode}


@router.put(
    "/sla/departments/{department}", response=DepartmentOptionOut, summary="Set a department's SLA options"
)
def put_department_option(
    request: HttpRequest, department: str, payload: DepartmentOptionIn
) -> dict[str, Any]:
    actor = request_actor(request)
    found = get_department_for(actor, department)
    option = services.set_priority_input(actor=actor, department=found, priority_input=payload.priority_input)
    return {"department": found.slug, "priority_input": option.priority_input}


@router.get("/tickets/{ticket_id}/sla", response=TicketSlaOut, summary="A ticket's SLA clocks")
def ticket_sla(request: HttpRequest, ticket_id: Id) -> dict[str, Any]:
    ticket = get_ticket_for(request_actor(request), ticket_id)  # 404 unless visible
    state = TicketSla.objects.select_related("policy", "calendar").filter(ticket=ticket).first()
    if state is None:
        raise NotFound(_("This ticket has no SLA."))
    return sla_state_out(state, clock.now())


def sla_state_out(state: TicketSla, now: datetime) -> dict[str, Any]:
    """The ticket's clocks with time left (business minutes) per target, as of `now`."""
    targets = queries.state_of(state, now)
    return {
        "ticket_id": state.ticket_id,
        "policy": state.policy.name if state.policy else None,
        "calendar": state.calendar.name if state.calendar else None,
        "started_at": state.started_at,
        "paused_since": state.paused_since,
        "pauses": state.closed_pauses(),
        "targets": [_target_out(t) for t in targets],
        "expected_reply": expected_reply_out(queries.expected_of(targets)),
    }


def expected_reply_out(target: queries.TargetState | None) -> dict[str, Any] | None:
    if target is None:
        return None
    return {
        "target": target.target,
        "label": target.label,
        "state": target.state,
        "due": target.due,
        "met_at": target.met_at,
    }


def _target_out(target: queries.TargetState) -> dict[str, Any]:
    return {
        "target": target.target,
        "minutes": target.minutes,
        "state": target.state,
        "due": target.due,
        "met_at": target.met_at,
        "breached": target.breached,
        "business_minutes_left": target.minutes_left,
    }


class QueueFilters(Schema):
    state: Literal["breached", "breaching", "running"] = Field(
        "running",
        description="`breached`: a running target is overdue; `breaching`: due within `within` business "
        "minutes; `running`: every ticket with a running clock.",
    )
    within: int = Field(60, ge=1, le=7 * 24 * 60, description="Business minutes, for `breaching`.")
    department: str | None = Field(None, max_length=50, description="A department id or slug.")
    cursor: str | None = Cursor
    limit: int = Field(25, ge=1, le=100)


class QueueItemOut(Schema):
    id: int
    reference: str
    subject: str
    status: str
    priority: str
    department: str
    assignee_id: int | None
    due_at: datetime
    targets: list[TargetStateOut]


class QueuePage(Schema):
    items: list[QueueItemOut]
    next_cursor: str | None


@router.get("/sla/queue", response=QueuePage, summary="Tickets by SLA due instant, soonest first (agents)")
def sla_queue(request: HttpRequest, filters: Query[QueueFilters]) -> dict[str, Any]:
    user = _agent(request)
    now = clock.now()
    tickets = visible_tickets(user).select_related("sla", "priority", "department")
    tickets = tickets.filter(sla__due_at__isnull=False)
    if filters.department:
        tickets = tickets.filter(department=get_department_for(user, filters.department))
    if filters.state == "breached":
        tickets = queries.breached(tickets, now)
    elif filters.state == "breaching":
        tickets = queries.breaching_within(tickets, now, filters.within)
    page = paginate(tickets, ordering=("sla__due_at", "id"), cursor=filters.cursor, limit=filters.limit)
    states = queries.time_left(page.items, now)
    return {
        "items": [
            {
                "id": t.pk,
                "reference": t.reference,
                "subject": t.subject,
                "status": t.status,
                "priority": t.priority.slug,
                "department": t.department.slug,
                "assignee_id": t.assignee_id,
                "due_at": t.sla.due_at,
                "targets": [_target_out(s) for s in states[t.pk]],
            }
            for t in page.items
        ],
        "next_cursor": page.next_cursor,
    }


@router.post(
    "/sla/preview", response=PreviewOut, summary="Due instant, or business minutes between two instants"
)
def preview(request: HttpRequest, payload: PreviewIn) -> dict[str, Any]:
    answer = services.preview_calendar(
        actor=request_actor(request),
        calendar_id=payload.calendar_id,
        definition=payload.definition,
        start=payload.start,
        minutes=payload.minutes,
        end=payload.end,
        pauses=[(s, e) for s, e in payload.pauses],
    )
    return {"due": answer.due, "business_minutes": answer.business_minutes, "warnings": list(answer.warnings)}
