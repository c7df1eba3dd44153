"""SLA commands and clock keeping.

Ticket changes reach us through `tickets.events.event_recorded`, inside the ticket's own
transaction, so SLA state commits or rolls back with the change it follows. Every due instant is
recomputed from the original start with all pauses (never shifted incrementally), so any order of
pauses, reopenings and priority changes gives the same answer as computing it fresh.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import translation
from django.utils.translation import gettext as _

from tessera.accounts.models import Department, User
from tessera.core.errors import PermissionDenied, ValidationFailed
from tessera.core.refcache import ReferenceTable
from tessera.core.text import clean_text
from tessera.sla.calendar import (
    WEEKDAY_NAMES,
    Calendar,
    Pause,
    add_business_minutes,
    business_minutes_between,
    reversed_looking,
)
from tessera.sla.models import (
    TARGETS,
    BusinessCalendar,
    DepartmentSla,
    EscalationRule,
    PriorityMatrix,
    SlaEscalation,
    SlaPolicy,
    SlaTarget,
    Target,
    TicketSla,
)
from tessera.tickets import services as ticket_services
from tessera.tickets.events import Kind, record_event
from tessera.tickets.models import (
    Channel,
    Impact,
    Message,
    Priority,
    Status,
    Ticket,
    TimelineEvent,
    Urgency,
)

logger = logging.getLogger("tessera.sla")
WARNING_RATIO = 0.75
# A claimed row is re-checked after this long if its worker died mid-sweep.
CLAIM_LEASE = timedelta(minutes=5)
SWEEP_BATCH = 500


# Configuration ------------------------------------------------------------------------------------------


def parse_calendar(definition: Any, *, field: str = "definition", shared: bool = True) -> Calendar:
    """Validate a calendar definition (JSON shape of `Calendar.to_dict`) or raise a 422. A draft that
    is not stored (`shared=False`) keeps its computed timeline to itself, freed after the request."""
    try:
        return Calendar.from_dict(definition, shared=shared)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(
            _("Invalid calendar: %(error)s") % {"error": str(exc)[:300]}, field=field
        ) from None


def calendar_warnings(calendar: Calendar) -> list[str]:
    """What looks like a mistake in a valid calendar, for the admin to check: hours that cross
    midnight for more than 12 hours ("18:00-09:00" typed for 09:00-18:00)."""
    days = dict(zip(WEEKDAY_NAMES, _weekday_labels(), strict=True))
    return [
        _(
            "%(day)s: %(start)s-%(end)s runs overnight for %(hours)s hours, until %(end)s the next day. "
            "If you meant %(end)s-%(start)s, swap the two times."
        )
        % {
            "day": days.get(where, where),
            "start": start.strftime("%H:%M"),
            "end": end.strftime("%H:%M"),
            "hours": _overnight_hours(start, end),
        }
        for where, start, end in reversed_looking(calendar)
    ]


def _weekday_labels() -> list[str]:
    return [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday")]


def _overnight_hours(start: time, end: time) -> str:
    minutes = (end.hour * 60 + end.minute + 24 * 60) - (start.hour * 60 + start.minute)
    hours, rest = divmod(minutes, 60)
    return f"{hours}:{rest:02d}" if rest else str(hours)


def _check_admin(actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied(_("Only administrators can change SLA settings."))


def create_calendar(*, actor: User, name: str, definition: Any) -> BusinessCalendar:
    """Store a validated business calendar (admins only); writes one row."""
    _check_admin(actor)
    name = clean_text(name, field="name", max_length=100, required=True, single_line=True)
    calendar = parse_calendar(definition)
    if BusinessCalendar.objects.filter(name=name).exists():
        raise ValidationFailed(_("A calendar with this name already exists."), field="name")
    # Store the normalised form so what is saved is exactly what was validated.
    return BusinessCalendar.objects.create(name=name, definition=calendar.to_dict())


def update_calendar(
    *, actor: User, calendar: BusinessCalendar, name: str | None = None, definition: Any = None
) -> BusinessCalendar:
    """Rename and/or redefine a calendar (admins only); a new definition enqueues, in the same
    transaction, the recomputation of the open tickets counted on it."""
    _check_admin(actor)
    fields: list[str] = []
    if name is not None:
        name = clean_text(name, field="name", max_length=100, required=True, single_line=True)
        if BusinessCalendar.objects.filter(name=name).exclude(pk=calendar.pk).exists():
            raise ValidationFailed(_("A calendar with this name already exists."), field="name")
        calendar.name = name
        fields.append("name")
    redefined = False
    if definition is not None:
        normalised = parse_calendar(definition).to_dict()
        redefined = normalised != calendar.definition
        calendar.definition = normalised
        fields.append("definition")
    if fields:
        with transaction.atomic():
            calendar.save(update_fields=fields)
            if redefined:
                _enqueue_recompute(calendar_id=calendar.pk)
    return calendar


@dataclass(frozen=True)
class TargetMinutes:
    """Business minutes per target for one priority; None means no such target."""

    priority: str
    first_response: int | None = None
    next_response: int | None = None
    resolution: int | None = None
    acknowledge: int | None = None
    calendar_id: int | None = None  # a calendar of its own for this priority; None: the policy's


@dataclass(frozen=True)
class RuleSpec:
    level: str
    target: str = ""
    notify_lead: bool = False
    raise_priority: bool = False
    unassign: bool = False
    move_to: str | None = None  # department slug


@dataclass(frozen=True)
class PolicySpec:
    name: str
    calendar_id: int
    order: int = 100
    is_active: bool = True
    department: str | None = None  # slug
    organisation_id: int | None = None
    channel: str = ""
    targets: tuple[TargetMinutes, ...] = ()
    rules: tuple[RuleSpec, ...] = ()


MAX_TARGET_MINUTES = 366 * 24 * 60


def save_policy(*, actor: User, spec: PolicySpec, policy: SlaPolicy | None = None) -> SlaPolicy:
    """Create a policy, or replace one's conditions, targets and escalation rules (admins only).

    Everything is validated before the first write. Open tickets keep the targets they were
    promised (a snapshot taken at start, priority and department changes); a new calendar for the
    policy or for a priority moves them onto it and recomputes their dues, through the same batched
    task as a calendar change."""
    _check_admin(actor)
    from tessera.accounts.models import Organisation

    name = clean_text(spec.name, field="name", max_length=100, required=True, single_line=True)
    same_name = SlaPolicy.objects.filter(name=name)
    if policy is not None:
        same_name = same_name.exclude(pk=policy.pk)
    if same_name.exists():
        raise ValidationFailed(_("A policy with this name already exists."), field="name")
    calendar = BusinessCalendar.objects.filter(pk=spec.calendar_id).first()
    if calendar is None:
        raise ValidationFailed(_("Unknown calendar."), field="calendar_id")
    department = None
    if spec.department:
        department = Department.objects.filter(slug=spec.department).first()
        if department is None:
            raise ValidationFailed(_("Unknown department."), field="department")
    if spec.organisation_id is not None and not Organisation.objects.filter(pk=spec.organisation_id).exists():
        raise ValidationFailed(_("Unknown organisation."), field="organisation_id")
    if spec.channel and spec.channel not in Channel.values:
        raise ValidationFailed(_("Unknown channel."), field="channel")
    priorities = {p.slug: p for p in Priority.objects.all()}
    own_calendars = {t.calendar_id for t in spec.targets if t.calendar_id is not None}
    known_calendars = set(BusinessCalendar.objects.filter(pk__in=own_calendars).values_list("pk", flat=True))
    seen: set[str] = set()
    for target in spec.targets:
        if target.calendar_id is not None and target.calendar_id not in known_calendars:
            raise ValidationFailed(_("Unknown calendar."), field="targets.calendar_id")
        if target.priority not in priorities:
            raise ValidationFailed(
                _("Unknown priority: %(slug)s") % {"slug": target.priority}, field="targets"
            )
        if target.priority in seen:
            raise ValidationFailed(_("Each priority may appear only once."), field="targets")
        seen.add(target.priority)
        for name_ in TARGETS:
            value = getattr(target, name_)
            # A boolean is an int to Python, but `true` is no number of minutes.
            if value is not None and (isinstance(value, bool) or not 1 <= value <= MAX_TARGET_MINUTES):
                raise ValidationFailed(
                    _("Targets must be between 1 minute and one year."), field=f"targets.{name_}_minutes"
                )
    departments = {d.slug: d for d in Department.objects.filter(slug__in=[r.move_to for r in spec.rules])}
    for rule in spec.rules:
        if rule.level not in EscalationRule.Level.values:
            raise ValidationFailed(_("Unknown escalation level."), field="rules.level")
        if rule.target and rule.target not in Target.values:
            raise ValidationFailed(_("Unknown target."), field="rules.target")
        if rule.move_to and rule.move_to not in departments:
            raise ValidationFailed(_("Unknown department."), field="rules.move_to")

    with transaction.atomic():
        policy = policy or SlaPolicy()
        policy.name = name
        policy.order = spec.order
        policy.is_active = spec.is_active
        policy.department = department
        policy.organisation_id = spec.organisation_id
        policy.channel = spec.channel
        policy.calendar = calendar
        policy.save()
        SlaTarget.objects.filter(policy=policy).delete()
        SlaTarget.objects.bulk_create(
            SlaTarget(
                policy=policy,
                priority=priorities[t.priority],
                first_response_minutes=t.first_response,
                next_response_minutes=t.next_response,
                resolution_minutes=t.resolution,
                acknowledge_minutes=t.acknowledge,
                calendar_id=t.calendar_id,
            )
            for t in spec.targets
        )
        EscalationRule.objects.filter(policy=policy).delete()
        EscalationRule.objects.bulk_create(
            EscalationRule(
                policy=policy,
                level=r.level,
                target=r.target,
                notify_lead=r.notify_lead,
                raise_priority=r.raise_priority,
                unassign=r.unassign,
                move_to=departments[r.move_to] if r.move_to else None,
            )
            for r in spec.rules
        )
        follow_policy_calendars(policy)
    return policy


def follow_policy_calendars(policy: SlaPolicy) -> int:
    """Put the policy's running tickets on the calendar their priority counts on now (after a change
    of the policy's or a priority's calendar) and, if any moved, enqueue the recomputation of their
    dues in the caller's transaction; returns how many moved."""
    own = dict(
        SlaTarget.objects.filter(policy=policy, calendar__isnull=False).values_list(
            "priority_id", "calendar_id"
        )
    )
    running = TicketSla.objects.filter(policy=policy, stopped_at__isnull=True)
    moved = 0
    for priority_id, calendar_id in own.items():
        moved += (
            running.filter(ticket__priority_id=priority_id)
            .exclude(calendar_id=calendar_id)
            .update(calendar_id=calendar_id)
        )
    moved += (
        running.exclude(ticket__priority_id__in=list(own))
        .exclude(calendar_id=policy.calendar_id)
        .update(calendar_id=policy.calendar_id)
    )
    if moved:
        _enqueue_recompute(policy_id=policy.pk)
    return moved


