"""Read-only SLA helpers for queues, the ticket view and the customer's ticket page.

Filters and ordering go through the indexed `TicketSla.due_at` (the earliest due of the clocks
still running), so a queue sorted by "due soonest" or filtered to "breached" computes nothing at
read time. Only `time_left` does business-time arithmetic, and only for the tickets on one page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, Q, QuerySet

from tessera.accounts.models import Department
from tessera.sla.calendar import add_business_minutes, business_minutes_between
from tessera.sla.models import TARGETS, BusinessCalendar, DepartmentSla, Target, TicketSla
from tessera.tickets.models import Ticket

__all__ = [
    "TargetState",
    "breached",
    "breaching_within",
    "expected_for",
    "expected_of",
    "expected_response",
    "order_by_due",
    "state_of",
    "time_left",
    "uses_matrix",
]


@dataclass(frozen=True)
class TargetState:
    """One SLA target of a ticket as of an instant, ready to display.

    `state` is running, paused, met, missed (met, but late) or stopped (closed or merged before it
    was met). `minutes_left` is in business minutes, negative when overdue, None unless running.
    """

    target: str
    label: str
    minutes: int
    state: str
    due: datetime | None
    met_at: datetime | None
    breached: bool
    minutes_left: float | None

    @property
    def overdue(self) -> bool:
        return self.minutes_left is not None and self.minutes_left < 0

    @property
    def paused(self) -> bool:
        return self.state == "paused"

    @property
    def met(self) -> bool:
        return self.state in ("met", "missed")


def breached(qs: QuerySet[Ticket], now: datetime) -> QuerySet[Ticket]:
    """Tickets with a running target whose due instant has passed."""
    return qs.filter(sla__due_at__lte=now)


def breaching_within(qs: QuerySet[Ticket], now: datetime, minutes: int = 60) -> QuerySet[Ticket]:
    """Tickets not yet overdue whose earliest running target falls due within `minutes` business
    minutes, counted on each policy's own calendar (one bound per calendar; the index still serves)."""
    condition = Q()
    for stored in BusinessCalendar.objects.all():  # a handful; a ticket may count on any of them
        limit = add_business_minutes(stored.as_calendar(), now, minutes)
        if limit is not None:
            condition |= Q(sla__calendar_id=stored.pk, sla__due_at__lte=limit)
    if not condition:
        return qs.none()
    return qs.filter(sla__due_at__gt=now).filter(condition)


def order_by_due(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Due soonest first; tickets with no running clock last; ties broken by id for keyset paging."""
    return qs.order_by(F("sla__due_at").asc(nulls_last=True), "id")


def uses_matrix(department: Department | int) -> bool:
    """Whether customers of this department answer impact x urgency questions instead of picking
    the priority themselves (the default)."""
    department_id = department if isinstance(department, int) else department.pk
    return DepartmentSla.objects.filter(
        department_id=department_id, priority_input=DepartmentSla.PriorityInput.MATRIX
    ).exists()


def state_of(state: TicketSla, now: datetime) -> list[TargetState]:
    """The targets of one ticket's SLA as of `now`; the state must come with its `calendar`."""
    from tessera.sla.services import running_clocks

    calendar = state.calendar.as_calendar() if state.calendar else None
    pauses = state.all_pauses()
    running = {clock.target for clock in running_clocks(state)}
    met_at: dict[str, datetime | None] = {
        Target.FIRST_RESPONSE: state.first_responded_at,
        Target.NEXT_RESPONSE: None,
        Target.RESOLUTION: state.resolved_at,
        Target.ACKNOWLEDGE: state.acknowledged_at,
    }
    labels = dict(Target.choices)
    result = []
    for target in TARGETS:
        minutes = state.targets.get(target)
        if minutes is None or (target == Target.NEXT_RESPONSE and target not in running):
            continue  # no such target, or no customer reply awaiting an answer
        due: datetime | None = getattr(state, f"{target}_due")
        was_breached: bool = getattr(state, f"{target}_breached")
        left = None
        if target in running:
            if due is None:
                status = "paused"
            else:
                status = "running"
                if calendar is not None:
                    left = business_minutes_between(calendar, now, due, pauses)
        elif state.stopped_at is not None and met_at[target] is None:
            status = "stopped"
        else:
            status = "missed" if was_breached else "met"
        result.append(
            TargetState(
                target=target,
                label=str(labels[target]),
                minutes=int(minutes),
                state=status,
                due=due,
                met_at=met_at[target],
                breached=was_breached,
                minutes_left=left,
            )
        )
    return result


def time_left(tickets: Iterable[Ticket | int], now: datetime) -> dict[int, list[TargetState]]:
    """Per ticket id, its targets with the business time left (or overdue) as of `now`; one query
    for the whole page. Tickets without SLA state get an empty list."""
    ids = [t if isinstance(t, int) else t.pk for t in tickets]
    result: dict[int, list[TargetState]] = {pk: [] for pk in ids}
    states = TicketSla.objects.select_related("calendar").filter(ticket_id__in=ids)
    for state in states:
        result[state.ticket_id] = state_of(state, now)
    return result


# The targets that promise the customer an answer, in the order a customer is told about them: a reply,
# else a first look at the request ("reviewed within one business hour").
RESPONSE_TARGETS = (Target.FIRST_RESPONSE, Target.ACKNOWLEDGE)


def expected_response(tickets: Iterable[Ticket | int], now: datetime) -> dict[int, TargetState | None]:
    """What a customer is shown, per ticket id: the first-response target, or else the acknowledge
    target; None when the ticket has neither."""
    return {pk: expected_of(targets) for pk, targets in time_left(tickets, now).items()}


def expected_for(ticket: Ticket, now: datetime) -> TargetState | None:
    """`expected_response` for one ticket; reads nothing when the ticket already holds its SLA row
    (a ticket just created carries the row its SLA listener wrote)."""
    if not Ticket.sla.is_cached(ticket):
        return expected_response([ticket], now)[ticket.pk]
    try:
        state = ticket.sla
    except TicketSla.DoesNotExist:
        return None
    return expected_of(state_of(state, now))


def expected_of(targets: list[TargetState]) -> TargetState | None:
    """Of one ticket's targets (`state_of`), the one that tells the customer when to expect an answer."""
    by_target = {t.target: t for t in targets}
    return next((by_target[t] for t in RESPONSE_TARGETS if t in by_target), None)
