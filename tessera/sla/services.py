"""SLA commands and clock keeping.

Ticket changes reach us through `tickets.events.event_recorded`, inside the ticket's own
transaction, so SLA state commits or rolls back with the change it follows. Every due instant is
recomputed from the original start with all pauses (never shifted incrementally), so any order of
pauses, reopenings and priority changes gives the same answer as computing it fresh.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.core.errors import PermissionDenied, ValidationFailed
from tessera.core.text import clean_text
from tessera.sla.calendar import Calendar, Pause, add_business_minutes, business_minutes_between
from tessera.sla.models import (
    TARGETS,
    BusinessCalendar,
    PriorityMatrix,
    SlaEscalation,
    SlaPolicy,
    SlaTarget,
    Target,
    TicketSla,
)
from tessera.tickets.events import Kind, record_event
from tessera.tickets.models import Channel, Message, Priority, Status, Ticket, TimelineEvent

logger = logging.getLogger("tessera.sla")
WARNING_RATIO = 0.75
# A claimed row is re-checked after this long if its worker died mid-sweep.
CLAIM_LEASE = timedelta(minutes=5)
SWEEP_BATCH = 500


# Configuration ------------------------------------------------------------------------------------------


def parse_calendar(definition: Any, *, field: str = "definition") -> Calendar:
    """Validate a calendar definition (JSON shape of `Calendar.to_dict`) or raise a 422."""
    try:
        return Calendar.from_dict(definition)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(
            _("Invalid calendar: %(error)s") % {"error": str(exc)[:300]}, field=field
        ) from None


def create_calendar(*, actor: User, name: str, definition: Any) -> BusinessCalendar:
    """Store a validated business calendar (agents and admins only); writes one row."""
    if not actor.is_agent:
        raise PermissionDenied(_("Only agents can manage calendars."))
    name = clean_text(name, field="name", max_length=100, required=True, single_line=True)
    calendar = parse_calendar(definition)
    if BusinessCalendar.objects.filter(name=name).exists():
        raise ValidationFailed(_("A calendar with this name already exists."), field="name")
    # Store the normalised form so what is saved is exactly what was validated.
    return BusinessCalendar.objects.create(name=name, definition=calendar.to_dict())


def priority_for(impact: str, urgency: str) -> Priority | None:
    """The matrix's priority for an impact x urgency pair, or None if the cell is not configured."""
    if not impact or not urgency:
        return None
    cell = PriorityMatrix.objects.select_related("priority").filter(impact=impact, urgency=urgency).first()
    return cell.priority if cell else None


def pick_policy(ticket: Ticket) -> SlaPolicy | None:
    """First active policy, by order, whose department, organisation and channel all match."""
    organisation_id = ticket.requester.organisation_id
    return (
        SlaPolicy.objects.select_related("calendar")
        .filter(is_active=True)
        .filter(Q(department__isnull=True) | Q(department_id=ticket.department_id))
        .filter(Q(organisation__isnull=True) | Q(organisation_id=organisation_id))
        .filter(Q(channel="") | Q(channel=ticket.channel))
        .order_by("order", "id")
        .first()
    )


def _targets_for(policy: SlaPolicy | None, ticket: Ticket) -> dict[str, int]:
    if policy is None:
        return {}
    target = SlaTarget.objects.filter(policy=policy, priority_id=ticket.priority_id).first()
    return target.minutes() if target else {}


# Clock keeping ------------------------------------------------------------------------------------------


def on_event_recorded(sender: object, event: TimelineEvent, **kwargs: Any) -> None:
    """Receiver of `event_recorded`: keeps the ticket's SLA state in step with the change."""
    kind = event.kind
    if kind == Kind.CREATED:
        start_clocks(ticket=event.ticket, at=event.created_at)
        return
    if kind in (Kind.SLA_WARNING, Kind.SLA_BREACHED):
        return
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
        changed |= {"acknowledged_at", "acknowledge_breached"}

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
        changed |= {"policy", "targets"}

    if changed:
        changed |= _recompute(state, at)
        state.save(update_fields=sorted(changed))


def start_clocks(*, ticket: Ticket, at: datetime) -> TicketSla:
    """Pick the policy and compute the first dues from the ticket's creation; writes TicketSla."""
    policy = pick_policy(ticket)
    state = TicketSla(
        ticket=ticket,
        policy=policy,
        targets=_targets_for(policy, ticket),
        started_at=ticket.created_at or at,
    )
    _recompute(state, at)
    state.save()
    return state