def set_matrix(*, actor: User, cells: dict[tuple[str, str], str | None]) -> None:
    """Set matrix cells, (impact, urgency) → priority slug or None to clear (admins only)."""
    _check_admin(actor)
    priorities = {p.slug: p for p in Priority.objects.all()}
    for (impact, urgency), slug in cells.items():
        if impact not in Impact.values:
            raise ValidationFailed(_("Unknown impact: %(value)s") % {"value": impact}, field="impact")
        if urgency not in Urgency.values:
            raise ValidationFailed(_("Unknown urgency: %(value)s") % {"value": urgency}, field="urgency")
        if slug is not None and slug not in priorities:
            raise ValidationFailed(_("Unknown priority: %(slug)s") % {"slug": slug}, field="priority")
    with transaction.atomic():
        for (impact, urgency), slug in cells.items():
            if slug is None:
                PriorityMatrix.objects.filter(impact=impact, urgency=urgency).delete()
            else:
                PriorityMatrix.objects.update_or_create(
                    impact=impact, urgency=urgency, defaults={"priority": priorities[slug]}
                )


def set_priority_input(*, actor: User, department: Department, priority_input: str) -> DepartmentSla:
    """How a department's customers set the priority: directly or through the matrix (admins)."""
    _check_admin(actor)
    if priority_input not in DepartmentSla.PriorityInput.values:
        raise ValidationFailed(_("Use “direct” or “matrix”."), field="priority_input")
    option, _created = DepartmentSla.objects.update_or_create(
        department=department, defaults={"priority_input": priority_input}
    )
    return option


