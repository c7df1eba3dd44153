"""SLA clocks driven by ticket changes. Every due instant is worked out by hand in a comment:
Rome is UTC+1 in November and December, the office calendar is Mon-Fri 09:00-18:00 with Italian
holidays, and dues are computed from the original start with every pause."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tessera.sla.demo import CHAT_POLICY, STANDARD_POLICY, TECHNICAL_POLICY
from tessera.sla.models import TicketSla
from tessera.tickets import services
from tessera.tickets.models import Channel, Status, Ticket
from tests import factories as f
from tests.sla.conftest import FrozenClock, rome

pytestmark = pytest.mark.django_db


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[arg-type,misc]


def sla(ticket: Ticket) -> TicketSla:
    return TicketSla.objects.select_related("policy").get(ticket=ticket)


def test_friday_evening_high_ticket_is_due_monday_afternoon(frozen: FrozenClock) -> None:
    frozen.set(rome(2026, 11, 20, 17, 30))  # a Friday
    ticket = f.ticket(f.customer(), dept="billing", prio="high")
    state = sla(ticket)
    assert state.policy is not None and state.policy.name == STANDARD_POLICY
    assert state.started_at == rome(2026, 11, 20, 17, 30)
    # 1 h first response: 30 min on Friday, 30 min from Monday 09:00 -> Mon 09:30 Rome = 08:30 UTC.
    assert state.first_response_due == utc(2026, 11, 23, 8, 30)
    # 8 h resolution: 30 min Friday + 7 h 30 from Monday 09:00 -> Mon 16:30 Rome = 15:30 UTC.
    assert state.resolution_due == utc(2026, 11, 23, 15, 30)
    assert state.acknowledge_due is None and state.next_response_due is None
    # Warning at 75 % of the first response (45 min): Mon 09:15 Rome = 08:15 UTC.
    assert state.next_check_at == utc(2026, 11, 23, 8, 15)


def test_technical_policy_counts_resolution_and_acknowledge(frozen: FrozenClock) -> None:
    frozen.set(rome(2026, 11, 18, 10, 0))  # a Wednesday
    ticket = f.ticket(f.customer(), dept="technical", prio="high")
    state = sla(ticket)
    assert state.policy is not None and state.policy.name == TECHNICAL_POLICY
    # 24 business hours: Wed 10-18 (8 h) + Thu (9 h) + Fri 09-16 (7 h) -> Fri 16:00 Rome = 15:00 UTC.
    assert state.resolution_due == utc(2026, 11, 20, 15, 0)
    # Reviewed within one business hour: Wed 11:00 Rome = 10:00 UTC.
    assert state.acknowledge_due == utc(2026, 11, 18, 10, 0)
    assert state.first_response_due is None


def test_holiday_is_skipped(frozen: FrozenClock) -> None:
    frozen.set(rome(2026, 12, 7, 16, 0))  # Monday; Tuesday 8 December is a public holiday
    ticket = f.ticket(
        f.customer(),
        dept="technical",
        prio="critical",
        details={
            "affected_service": "VPS",
            "problem_started_at": rome(2026, 12, 7, 15, 0),
            "server_ip": "203.0.113.5",
        },
    )
    # 4 h: Mon 16-18 (2 h), Tue closed, Wed 09-11 (2 h) -> Wed 9 Dec 11:00 Rome = 10:00 UTC.
    assert sla(ticket).resolution_due == utc(2026, 12, 9, 10, 0)


def test_chat_policy_runs_around_the_clock(frozen: FrozenClock) -> None:
    frozen.set(rome(2026, 11, 21, 23, 55))  # Saturday night
    ticket = f.ticket(f.customer(), dept="technical", prio="low", channel=Channel.CHAT)
    state = sla(ticket)
    assert state.policy is not None and state.policy.name == CHAT_POLICY
    # 10 minutes on the 24/7 calendar: Sun 00:05 Rome = Sat 23:05 UTC.
    assert state.first_response_due == utc(2026, 11, 21, 23, 5)


def test_first_response_stops_at_public_agent_reply_not_at_note(frozen: FrozenClock) -> None:
    customer = f.customer()
    agent = f.agent("billing")
    ticket = f.ticket(customer, dept="billing", prio="high")  # Mon 16 Nov 09:00 Rome
    frozen.set(rome(2026, 11, 16, 9, 5))
    services.add_note(actor=agent, ticket=ticket, body="Looking into it.")
    services.add_reply(actor=customer, ticket=ticket, body="Any news?")
    services.add_reply(actor=agent, ticket=ticket, body="Automatic: we got it.", channel=Channel.SYSTEM)
    state = sla(ticket)
    assert state.first_responded_at is None
    assert state.first_response_due == utc(2026, 11, 16, 9, 0)  # 10:00 Rome
    assert state.acknowledged_at == rome(2026, 11, 16, 9, 5)  # the note shows someone looked
    frozen.set(rome(2026, 11, 16, 9, 20))
    services.add_reply(actor=agent, ticket=ticket, body="Fixed the invoice.")
    state = sla(ticket)
    assert state.first_responded_at == rome(2026, 11, 16, 9, 20)
    assert state.first_response_breached is False
    assert state.first_response_due == utc(2026, 11, 16, 9, 0)  # kept for reports


def test_late_first_response_is_flagged(frozen: FrozenClock) -> None:
    customer = f.customer()
    agent = f.agent("billing")
    ticket = f.ticket(customer, dept="billing", prio="high")
    frozen.set(rome(2026, 11, 16, 10, 1))  # one minute after the 1 h target
    services.add_reply(actor=agent, ticket=ticket, body="Sorry for the wait.")
    assert sla(ticket).first_response_breached is True


def test_waiting_on_customer_pauses_every_clock(frozen: FrozenClock) -> None:
    customer = f.customer()
    agent = f.agent("billing")
    ticket = f.ticket(customer, dept="billing", prio="high")  # Mon 16 Nov 09:00 Rome
    frozen.set(rome(2026, 11, 16, 9, 10))
    services.add_reply(actor=agent, ticket=ticket, body="Which invoice?")
    frozen.set(rome(2026, 11, 16, 10, 0))  # 1 h of the 8 h resolution used
    ticket = services.transition_ticket(actor=agent, ticket=ticket, status=Status.WAITING, reason="Which?")
    state = sla(ticket)
    assert state.paused_since == rome(2026, 11, 16, 10, 0)
    assert state.resolution_due is None and state.next_check_at is None  # stopped: nothing is due

    frozen.set(rome(2026, 11, 17, 12, 0))  # the customer answers on Tuesday
    services.add_reply(actor=customer, ticket=Ticket.objects.get(pk=ticket.pk), body="Number 118.")
    state = sla(ticket)
    assert state.paused_since is None
    assert state.closed_pauses() == [(rome(2026, 11, 16, 10), rome(2026, 11, 17, 12))]
    assert state.pauses == [["2026-11-16T09:00:00+00:00", "2026-11-17T11:00:00+00:00"]]  # UTC
    # 7 h left from Tue 12:00: 6 h on Tuesday + 1 h Wednesday -> Wed 10:00 Rome = 09:00 UTC.
    assert state.resolution_due == utc(2026, 11, 18, 9, 0)
    # The customer's reply awaits an answer within 1 h: Tue 13:00 Rome = 12:00 UTC.
    assert state.next_response_due == utc(2026, 11, 17, 12, 0)
    assert state.next_response_cycle == 1

    frozen.set(rome(2026, 11, 17, 12, 30))
    services.add_reply(actor=agent, ticket=Ticket.objects.get(pk=ticket.pk), body="Corrected.")
    state = sla(ticket)
    assert state.next_response_started_at is None and state.next_response_due is None
    assert state.next_response_breached is False


def test_resolution_stops_at_resolved_and_resumes_on_reopen(frozen: FrozenClock) -> None:
    customer = f.customer()
    agent = f.agent("billing")
    ticket = f.ticket(customer, dept="billing", prio="high")  # Mon 16 Nov 09:00 Rome
    frozen.set(rome(2026, 11, 16, 9, 10))
    services.add_reply(actor=agent, ticket=ticket, body="Done, I think.")
    frozen.set(rome(2026, 11, 16, 11, 0))  # 2 h used
    ticket = services.transition_ticket(actor=agent, ticket=ticket, status=Status.RESOLVED)
    state = sla(ticket)
    assert state.resolved_at == rome(2026, 11, 16, 11, 0)
    assert state.resolution_breached is False
    assert state.resolution_due == utc(2026, 11, 16, 16, 0)  # Mon 17:00 Rome, kept for reports
    assert state.next_check_at is None

    frozen.set(rome(2026, 11, 18, 9, 0))  # Wednesday: the customer says it is not fixed
    services.add_reply(actor=customer, ticket=Ticket.objects.get(pk=ticket.pk), body="Still wrong.")
    state = sla(ticket)
    assert Ticket.objects.get(pk=ticket.pk).status == Status.OPEN
    assert state.resolved_at is None
    # 6 h left from Wed 09:00 -> Wed 15:00 Rome = 14:00 UTC (the resolved span is a pause).
    assert state.resolution_due == utc(2026, 11, 18, 14, 0)
    assert state.next_response_due == utc(2026, 11, 18, 9, 0)  # Wed 10:00 Rome


def test_priority_change_recomputes_from_the_original_start(frozen: FrozenClock) -> None:
    agent = f.agent("billing")
    ticket = f.ticket(f.customer(), dept="billing", prio="medium")  # Mon 16 Nov 09:00 Rome
    # Medium: 72 business hours = 8 days of 9 h -> the 8th business day, Wed 25 Nov 18:00 Rome.
    assert sla(ticket).resolution_due == utc(2026, 11, 25, 17, 0)
    frozen.set(rome(2026, 11, 16, 11, 0))
    services.change_priority(actor=agent, ticket=ticket, priority=f.priority("high"), reason="Urgent")
    state = sla(ticket)
    # High counted from 09:00, not from the change at 11:00: 8 h -> Mon 17:00 Rome = 16:00 UTC.
    assert state.resolution_due == utc(2026, 11, 16, 16, 0)
    assert state.first_response_due == utc(2026, 11, 16, 9, 0)  # 10:00 Rome: already overdue
    assert state.targets["resolution"] == 8 * 60


def test_department_change_picks_the_new_policy(frozen: FrozenClock) -> None:
    frozen.set(rome(2026, 11, 18, 10, 0))
    agent = f.agent("technical")
    f.agent("billing")
    ticket = f.ticket(f.customer(), dept="technical", prio="high")
    frozen.set(rome(2026, 11, 18, 10, 30))
    services.change_department(actor=agent, ticket=ticket, department=f.department("billing"))
    state = sla(ticket)
    assert state.policy is not None and state.policy.name == STANDARD_POLICY
    # Standard High, from the original 10:00: 8 h -> Wed 18:00 Rome = 17:00 UTC.
    assert state.resolution_due == utc(2026, 11, 18, 17, 0)
    assert state.first_response_due == utc(2026, 11, 18, 10, 0)  # 11:00 Rome


def test_closing_stops_every_clock(frozen: FrozenClock) -> None:
    agent = f.agent("billing")
    ticket = f.ticket(f.customer(), dept="billing", prio="high")
    frozen.set(rome(2026, 11, 16, 9, 30))
    services.transition_ticket(actor=agent, ticket=ticket, status=Status.CLOSED)
    state = sla(ticket)
    assert state.stopped_at == rome(2026, 11, 16, 9, 30)
    assert state.next_check_at is None


def test_a_rolled_back_change_leaves_sla_state_untouched(frozen: FrozenClock) -> None:
    from django.db import transaction

    agent = f.agent("billing")
    ticket = f.ticket(f.customer(), dept="billing", prio="high")
    before = sla(ticket).resolution_due
    frozen.set(rome(2026, 11, 16, 10, 0))
    with pytest.raises(RuntimeError), transaction.atomic():
        services.transition_ticket(actor=agent, ticket=ticket, status=Status.WAITING, reason="Which?")
        raise RuntimeError("boom")
    state = sla(ticket)
    assert state.paused_since is None and state.resolution_due == before
