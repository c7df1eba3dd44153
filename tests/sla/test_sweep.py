"""The escalation sweep: warnings at 75 % and breaches, each recorded once per target."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.sla import services as sla_services
from tessera.sla.models import SlaEscalation, TicketSla
from tessera.sla.tasks import sweep_sla_due
from tessera.tickets import services
from tessera.tickets.models import Status, Ticket, TimelineEvent
from tests import factories as f
from tests.sla.conftest import FrozenClock, rome

pytestmark = pytest.mark.django_db


def _sla_events(ticket: Ticket) -> list[tuple[str, str]]:
    return [
        (e.kind, e.new["target"])
        for e in TimelineEvent.objects.filter(ticket=ticket, kind__in=["sla_warning", "sla_breached"])
    ]


def test_warning_then_breach_each_recorded_once(frozen: FrozenClock) -> None:
    ticket = f.ticket(f.customer(), dept="billing", prio="high")  # Mon 16 Nov 09:00 Rome
    # First response 1 h: warning at 45 min (09:45), due 10:00.
    assert TicketSla.objects.get(ticket=ticket).next_check_at == rome(2026, 11, 16, 9, 45)
    assert sla_services.sweep_due(rome(2026, 11, 16, 9, 44)) == 0

    assert sla_services.sweep_due(rome(2026, 11, 16, 9, 50)) == 1
    assert sla_services.sweep_due(rome(2026, 11, 16, 9, 50)) == 0  # nothing left to claim
    assert _sla_events(ticket) == [("sla_warning", "first_response")]
    assert TicketSla.objects.get(ticket=ticket).next_check_at == rome(2026, 11, 16, 10, 0)

    assert sla_services.sweep_due(rome(2026, 11, 16, 10, 1)) == 1
    state = TicketSla.objects.get(ticket=ticket)
    assert state.first_response_breached is True
    # Next: the resolution warning at 6 of 8 h -> 15:00 Rome.
    assert state.next_check_at == rome(2026, 11, 16, 15, 0)

    # Long after the resolution due: only the breach is recorded, a late warning would be noise.
    assert sla_services.sweep_due(rome(2026, 11, 17, 9, 0)) == 1
    assert sla_services.sweep_due(rome(2026, 11, 17, 9, 0)) == 0
    assert _sla_events(ticket) == [
        ("sla_warning", "first_response"),
        ("sla_breached", "first_response"),
        ("sla_breached", "resolution"),
    ]
    assert TicketSla.objects.get(ticket=ticket).next_check_at is None
    event = TimelineEvent.objects.filter(ticket=ticket, kind="sla_breached").first()
    assert event is not None and event.actor is None and event.is_public is False
    assert SlaEscalation.objects.filter(ticket=ticket).count() == 3


def test_a_row_claimed_by_another_worker_is_skipped(
    frozen: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket = f.ticket(f.customer(), dept="billing", prio="high")
    now = rome(2026, 11, 16, 9, 50)
    stale = sla_services._due_candidates(now, 10)  # what a second worker read before the first ran
    assert sla_services.sweep_due(now) == 1
    monkeypatch.setattr(sla_services, "_due_candidates", lambda now, limit: stale)
    assert sla_services.sweep_due(now) == 0  # its conditional UPDATE matches nothing
    assert _sla_events(ticket) == [("sla_warning", "first_response")]


def test_paused_ticket_is_not_escalated(frozen: FrozenClock) -> None:
    agent = f.agent("billing")
    ticket = f.ticket(f.customer(), dept="billing", prio="high")
    frozen.set(rome(2026, 11, 16, 9, 10))
    services.add_reply(actor=agent, ticket=ticket, body="Which invoice?")
    services.transition_ticket(actor=agent, ticket=ticket, status=Status.WAITING, reason="Which one?")
    assert sla_services.sweep_due(rome(2026, 11, 30, 9, 0)) == 0
    assert _sla_events(ticket) == []


def test_answered_first_response_is_not_escalated(frozen: FrozenClock) -> None:
    agent = f.agent("billing")
    ticket = f.ticket(f.customer(), dept="billing", prio="high")
    frozen.set(rome(2026, 11, 16, 9, 10))
    services.add_reply(actor=agent, ticket=ticket, body="On it.")
    # Only the resolution clock runs now: its warning is at 15:00 Rome.
    assert TicketSla.objects.get(ticket=ticket).next_check_at == rome(2026, 11, 16, 15, 0)
    assert sla_services.sweep_due(rome(2026, 11, 16, 10, 30)) == 0


def test_sweep_task_uses_the_clock(frozen: FrozenClock) -> None:
    ticket = f.ticket(f.customer(), dept="billing", prio="high")
    frozen.set(rome(2026, 11, 16, 10, 5))
    assert sweep_sla_due.call() == 1
    assert _sla_events(ticket) == [("sla_breached", "first_response")]


def test_a_failing_row_keeps_its_lease_and_does_not_stop_the_sweep(
    frozen: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = f.ticket(f.customer(), dept="billing", prio="high")
    healthy = f.ticket(f.customer(), dept="billing", prio="high")
    real = sla_services.escalate_ticket

    def flaky(*, state: TicketSla, now: Any) -> Any:
        if state.ticket_id == broken.pk:
            raise RuntimeError("calendar service down")
        return real(state=state, now=now)

    monkeypatch.setattr(sla_services, "escalate_ticket", flaky)
    now = rome(2026, 11, 16, 9, 50)
    assert sla_services.sweep_due(now) == 2
    assert _sla_events(broken) == []
    assert _sla_events(healthy) == [("sla_warning", "first_response")]
    assert TicketSla.objects.get(ticket=broken).next_check_at == now + sla_services.CLAIM_LEASE


@pytest.mark.django_db(transaction=True)
def test_the_worker_schedule_runs_the_sla_sweep_every_minute() -> None:
    from datetime import timedelta

    from tessera.core import clock
    from tessera.core.schedule import enqueue_due_jobs

    now = clock.now()
    assert "sla.sweep_due" in enqueue_due_jobs(now)
    assert "sla.sweep_due" not in enqueue_due_jobs(now + timedelta(seconds=59))
    assert "sla.sweep_due" in enqueue_due_jobs(now + timedelta(seconds=61))