# Calendar preview ---------------------------------------------------------------------------------------

MAX_PREVIEW_MINUTES = 10_000_000


@dataclass(frozen=True)
class Preview:
    """One preview answer, with the calendar it was computed on (callers show its time zone)."""

    calendar: Calendar
    due: datetime | None = None  # None although minutes were given: an open-ended pause came first
    business_minutes: float | None = None
    warnings: tuple[str, ...] = ()  # what looks like a mistake in the calendar (calendar_warnings)


def preview_calendar(
    *,
    actor: User,
    start: datetime,
    calendar_id: int | None = None,
    definition: Any = None,
    minutes: float | None = None,
    end: datetime | None = None,
    pauses: Sequence[Pause] = (),
) -> Preview:
    """When `minutes` business minutes after `start` have elapsed, or how many business minutes lie
    between `start` and `end`, on a stored calendar (`calendar_id`) or a draft `definition`, not
    counting `pauses`. Agents only; reads the calendar and writes nothing. The API and the admin's
    policy and calendar editors all answer through this one function, so they cannot disagree."""
    if not actor.is_agent:
        raise PermissionDenied(_("Only agents can see or change SLA settings."))
    calendar = _preview_calendar(calendar_id, definition)
    if isinstance(minutes, bool):  # an int to Python, never a number of minutes
        raise ValidationFailed(_("Give the business minutes as a number."), field="minutes")
    if minutes is not None and end is not None:
        raise ValidationFailed(_("Give either minutes or end, not both."), field="minutes")
    if minutes is None and end is None:
        raise ValidationFailed(_("Give a number of business minutes or an end."), field="minutes")
    _check_aware(start, "start")
    if minutes is not None and not (math.isfinite(minutes) and 0 <= minutes <= MAX_PREVIEW_MINUTES):
        raise ValidationFailed(
            _("Give between 0 and %(max)d business minutes.") % {"max": MAX_PREVIEW_MINUTES}, field="minutes"
        )
    if end is not None:
        _check_aware(end, "end")
        if end < start:
            raise ValidationFailed(_("The end must not be before the start."), field="end")
    for number, (pause_start, pause_end) in enumerate(pauses, start=1):
        _check_aware(pause_start, "pauses")
        if pause_end is not None:
            _check_aware(pause_end, "pauses")
            if pause_end < pause_start:
                raise ValidationFailed(
                    _("Pause %(number)d ends before it starts.") % {"number": number}, field="pauses"
                )
    warnings = tuple(calendar_warnings(calendar))
    try:
        if minutes is not None:
            due = add_business_minutes(calendar, start, minutes, pauses)
            return Preview(calendar, due=due, warnings=warnings)
        assert end is not None  # noqa: S101 - checked above: exactly one is given
        measured = business_minutes_between(calendar, start, end, pauses)
        return Preview(calendar, business_minutes=measured, warnings=warnings)
    except ValueError as exc:  # beyond the five-year search horizon or the supported years
        raise ValidationFailed(
            _("Cannot compute this: %(error)s") % {"error": str(exc)[:300]}, field="start"
        ) from None


