"""Queue helpers: due soonest, breached, breaching within the hour (in business time), time left."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.sla import queries
from tessera.sla.models import DepartmentSla, TicketSla
from tessera.tickets import services
from tessera.tickets.models import Channel, Status, Ticket
from tests import factories as f
from tests.sla.conftest import FrozenClock, rome

pytestmark = pytest.mark.django_db


def _ids(qs: Any) -> list[int]:
    return [t.pk for t in qs]


def test_order_by_due_puts_soonest_first_and_clockless_last(frozen: FrozenClock) -> None:
    agent = f.agent("billing")
    medium = f.ticket(f.customer(), dept="billing", prio="medium")  # first response Wed 18 15:00
    frozen.set(rome(2026, 11, 16, 9, 30))
    high = f.ticket(f.customer(), dept="billing", prio="high")  # first response Mon 10:30
    closed = f.ticket(f.customer(), dept="billing", prio="high")
    services.transition_ticket(actor=agent, ticket=closed, status=Status.CLOSED)
    assert TicketSla.objects.get(ticket=high).due_at == rome(2026, 11, 16, 10, 30)
    assert TicketSla.objects.get(ticket=closed).due_at is None
    ordered = _ids(queries.order_by_due(Ticket.objects.filter(pk__in=[medium.pk, high.pk, closed.pk])))
    assert ordered == [high.pk, medium.pk, closed.pk]


def test_due_at_follows_the_earliest_running_clock(frozen: FrozenClock) -> None:
    agent = f.agent("billing")
    ticket = f.ticket(f.customer(), dept="billing", prio="high")  # response 10:00, resolution 17:00
    frozen.set(rome(2026, 11, 16, 9, 20))
    services.add_reply(actor=agent, ticket=ticket, body="On it.")
    assert TicketSla.objects.get(ticket=ticket).due_at == rome(2026, 11, 16, 17, 0)
    services.transition_ticket(actor=agent, ticket=ticket, status=Status.WAITING, reason="Which one?")
    assert TicketSla.objects.get(ticket=ticket).due_at is None  # paused: nothing is due


def test_breached_and_breaching_within_the_hour(frozen: FrozenClock) -> None:
    high = f.ticket(f.customer(), dept="billing", prio="high")  # first response due 10:00
    medium = f.ticket(f.customer(), dept="billing", prio="medium")  # due Wed 18 15:00
    both = Ticket.objects.filter(pk__in=[high.pk, medium.pk])
    assert _ids(queries.breaching_within(both, rome(2026, 11, 16, 9, 30))) == [high.pk]
    assert _ids(queries.breached(both, rome(2026, 11, 16, 9, 30))) == []
    assert _ids(queries.breached(both, rome(2026, 11, 16, 10, 0))) == [high.pk]
    assert _ids(queries.breaching_within(both, rome(2026, 11, 16, 10, 0))) == []  # breached, not breaching


def test_breaching_within_counts_business_time_over_the_weekend(frozen: FrozenClock) -> None:
    frozen.set(rome(2026, 11, 20, 17, 30))  # Friday
    office = f.ticket(f.customer(), dept="billing", prio="high")  # due Monday 09:30 Rome
    frozen.set(rome(2026, 11, 20, 17, 45))
    chat = f.ticket(f.customer(), dept="billing", prio="low", channel=Channel.CHAT)  # 24/7: 17:55
    tickets = Ticket.objects.filter(pk__in=[office.pk, chat.pk])
    # At 17:50 the office ticket has 40 business minutes left (10 today, 30 on Monday) although
    # Monday is almost three days away; the chat ticket has 5 minutes left.
    now = rome(2026, 11, 20, 17, 50)
    assert sorted(_ids(queries.breaching_within(tickets, now))) == sorted([office.pk, chat.pk])
    assert _ids(queries.breaching_within(tickets, now, minutes=20)) == [chat.pk]
    assert _ids(queries.breaching_within(tickets, now, minutes=5)) == [chat.pk]
    assert _ids(queries.breaching_within(tickets, now, minutes=4)) == []


def test_time_left_per_target_in_business_minutes(frozen: FrozenClock) -> None:
    agent = f.agent("billing")
    ticket = f.ticket(f.customer(), dept="billing", prio="high")
    other = f.ticket(f.customer(), dept="billing", prio="high")
    frozen.set(rome(2026, 11, 16, 17, 30))
    services.add_reply(actor=agent, ticket=ticket, body="Looking.")  # 7 h 30 late
    states = queries.time_left([ticket, other.pk, 999_999], rome(2026, 11, 17, 9, 15))
    assert states[999_999] == []
    by_target = {s.target: s for s in states[ticket.pk]}
    assert set(by_target) == {"first_response", "resolution"}
    first = by_target["first_response"]
    assert (first.state, first.met, first.breached, first.minutes_left) == ("missed", True, True, None)
    assert first.met_at == rome(2026, 11, 16, 17, 30)
    resolution = by_target["resolution"]
    # Due Mon 17:00; at Tue 09:15 it is 60 min (Mon 17-18) + 15 min (Tue 09:00-09:15) overdue.
    assert resolution.state == "running" and resolution.minutes_left == -75 and resolution.overdue
    assert resolution.label == "Resolution"
    left = {s.target: s.minutes_left for s in states[other.pk]}
    assert left == {"first_response": -75 - 7 * 60, "resolution": -75}


def test_time_left_shows_paused_and_stopped_targets(frozen: FrozenClock) -> None:
    agent = f.agent("billing")
    waiting = f.ticket(f.customer(), dept="billing", prio="high")
    closed = f.ticket(f.customer(), dept="billing", prio="high")
    frozen.set(rome(2026, 11, 16, 9, 10))
    services.add_reply(actor=agent, ticket=waiting, body="Which invoice?")
    services.transition_ticket(actor=agent, ticket=waiting, status=Status.WAITING, reason="Which?")
    services.transition_ticket(actor=agent, ticket=closed, status=Status.CLOSED)
    states = queries.time_left([waiting, closed], rome(2026, 11, 16, 12, 0))
    assert {s.target: s.state for s in states[waiting.pk]} == {
        "first_response": "met",
        "resolution": "paused",
    }
    assert [s.paused for s in states[waiting.pk]] == [False, True]
    # Closed without being answered or resolved: both clocks stopped, neither met.
    assert {s.target: s.state for s in states[closed.pk]} == {
        "first_response": "stopped",
        "resolution": "stopped",
    }


def test_expected_response_is_the_first_response_target_else_the_acknowledge_one(frozen: FrozenClock) -> None:
    billing = f.ticket(f.customer(), dept="billing", prio="high")
    technical = f.ticket(f.customer(), dept="technical", prio="high")  # reviewed within one business hour
    expected = queries.expected_response([billing, technical], rome(2026, 11, 16, 9, 0))
    first = expected[billing.pk]
    assert first is not None and first.due == rome(2026, 11, 16, 10, 0) and first.minutes_left == 60
    acknowledge = expected[technical.pk]
    assert acknowledge is not None and acknowledge.target == "acknowledge"
    assert acknowledge.due == rome(2026, 11, 16, 10, 0)


def test_uses_matrix_is_a_department_option() -> None:
    billing = f.department("billing")
    assert queries.uses_matrix(billing) is False  # customers pick the priority by default
    DepartmentSla.objects.create(department=billing, priority_input=DepartmentSla.PriorityInput.MATRIX)
    assert queries.uses_matrix(billing) is True
    assert queries.uses_matrix(billing.pk) is True
    assert queries.uses_matrix(f.department("abuse")) is False
