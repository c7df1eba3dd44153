from __future__ import annotations

from datetime import timedelta

import pytest

from tessera.core.errors import IllegalTransition, PermissionDenied, ValidationFailed
from tessera.tickets import services
from tessera.tickets.models import Status, Ticket, TimelineEvent
from tests import factories as f

pytestmark = pytest.mark.django_db

AGENT_TRANSITIONS = [
    (Status.NEW, Status.OPEN),
    (Status.NEW, Status.WAITING),
    (Status.NEW, Status.RESOLVED),
    (Status.NEW, Status.CLOSED),
    (Status.OPEN, Status.WAITING),
    (Status.OPEN, Status.RESOLVED),
    (Status.OPEN, Status.CLOSED),
    (Status.WAITING, Status.OPEN),
    (Status.WAITING, Status.RESOLVED),
    (Status.WAITING, Status.CLOSED),
    (Status.RESOLVED, Status.OPEN),
    (Status.RESOLVED, Status.CLOSED),
]
ALL = [s.value for s in Status]


def _ticket_in(status: str) -> tuple[Ticket, object]:
    customer = f.customer()
    agent = f.agent()
    ticket = f.ticket(customer)
    Ticket.objects.filter(pk=ticket.pk).update(status=status, resolved_at=ticket.created_at)
    ticket.refresh_from_db()
    return ticket, agent


@pytest.mark.parametrize(("current", "target"), AGENT_TRANSITIONS)
def test_agent_can_make_every_legal_transition(current: str, target: str) -> None:
    ticket, agent = _ticket_in(current)
    reason = "Which server?" if target == Status.WAITING else ""
    ticket = services.transition_ticket(actor=agent, ticket=ticket, status=target, reason=reason)
    ticket.refresh_from_db()
    assert ticket.status == target
    event = TimelineEvent.objects.filter(ticket=ticket, kind="status_changed").get()
    assert (event.old, event.new, event.actor_id) == (current, target, agent.pk)


@pytest.mark.parametrize(
    ("current", "target"), [(c, t) for c in ALL for t in ALL if (c, t) not in AGENT_TRANSITIONS]
)
def test_illegal_transitions_are_refused_and_change_nothing(current: str, target: str) -> None:
    ticket, agent = _ticket_in(current)
    version = ticket.version
    with pytest.raises(IllegalTransition):
        services.transition_ticket(actor=agent, ticket=ticket, status=target, reason="why")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.version) == (current, version)
    assert not TimelineEvent.objects.filter(ticket=ticket, kind="status_changed").exists()


def test_returning_for_more_information_needs_the_question() -> None:
    ticket, agent = _ticket_in(Status.OPEN)
    with pytest.raises(ValidationFailed) as error:
        services.transition_ticket(actor=agent, ticket=ticket, status=Status.WAITING)
    assert error.value.field == "reason"


def test_customer_reply_to_waiting_ticket_reopens_it() -> None:
    customer = f.customer()
    agent = f.agent()
    ticket = f.ticket(customer)
    ticket = services.transition_ticket(
        actor=agent, ticket=ticket, status=Status.WAITING, reason="Send the error message"
    )
    services.add_reply(actor=customer, ticket=ticket, body="Error 42")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    kinds = list(TimelineEvent.objects.filter(ticket=ticket).values_list("kind", "new"))
    assert kinds[-2:] == [("replied", None), ("status_changed", "open")]


def test_agent_first_reply_accepts_a_new_ticket() -> None:
    customer = f.customer()
    agent = f.agent()
    ticket = f.ticket(customer)
    services.add_reply(actor=agent, ticket=ticket, body="Looking into it")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_customer_reply_within_window_reopens_resolved_ticket() -> None:
    customer = f.customer()
    agent = f.agent()
    ticket = f.ticket(customer)
    ticket = services.transition_ticket(actor=agent, ticket=ticket, status=Status.RESOLVED)
    services.add_reply(actor=customer, ticket=ticket, body="Still broken")
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.resolved_at is None


def test_customer_reply_after_window_is_refused() -> None:
    customer = f.customer()
    agent = f.agent()
    ticket = f.ticket(customer)
    ticket = services.transition_ticket(actor=agent, ticket=ticket, status=Status.RESOLVED)
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=ticket.resolved_at - timedelta(days=15))
    ticket.refresh_from_db()
    with pytest.raises(IllegalTransition, match="more than 14 days"):
        services.add_reply(actor=customer, ticket=ticket, body="Still broken")
    assert ticket.messages.count() == 0


def test_customer_can_close_but_not_resolve_their_ticket() -> None:
    customer = f.customer()
    ticket = f.ticket(customer)
    with pytest.raises(IllegalTransition):
        services.transition_ticket(actor=customer, ticket=ticket, status=Status.RESOLVED)
    services.transition_ticket(actor=customer, ticket=ticket, status=Status.CLOSED)
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED and ticket.closed_at is not None


def test_nobody_replies_to_a_closed_ticket() -> None:
    customer = f.customer()
    ticket = f.ticket(customer)
    services.transition_ticket(actor=customer, ticket=ticket, status=Status.CLOSED)
    ticket.refresh_from_db()
    with pytest.raises(IllegalTransition):
        services.add_reply(actor=customer, ticket=ticket, body="hello?")


def test_customer_cannot_add_internal_notes() -> None:
    customer = f.customer()
    ticket = f.ticket(customer)
    with pytest.raises(PermissionDenied):
        services.add_note(actor=customer, ticket=ticket, body="secret")
    assert ticket.messages.count() == 0


def test_priority_change_needs_a_reason_and_records_it() -> None:
    customer = f.customer()
    agent = f.agent()
    ticket = f.ticket(customer)
    with pytest.raises(ValidationFailed):
        services.change_priority(actor=agent, ticket=ticket, priority=f.priority("high"), reason="  ")
    services.change_priority(
        actor=agent, ticket=ticket, priority=f.priority("high"), reason="Production down"
    )
    event = TimelineEvent.objects.get(ticket=ticket, kind="priority_changed")
    assert (event.old, event.new, event.reason, event.is_public) == (
        "medium",
        "high",
        "Production down",
        True,
    )


def test_timeline_events_cannot_be_edited_even_with_raw_sql() -> None:
    from django.db import DatabaseError, connection, transaction

    ticket = f.ticket(f.customer())
    event = TimelineEvent.objects.get(ticket=ticket)
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE tickets_timelineevent SET kind = 'merged' WHERE id = %s", [event.pk])
    assert TimelineEvent.objects.get(pk=event.pk).kind == "created"