def _preview_calendar(calendar_id: int | None, definition: Any) -> Calendar:
    if (calendar_id is None) == (definition is None):
        raise ValidationFailed(_("Give either calendar_id or definition."), field="calendar_id")
    if calendar_id is None:
        return parse_calendar(definition, shared=False)
    stored = BusinessCalendar.objects.filter(pk=calendar_id).first()
    if stored is None:
        raise ValidationFailed(_("Unknown calendar."), field="calendar_id")
    return stored.as_calendar()


def _check_aware(instant: datetime, field: str) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValidationFailed(_("Give the time with its time zone or UTC offset."), field=field)


# Recomputation ------------------------------------------------------------------------------------------

RECOMPUTE_BATCH = 5000
WRITE_BATCH = 200
_DUE_FIELDS = [f"{target}_due" for target in TARGETS] + ["due_at", "next_check_at"]
# What the recomputation reads per row: no model instances, only these columns as tuples.
_RECOMPUTE_COLUMNS = (
    "pk",
    "ticket_id",
    "calendar_id",
    "targets_text",
    "started_at",
    "paused_since",
    "pauses_text",
    "first_responded_at",
    "next_response_started_at",
    "next_response_cycle",
    "resolved_at",
    "acknowledged_at",
    "first_response_due",
    "next_response_due",
    "resolution_due",
    "acknowledge_due",
    "due_at",
    "next_check_at",
)
_BREACH, _WARNING = SlaEscalation.Level.BREACH.value, SlaEscalation.Level.WARNING.value
_NO_ESCALATIONS: frozenset[tuple[str, str, int]] = frozenset()


def _write_dues(rows: list[tuple[Any, ...]]) -> None:
    """Store recomputed dues, rows as (pk, *values in _DUE_FIELDS order). In statements of
    `WRITE_BATCH` rows: bulk_update writes a CASE per column with a branch per row, which grows
    quadratically with a statement's rows (measured: 6 s for one statement of 2,000 on PostgreSQL)."""
    changed = [TicketSla(pk=row[0], **dict(zip(_DUE_FIELDS, row[1:], strict=True))) for row in rows]
    TicketSla.objects.bulk_update(changed, _DUE_FIELDS, batch_size=WRITE_BATCH)


def _enqueue_recompute(*, calendar_id: int | None = None, policy_id: int | None = None) -> None:
    from tessera.sla.tasks import recompute_sla_dues

    recompute_sla_dues.enqueue(calendar_id=calendar_id, policy_id=policy_id)


def recompute_dues(*, calendar_id: int | None = None, policy_id: int | None = None) -> int:
    """Recompute the dues and next check of every running ticket counted on a calendar (or under a
    policy), from each ticket's original start and pauses; returns how many rows it recomputed.
    Safe to run twice.

    The same arithmetic as `_recompute`, over plain column tuples: one query lists the ids, then
    per batch of `RECOMPUTE_BATCH` (one transaction each) a primary-key range read of the needed
    columns, one query for the batch's escalations, one for its policies' calendars, and one
    UPDATE of the rows whose values changed."""
    rows = TicketSla.objects.filter(stopped_at__isnull=True, calendar__isnull=False)
    if calendar_id is not None:
        rows = rows.filter(calendar_id=calendar_id)
    if policy_id is not None:
        rows = rows.filter(policy_id=policy_id)
    # Keyset pages (pk > last ... LIMIT n) made PostgreSQL scan the table once per page; bounded
    # primary-key ranges of the ids listed up front walk the index instead.
    ids = list(rows.order_by("pk").values_list("pk", flat=True))
    done = 0
    for first in range(0, len(ids), RECOMPUTE_BATCH):
        chunk = ids[first : first + RECOMPUTE_BATCH]
        with transaction.atomic():
            in_range = rows.filter(pk__gte=chunk[0], pk__lte=chunk[-1])
            batch = list(
                in_range.order_by("pk")
                # JSON as text: a few distinct values, each decoded once below.
                .annotate(targets_text=Cast("targets", TextField()), pauses_text=Cast("pauses", TextField()))
                .values_list(*_RECOMPUTE_COLUMNS)
            )
            if not batch:
                continue
            calendars = {
                pk: BusinessCalendar(pk=pk, definition=definition).as_calendar()
                for pk, definition in BusinessCalendar.objects.filter(
                    pk__in={row[2] for row in batch}
                ).values_list("pk", "definition")
            }
            escalated: dict[int, set[tuple[str, str, int]]] = {}
            for ticket_id, target, level, cycle in SlaEscalation.objects.filter(
                ticket_id__in=in_range.values("ticket_id")  # a subquery, not thousands of parameters
            ).values_list("ticket_id", "target", "level", "cycle"):
                escalated.setdefault(ticket_id, set()).add((target, level, cycle))
            changed = []
            decoded: dict[str, Any] = {}  # JSON text -> targets dict / closed pauses, shared read-only
            for row in batch:
                targets = decoded.get(row[3])
                if targets is None:
                    targets = decoded[row[3]] = json.loads(row[3])
                closed = decoded.get(row[6])
                if closed is None:
                    closed = decoded[row[6]] = tuple(
                        (datetime.fromisoformat(s), datetime.fromisoformat(e)) for s, e in json.loads(row[6])
                    )
                new = _recompute_row(
                    row, targets, closed, calendars[row[2]], escalated.get(row[1], _NO_ESCALATIONS)
                )
                if new[1:] != row[12:]:
                    changed.append(new)
            _write_dues(changed)
        done += len(batch)
    return done


