from __future__ import annotations

import pytest

from tessera.accounts.models import Department
from tessera.tickets.models import Status, Ticket, TimelineEvent
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_new_ticket_lands_in_department_queue_unassigned_when_department_does_not_route() -> None:
    Department.objects.filter(slug="billing").update(auto_assign=False)
    f.agent("billing")
    ticket = f.ticket(f.customer(), dept="billing")
    assert ticket.department.slug == "billing" and ticket.assignee_id is None


def test_routing_prefers_agent_who_speaks_the_customers_language() -> None:
    english = f.agent(languages=["en"])
    italian = f.agent(languages=["it", "en"])
    ticket = f.ticket(f.customer(language="it"))
    assert ticket.assignee_id == italian.pk
    assert ticket.assignee_id != english.pk
    event = TimelineEvent.objects.get(ticket=ticket, kind="assigned")
    assert (event.actor_id, event.channel, event.new) == (None, "system", italian.pk)


def test_routing_falls_back_to_any_member_when_nobody_speaks_the_language() -> None:
    only = f.agent(languages=["en"])
    assert f.ticket(f.customer(language="pl")).assignee_id == only.pk


def test_routing_picks_agent_with_fewest_open_tickets() -> None:
    busy, free = f.agent(), f.agent()
    customer = f.customer()
    for _ in range(2):
        t = f.ticket(customer)
        Ticket.objects.filter(pk=t.pk).update(assignee=busy)
    closed = f.ticket(customer)
    Ticket.objects.filter(pk=closed.pk).update(
        assignee=free, status=Status.CLOSED
    )  # closed ones do not count
    assert f.ticket(customer).assignee_id == free.pk


def test_routing_round_robins_between_equally_loaded_agents() -> None:
    first, second = f.agent(), f.agent()
    customer = f.customer()
    assignees = []
    for _ in range(4):
        ticket = f.ticket(customer)
        assignees.append(ticket.assignee_id)
        Ticket.objects.filter(pk=ticket.pk).update(status=Status.CLOSED)  # keep the load equal
    assert assignees == [first.pk, second.pk, first.pk, second.pk]


def test_inactive_agents_and_other_departments_are_never_chosen() -> None:
    inactive = f.agent()
    inactive.is_active = False
    inactive.save()
    f.agent("billing")
    assert f.ticket(f.customer()).assignee_id is None
