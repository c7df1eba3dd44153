"""The batched recomputation after a calendar or policy change (`services.recompute_dues`, which works
over column tuples for speed) must give exactly what the per-ticket computation (`_recompute`, used
on every ticket event) gives: same due instants, `due_at` and `next_check_at`, for every mix of
paused, met, awaited and escalated clocks."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tessera.sla import services
from tessera.sla.demo import OFFICE_CALENDAR, office_definition
from tessera.sla.models import TARGETS, BusinessCalendar, SlaEscalation, SlaPolicy, TicketSla
from tests import factories as f
from tests.sla.conftest import FrozenClock, rome

pytestmark = pytest.mark.django_db

FIELDS = services._DUE_FIELDS


def _lunch_definition() -> dict[str, Any]:
    lunch = office_definition()
    lunch["weekly"] = {day: [["09:00", "13:00"], ["14:00", "18:00"]] for day in lunch["weekly"]}
    return lunch


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat()


def _scramble(state: TicketSla, rng: random.Random) -> None:
    """Give a row a random but well-formed clock state: pauses (closed and running), met targets with
    a due kept for reports, an awaited customer reply, a target present without minutes, and
    stale dues that the recomputation must replace."""
    start = state.started_at
    at = start + timedelta(minutes=rng.randrange(10, 6000))
    if rng.random() < 0.5:
        pauses = []
        t = start
        for _ in range(rng.randrange(1, 4)):
            t += timedelta(minutes=rng.randrange(0, 900))
            end = t + timedelta(minutes=rng.randrange(0, 900))
            pauses.append([_iso(t), _iso(end)])
            t = end
        rng.shuffle(pauses)  # stored out of order or overlapping must not matter
        state.pauses = pauses
    if rng.random() < 0.25:
        state.paused_since = start + timedelta(minutes=rng.randrange(0, 3000))
    stale = start + timedelta(days=rng.randrange(1, 30))
    if rng.random() < 0.3:
        state.first_responded_at = at
        state.first_response_due = stale  # met: kept as it is
    if rng.random() < 0.4:
        state.next_response_started_at = at + timedelta(minutes=rng.randrange(0, 600))
        state.next_response_cycle = rng.randrange(0, 3)
    if rng.random() < 0.2:
        state.resolved_at = at
        state.resolution_due = stale
    if rng.random() < 0.3:
        state.acknowledged_at = at
        state.acknowledge_due = stale
    if rng.random() < 0.2:
        targets = dict(state.targets)
        targets[rng.choice(TARGETS)] = None  # present but without minutes
        state.targets = targets
    if rng.random() < 0.3:
        state.next_response_due = stale  # stale: not awaited, so cleared
    state.due_at = stale
    state.next_check_at = stale if rng.random() < 0.5 else None
    state.save()
    for target in TARGETS:
        for level in SlaEscalation.Level.values:
            if rng.random() < 0.15:
                SlaEscalation.objects.create(
                    ticket_id=state.ticket_id,
                    target=target,
                    level=level,
                    cycle=state.next_response_cycle if target == "next_response" else 0,
                    due_at=stale,
                )


def _row(state: TicketSla) -> tuple[datetime | None, ...]:
    return tuple(getattr(state, name) for name in FIELDS)


def _expected() -> dict[int, tuple[datetime | None, ...]]:
    """What the per-ticket computation gives for every running row (read fresh, not saved)."""
    expected = {}
    for state in TicketSla.objects.select_related("calendar").filter(
        stopped_at__isnull=True, policy__isnull=False
    ):
        services._recompute(state, state.started_at)
        expected[state.pk] = _row(state)
    return expected


@pytest.fixture
def tickets(frozen: FrozenClock) -> list[int]:
    rng = random.Random(4)  # noqa: S311 - reproducible test data, not security
    customer = f.customer()
    ids = []
    for n in range(40):
        # Starts spread over a month, at any hour (open, closed, weekend, the 8 Dec holiday).
        frozen.set(rome(2026, 11, 20) + timedelta(minutes=rng.randrange(0, 30 * 24 * 60)))
        ticket = f.ticket(
            customer,
            dept=rng.choice(["billing", "technical"]),
            prio=rng.choice(["low", "medium", "high"]) if n % 7 else "high",
        )
        _scramble(TicketSla.objects.get(ticket=ticket), rng)
        ids.append(ticket.pk)
    return ids


@pytest.mark.parametrize("batch", [3, 5000])
def test_calendar_change_gives_the_per_ticket_result(
    tickets: list[int], monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    monkeypatch.setattr(services, "RECOMPUTE_BATCH", batch)
    stopped = TicketSla.objects.get(ticket_id=tickets[0])
    stopped.stopped_at = stopped.started_at + timedelta(hours=1)
    stopped.save()
    office = BusinessCalendar.objects.get(name=OFFICE_CALENDAR)
    office.definition = services.parse_calendar(_lunch_definition()).to_dict()
    office.save()
    expected = _expected()
    assert len(expected) == 39 and len(set(expected.values())) > 30

    assert services.recompute_dues(calendar_id=office.pk) == 39

    for state in TicketSla.objects.filter(pk__in=expected):
        assert _row(state) == expected[state.pk], state.pk
    assert _row(TicketSla.objects.get(pk=stopped.pk)) == _row(stopped)  # stopped: untouched
    # Idempotent: a second run rewrites nothing and changes nothing.
    assert services.recompute_dues(calendar_id=office.pk) == 39
    for state in TicketSla.objects.filter(pk__in=expected):
        assert _row(state) == expected[state.pk], state.pk


def test_policy_recompute_only_touches_that_policy(tickets: list[int]) -> None:
    office = BusinessCalendar.objects.get(name=OFFICE_CALENDAR)
    always = BusinessCalendar.objects.get(name="24/7")
    before = {state.pk: _row(state) for state in TicketSla.objects.all()}
    policy = SlaPolicy.objects.get(pk=TicketSla.objects.get(ticket_id=tickets[0]).policy_id)
    policy.calendar = always
    policy.save()
    # Its running tickets move to the new calendar (what saving a policy does), then get recomputed.
    assert services.follow_policy_calendars(policy) > 0
    expected = _expected()
    on_policy = set(TicketSla.objects.filter(policy=policy).values_list("pk", flat=True))
    assert 0 < len(on_policy) < len(before)

    assert services.recompute_dues(policy_id=policy.pk) == len(on_policy)

    for state in TicketSla.objects.all():
        assert _row(state) == (expected[state.pk] if state.pk in on_policy else before[state.pk])
    assert services.recompute_dues(calendar_id=office.pk) == len(before) - len(on_policy)


def test_nothing_to_recompute() -> None:
    office = BusinessCalendar.objects.get(name=OFFICE_CALENDAR)
    assert services.recompute_dues(calendar_id=office.pk) == 0