def _recompute_row(
    row: tuple[Any, ...],
    targets: dict[str, Any],
    closed: tuple[tuple[datetime, datetime], ...],
    calendar: Calendar,
    escalated: set[tuple[str, str, int]] | frozenset[tuple[str, str, int]],
) -> tuple[Any, ...]:
    """`_recompute` + `_next_check` for one running row of `_RECOMPUTE_COLUMNS` (policy set, not
    stopped): returns (pk, *new values in _DUE_FIELDS order). Kept step for step equal to them,
    which tests/sla/test_recompute.py checks against the per-ticket computation."""
    (
        pk,
        _ticket_id,
        _calendar_id,
        _targets_text,
        started_at,
        paused_since,
        _pauses_text,
        first_responded_at,
        next_response_started_at,
        next_response_cycle,
        resolved_at,
        acknowledged_at,
        *old_dues,
    ) = row
    pauses: list[Pause] = list(closed)
    if paused_since is not None:
        pauses.append((paused_since, None))
    starts = (
        started_at if first_responded_at is None else None,
        next_response_started_at,
        started_at if resolved_at is None else None,
        started_at if acknowledged_at is None else None,
    )
    dues: list[datetime | None] = old_dues[:4]
    due_at: datetime | None = None
    next_check: datetime | None = None
    for index, target in enumerate(TARGETS):
        start, minutes = starts[index], targets.get(target)
        if start is None or minutes is None:
            # Not running. No target, or nothing awaited: nothing is due. A met first response,
            # resolution or acknowledgement keeps its due for reports.
            if target not in targets or target == Target.NEXT_RESPONSE:
                dues[index] = None
            continue
        minutes = int(minutes)
        due = add_business_minutes(calendar, start, minutes, pauses)
        dues[index] = due
        if due is None:
            continue
        if due_at is None or due < due_at:
            due_at = due
        cycle = next_response_cycle if target == Target.NEXT_RESPONSE else 0
        if escalated and (target, _BREACH, cycle) in escalated:
            continue
        if escalated and (target, _WARNING, cycle) in escalated:
            check = due
        else:
            warn_at = add_business_minutes(calendar, start, minutes * WARNING_RATIO, pauses)
            check = warn_at if warn_at is not None else due
        if next_check is None or check < next_check:
            next_check = check
    return (pk, *dues, due_at, next_check)


def priority_for(impact: str, urgency: str) -> Priority | None:
    """The matrix's priority for an impact x urgency pair, or None if the cell is not configured."""
    if not impact or not urgency:
        return None
    cell = PriorityMatrix.objects.select_related("priority").filter(impact=impact, urgency=urgency).first()
    return cell.priority if cell else None


# Policies and targets are read for every new ticket and change a few times a year: a per-process copy
# (tessera.core.refcache) saves three queries per ticket; changes made elsewhere show within its TTL.
_active_policies = ReferenceTable(
    lambda: list(SlaPolicy.objects.select_related("calendar").filter(is_active=True).order_by("order", "id")),
    SlaPolicy,
    BusinessCalendar,
)
_target_minutes = ReferenceTable(
    lambda: {(t.policy_id, t.priority_id): t.minutes() for t in SlaTarget.objects.all()}, SlaTarget
)
# The calendar of each priority that has one of its own, and every calendar by id.
_target_calendars = ReferenceTable(
    lambda: {
        (policy_id, priority_id): calendar_id
        for policy_id, priority_id, calendar_id in SlaTarget.objects.filter(
            calendar__isnull=False
        ).values_list("policy_id", "priority_id", "calendar_id")
    },
    SlaTarget,
)
_calendars = ReferenceTable(lambda: {c.pk: c for c in BusinessCalendar.objects.all()}, BusinessCalendar)


def pick_policy(ticket: Ticket) -> SlaPolicy | None:
    """First active policy, by order, whose department, organisation and channel all match."""
    organisation_id = ticket.requester.organisation_id
    for policy in _active_policies.get():
        if (
            policy.department_id in (None, ticket.department_id)
            and policy.organisation_id in (None, organisation_id)
            and policy.channel in ("", ticket.channel)
        ):
            return policy
    return None


def _targets_for(policy: SlaPolicy | None, ticket: Ticket) -> dict[str, int]:
    if policy is None:
        return {}
    return dict(_target_minutes.get().get((policy.pk, ticket.priority_id), {}))


def calendar_for(policy: SlaPolicy | None, priority_id: int) -> BusinessCalendar | None:
    """The calendar a ticket of this priority counts on under `policy`: the priority's own, else the
    policy's (a hosting desk runs Critical around the clock and the rest in business hours)."""
    if policy is None:
        return None
    calendar_id = _target_calendars.get().get((policy.pk, priority_id), policy.calendar_id)
    calendar = _calendars.get().get(calendar_id)
    if calendar is None:  # created in another process within the cache's lifetime
        calendar = BusinessCalendar.objects.get(pk=calendar_id)
    return calendar


# Clock keeping ------------------------------------------------------------------------------------------


_SYSTEM_KINDS_THAT_MOVE_CLOCKS = (
    Kind.STATUS_CHANGED,
    Kind.MERGED,
    Kind.PRIORITY_CHANGED,
    Kind.DEPARTMENT_CHANGED,
)