def _agent_replied(state: TicketSla, at: datetime) -> set[str]:
    if state.first_responded_at is None:
        state.first_responded_at = at
        state.first_response_breached = _late(state, "first_response", state.started_at, at)
        return {"first_responded_at", "first_response_breached"}
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
            changed.add("resolution_breached")
        state.stopped_at = at
        return changed | {"stopped_at"}
    if new in (Status.WAITING, Status.RESOLVED) and state.paused_since is None:
        state.paused_since = at
        changed.add("paused_since")
    if new == Status.RESOLVED:
        state.resolved_at = at
        state.resolution_breached = _late(state, "resolution", state.started_at, at)
        changed |= {"resolved_at", "resolution_breached"}
    elif new in (Status.OPEN, Status.NEW) and old in (Status.WAITING, Status.RESOLVED):
        # Resuming: the waiting (or resolved) span becomes a closed pause of every clock.
        if state.paused_since is not None:
            span = [state.paused_since.astimezone(UTC).isoformat(), at.astimezone(UTC).isoformat()]
            state.pauses = [*state.pauses, span]
            state.paused_since = None
        state.resolved_at = None
        changed |= {"pauses", "paused_since", "resolved_at"}
    return changed


def _late(state: TicketSla, target: str, start: datetime, at: datetime) -> bool:
    """Whether more business minutes than allowed elapsed from `start` to `at`, pauses excluded."""
    minutes = state.targets.get(target)
    if minutes is None or state.policy is None:
        return False
    calendar = state.policy.calendar.as_calendar()
    return business_minutes_between(calendar, start, at, state.all_pauses()) > int(minutes)


@dataclass(frozen=True)
class Clock:
    """One running clock: where it started, how many business minutes it allows."""

    target: str
    start: datetime
    minutes: int
    cycle: int


def running_clocks(state: TicketSla) -> list[Clock]:
    """Targets still counting (not met, not stopped); paused clocks are running but have no due."""
    if state.policy is None or state.stopped_at is not None:
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
    calendar = state.policy.calendar.as_calendar() if state.policy else None
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
    if escalated is None:
        escalated = _escalated(state)
    state.next_check_at = _next_check(state, calendar, pauses, escalated)
    return {f"{target}_due" for target in TARGETS} | {"next_check_at"}


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
                    state = TicketSla.objects.select_related("ticket", "policy__calendar").get(pk=pk)
                    escalate_ticket(state=state, now=now)
            except Exception:
                logger.exception("SLA escalation failed for TicketSla %s; retried after the lease", pk)
    return claimed


def escalate_ticket(*, state: TicketSla, now: datetime) -> list[SlaEscalation]:
    """Record due warnings (75 %) and breaches as SlaEscalation rows and SLA_* timeline events,
    then store the next check instant. The caller holds the row (claimed or locked)."""
    escalated = _escalated(state)
    recorded: list[SlaEscalation] = []
    changed = {"next_check_at"}
    calendar = state.policy.calendar.as_calendar() if state.policy else None
    pauses = state.all_pauses()
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
        escalation = _record_escalation(state, clock, level, due)
        if escalation is not None:
            recorded.append(escalation)
            escalated.add(escalation.as_key())
    state.next_check_at = _next_check(state, calendar, pauses, escalated)
    state.save(update_fields=sorted(changed))
    return recorded


def _record_escalation(state: TicketSla, clock: Clock, level: str, due: datetime) -> SlaEscalation | None:
    try:
        with transaction.atomic():  # savepoint: a duplicate must not poison the outer transaction
            escalation = SlaEscalation.objects.create(
                ticket_id=state.ticket_id, target=clock.target, level=level, cycle=clock.cycle, due_at=due
            )
    except IntegrityError:
        return None  # already escalated by someone else: exactly once
    event = record_event(
        ticket=state.ticket,
        actor=None,
        channel=Channel.SYSTEM,
        kind=Kind.SLA_BREACHED if level == SlaEscalation.Level.BREACH else Kind.SLA_WARNING,
        new={"target": clock.target, "due": due.isoformat(), "cycle": clock.cycle},
        is_public=False,
    )
    escalation.event = event
    escalation.save(update_fields=["event"])
    return escalation