def on_event_recorded(sender: object, event: TimelineEvent, **kwargs: Any) -> None:
    """Receiver of `event_recorded`: keeps the ticket's SLA state in step with the change."""
    kind = event.kind
    if kind == Kind.CREATED:
        start_clocks(ticket=event.ticket, at=event.created_at)
        return
    if kind in (Kind.SLA_WARNING, Kind.SLA_BREACHED):
        return
    if event.actor_id is None and kind not in _SYSTEM_KINDS_THAT_MOVE_CLOCKS:
        return  # e.g. routing's assignment: nothing below would change, so skip the row lock
    state = TicketSla.objects.select_for_update().filter(ticket_id=event.ticket_id).first()
    if state is None or state.stopped_at is not None:
        return
    ticket = event.ticket
    at = event.created_at
    actor = event.actor
    by_agent = actor is not None and actor.is_agent and event.channel != Channel.SYSTEM
    changed: set[str] = set()

    if by_agent and state.acknowledged_at is None and kind != Kind.CREATED:
        state.acknowledged_at = at
        state.acknowledge_breached = _late(state, "acknowledge", state.started_at, at)
        state.acknowledge_minutes = _elapsed(state, state.started_at, at)
        changed |= {"acknowledged_at", "acknowledge_breached", "acknowledge_minutes"}

    if kind == Kind.REPLIED and event.message is not None and event.message.kind == Message.Kind.REPLY:
        if by_agent:
            changed |= _agent_replied(state, at)
        elif actor is not None and event.channel != Channel.SYSTEM:
            changed |= _customer_replied(state, at)
    elif kind == Kind.STATUS_CHANGED:
        changed |= _status_changed(state, str(event.old or ""), str(event.new or ""), at)
    elif kind == Kind.MERGED:
        state.stopped_at = at
        changed.add("stopped_at")
    elif kind in (Kind.PRIORITY_CHANGED, Kind.DEPARTMENT_CHANGED):
        state.policy = pick_policy(ticket)
        state.targets = _targets_for(state.policy, ticket)
        state.calendar = calendar_for(state.policy, ticket.priority_id)
        changed |= {"policy", "targets", "calendar"}

    if changed:
        changed |= _recompute(state, at)
        state.save(update_fields=sorted(changed))


def start_clocks(*, ticket: Ticket, at: datetime) -> TicketSla:
    """Pick the policy and compute the first dues from the ticket's creation; writes TicketSla."""
    policy = pick_policy(ticket)
    state = TicketSla(
        ticket=ticket,
        policy=policy,
        calendar=calendar_for(policy, ticket.priority_id),
        targets=_targets_for(policy, ticket),
        started_at=ticket.created_at or at,
    )
    _recompute(state, at)
    state.save(force_insert=True)
    return state


def _agent_replied(state: TicketSla, at: datetime) -> set[str]:
    if state.first_responded_at is None:
        state.first_responded_at = at
        state.first_response_minutes = _elapsed(state, state.started_at, at)
        state.first_response_breached = _late(state, "first_response", state.started_at, at)
        return {"first_responded_at", "first_response_breached", "first_response_minutes"}
    if state.next_response_started_at is not None:
        if _late(state, "next_response", state.next_response_started_at, at):
            state.next_response_breached = True
        state.next_response_started_at = None
        return {"next_response_started_at", "next_response_breached"}
    return set()


def _customer_replied(state: TicketSla, at: datetime) -> set[str]:
    # Before the first response the first-response clock is the one running; and the next-response
    # clock runs from the *oldest* unanswered customer reply.
    if state.first_responded_at is None or state.next_response_started_at is not None:
        return set()
    state.next_response_started_at = at
    state.next_response_cycle += 1
    return {"next_response_started_at", "next_response_cycle"}


def _status_changed(state: TicketSla, old: str, new: str, at: datetime) -> set[str]:
    changed: set[str] = set()
    if new == Status.CLOSED:
        if state.resolved_at is None:
            state.resolution_breached = _late(state, "resolution", state.started_at, at)
            state.resolution_minutes = _elapsed(state, state.started_at, at)
            changed |= {"resolution_breached", "resolution_minutes"}
        state.stopped_at = at
        return changed | {"stopped_at"}
    if new in (Status.WAITING, Status.RESOLVED) and state.paused_since is None:
        state.paused_since = at
        changed.add("paused_since")
    if new == Status.RESOLVED:
        state.resolved_at = at
        state.resolution_breached = _late(state, "resolution", state.started_at, at)
        state.resolution_minutes = _elapsed(state, state.started_at, at)
        changed |= {"resolved_at", "resolution_breached", "resolution_minutes"}
    elif new in (Status.OPEN, Status.NEW) and old in (Status.WAITING, Status.RESOLVED):
        # Resuming: the waiting (or resolved) span becomes a closed pause of every clock.
        if state.paused_since is not None:
            span = [state.paused_since.astimezone(UTC).isoformat(), at.astimezone(UTC).isoformat()]
            state.pauses = [*state.pauses, span]
            state.paused_since = None
        state.resolved_at = None
        state.resolution_minutes = None
        changed |= {"pauses", "paused_since", "resolved_at", "resolution_minutes"}
    return changed


def _elapsed(state: TicketSla, start: datetime, at: datetime) -> float | None:
    """Business minutes from `start` to `at` on the policy's calendar, pauses excluded."""
    if state.calendar is None:
        return None
    return business_minutes_between(state.calendar.as_calendar(), start, at, state.all_pauses())


def _late(state: TicketSla, target: str, start: datetime, at: datetime) -> bool:
    """Whether more business minutes than allowed elapsed from `start` to `at`, pauses excluded."""
    minutes = state.targets.get(target)
    elapsed = _elapsed(state, start, at)
    return minutes is not None and elapsed is not None and elapsed > int(minutes)


@dataclass(frozen=True)
class Clock:
    """One running clock: where it started, how many business minutes it allows."""

    target: str
    start: datetime
    minutes: int
    cycle: int


def running_clocks(state: TicketSla) -> list[Clock]:
    """Targets still counting (not met, not stopped); paused clocks are running but have no due."""
    if state.policy_id is None or state.stopped_at is not None:
        return []
    starts: dict[str, datetime | None] = {
        "first_response": state.started_at if state.first_responded_at is None else None,
        "next_response": state.next_response_started_at,
        "resolution": state.started_at if state.resolved_at is None else None,
        "acknowledge": state.started_at if state.acknowledged_at is None else None,
    }
    clocks = []
    for target in TARGETS:
        start, minutes = starts[target], state.targets.get(target)
        if start is not None and minutes is not None:
            cycle = state.next_response_cycle if target == Target.NEXT_RESPONSE else 0
            clocks.append(Clock(target, start, int(minutes), cycle))
    return clocks


def _recompute(
    state: TicketSla, now: datetime, escalated: set[tuple[str, str, int]] | None = None
) -> set[str]:
    """Recompute the dues of running clocks (met ones keep theirs) and the next check instant."""
    calendar = state.calendar.as_calendar() if state.calendar else None
    pauses = state.all_pauses()
    running = {clock.target: clock for clock in running_clocks(state)}
    for target in TARGETS:
        clock = running.get(target)
        if clock is not None and calendar is not None:
            due = add_business_minutes(calendar, clock.start, clock.minutes, pauses)
            setattr(state, f"{target}_due", due)
        elif calendar is None or target not in state.targets or target == Target.NEXT_RESPONSE:
            # No target, or nothing awaited: nothing is due. A met first response, resolution or
            # acknowledgement keeps its due for reports.
            setattr(state, f"{target}_due", None)
    dues = [getattr(state, f"{target}_due") for target in running]
    state.due_at = min((due for due in dues if due is not None), default=None)
    if escalated is None:
        escalated = _escalated(state)
    state.next_check_at = _next_check(state, calendar, pauses, escalated)
    return {f"{target}_due" for target in TARGETS} | {"next_check_at", "due_at"}


def _escalated(state: TicketSla) -> set[tuple[str, str, int]]:
    if state.pk is None:
        return set()
    return {e.as_key() for e in SlaEscalation.objects.filter(ticket_id=state.ticket_id)}


def _next_check(
    state: TicketSla, calendar: Calendar | None, pauses: list[Pause], escalated: set[tuple[str, str, int]]
) -> datetime | None:
    """The earliest warning or breach instant not escalated yet; None when nothing can fire."""
    if calendar is None:
        return None
    candidates: list[datetime] = []
    for clock in running_clocks(state):
        due: datetime | None = getattr(state, f"{clock.target}_due")
        if due is None or (clock.target, SlaEscalation.Level.BREACH, clock.cycle) in escalated:
            continue
        if (clock.target, SlaEscalation.Level.WARNING, clock.cycle) in escalated:
            candidates.append(due)
            continue
        warn_at = add_business_minutes(calendar, clock.start, clock.minutes * WARNING_RATIO, pauses)
        candidates.append(warn_at if warn_at is not None else due)
    return min(candidates, default=None)


# Escalation ---------------------------------------------------------------------------------------------


def _due_candidates(now: datetime, limit: int) -> list[tuple[int, datetime]]:
    """Rows whose next check has passed, through the `next_check_at` index (no full scan)."""
    rows = (
        TicketSla.objects.filter(next_check_at__lte=now)
        .order_by("next_check_at")
        .values_list("pk", "next_check_at")[:limit]
    )
    return [(pk, check_at) for pk, check_at in rows if check_at is not None]


def sweep_due(now: datetime, *, limit: int = SWEEP_BATCH) -> int:
    """Escalate every SLA row whose next check has passed; returns how many rows this call claimed.

    Each row is claimed with a conditional UPDATE on the `next_check_at` value we read, in its own
    transaction: of two workers, the second matches nothing (PostgreSQL re-checks the condition
    after the first commits; SQLite serialises writers), so each warning and breach is recorded
    once. The unique constraint on SlaEscalation is the backstop.
    """
    claimed = 0
    for pk, check_at in _due_candidates(now, limit):
        with transaction.atomic():
            if not TicketSla.objects.filter(pk=pk, next_check_at=check_at).update(
                next_check_at=now + CLAIM_LEASE
            ):
                continue  # another worker got there first
            claimed += 1
            try:
                with transaction.atomic():  # savepoint: a failing row keeps its lease, others go on
                    state = TicketSla.objects.select_related("ticket", "policy", "calendar").get(pk=pk)
                    escalate_ticket(state=state, now=now)
            except Exception:
                logger.exception("SLA escalation failed for TicketSla %s; retried after the lease", pk)
    return claimed


def escalate_ticket(*, state: TicketSla, now: datetime) -> list[SlaEscalation]:
    """Record due warnings (75 %) and breaches as SlaEscalation rows and SLA_* timeline events,
    store the next check instant, then run the policy's escalation rules for each new escalation
    (priority, unassign, department: each its own timeline event). The caller holds the row."""
    escalated = _escalated(state)
    recorded: list[SlaEscalation] = []
    changed = {"next_check_at"}
    calendar = state.calendar.as_calendar() if state.calendar else None
    pauses = state.all_pauses()
    rules = list(EscalationRule.objects.filter(policy_id=state.policy_id)) if state.policy_id else []
    pending: list[tuple[SlaEscalation, list[EscalationRule]]] = []
    for clock in running_clocks(state):
        due: datetime | None = getattr(state, f"{clock.target}_due")
        if calendar is None or due is None:
            continue
        if (clock.target, SlaEscalation.Level.BREACH, clock.cycle) in escalated:
            continue
        level: str | None = None
        if now >= due:
            level = SlaEscalation.Level.BREACH
            setattr(state, f"{clock.target}_breached", True)
            changed.add(f"{clock.target}_breached")
        elif (clock.target, SlaEscalation.Level.WARNING, clock.cycle) not in escalated:
            warn_at = add_business_minutes(calendar, clock.start, clock.minutes * WARNING_RATIO, pauses)
            if warn_at is not None and now >= warn_at:
                level = SlaEscalation.Level.WARNING
        if level is None:
            continue
        matching = [rule for rule in rules if rule.applies_to(clock.target, level)]
        escalation = _record_escalation(state, clock, level, due, _planned_actions(matching))
        if escalation is not None:
            recorded.append(escalation)
            escalated.add(escalation.as_key())
            pending.append((escalation, matching))
    state.next_check_at = _next_check(state, calendar, pauses, escalated)
    state.save(update_fields=sorted(changed))
    # After the save: a priority or department change re-enters `on_event_recorded`, which
    # recomputes this row from the database (escalations included).
    for escalation, matching in pending:
        _run_actions(state.ticket_id, escalation, matching)
    return recorded


def _planned_actions(rules: list[EscalationRule]) -> list[str]:
    actions: list[str] = []
    for rule in rules:
        if rule.notify_lead:
            actions.append("notify_lead")
        if rule.raise_priority:
            actions.append("raise_priority")
        if rule.unassign:
            actions.append("unassign")
        if rule.move_to_id:
            actions.append(f"move_to:{rule.move_to_id}")
    return list(dict.fromkeys(actions))  # several rules asking for the same thing do it once


def _record_escalation(
    state: TicketSla, clock: Clock, level: str, due: datetime, actions: list[str]
) -> SlaEscalation | None:
    try:
        with transaction.atomic():  # savepoint: a duplicate must not poison the outer transaction
            escalation = SlaEscalation.objects.create(
                ticket_id=state.ticket_id, target=clock.target, level=level, cycle=clock.cycle, due_at=due
            )
    except IntegrityError:
        return None  # already escalated by someone else: exactly once
    payload: dict[str, Any] = {"target": clock.target, "due": due.isoformat(), "cycle": clock.cycle}
    if actions:
        payload["actions"] = actions
    event = record_event(
        ticket=state.ticket,
        actor=None,
        channel=Channel.SYSTEM,
        kind=Kind.SLA_BREACHED if level == SlaEscalation.Level.BREACH else Kind.SLA_WARNING,
        new=payload,
        is_public=False,
    )
    escalation.event = event
    escalation.save(update_fields=["event"])
    return escalation


def _run_actions(ticket_id: int, escalation: SlaEscalation, rules: list[EscalationRule]) -> None:
    """Apply the rules' ticket changes as the system (`actor=None`) through the standard ticket
    commands, so they write the same timeline events, notifications, agent-load counts and SLA
    recomputation as an agent's change. Notifying the leads is done by the notifications app when
    it sees the SLA event."""
    if not rules:
        return
    # Locked: the commands bump the version we read, and an agent's concurrent change must wait.
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("priority", "department", "assignee")
        .get(pk=ticket_id)
    )
    if not ticket.is_open:
        return
    with translation.override(settings.LANGUAGE_CODE):  # reasons are stored text, in the site language
        label = Target(escalation.target).label
        reason = (
            _("SLA target breached: %(target)s")
            if escalation.level == SlaEscalation.Level.BREACH
            else _("SLA target nearly due: %(target)s")
        ) % {"target": label}
    if any(rule.raise_priority for rule in rules):
        higher = Priority.objects.filter(rank__gt=ticket.priority.rank).order_by("rank").first()
        if higher is not None:
            ticket = ticket_services.change_priority(
                actor=None, ticket=ticket, priority=higher, reason=reason, channel=Channel.SYSTEM
            )
    if ticket.assignee_id and any(rule.unassign for rule in rules):
        ticket = ticket_services.assign_ticket(
            actor=None, ticket=ticket, assignee=None, channel=Channel.SYSTEM
        )
    move_to = next((rule.move_to for rule in rules if rule.move_to_id), None)
    if move_to is not None and move_to.pk != ticket.department_id and move_to.is_active:
        # Unassigns too when the assignee does not work in the new department.
        ticket_services.change_department(
            actor=None, ticket=ticket, department=move_to, reason=reason, channel=Channel.SYSTEM
        )
