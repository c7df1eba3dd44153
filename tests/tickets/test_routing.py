from __future__ import annotations

import pytest

from tessera.accounts.models import Department, User
from tessera.tickets import services
from tessera.tickets.models import OPEN_STATUSES, AgentLoad, Status, Ticket, TimelineEvent
from tessera.tickets.routing import recount_loads
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


def _give(actor: User, ticket: Ticket, agent: User) -> Ticket:
    if ticket.assignee_id == agent.pk:
        return ticket
    return services.assign_ticket(actor=actor, ticket=ticket, assignee=agent)


def test_routing_picks_agent_with_fewest_open_tickets() -> None:
    busy, free = f.agent(), f.agent()
    lead = f.admin()
    customer = f.customer()
    for _ in range(2):
        _give(lead, f.ticket(customer), busy)
    closed = _give(lead, f.ticket(customer), free)
    services.transition_ticket(actor=lead, ticket=closed, status=Status.CLOSED)  # closed ones do not count
    assert f.ticket(customer).assignee_id == free.pk


def test_routing_round_robins_between_equally_loaded_agents() -> None:
    first, second = f.agent(), f.agent()
    customer = f.customer()
    assignees = []
    for _ in range(4):
        ticket = f.ticket(customer)
        assignees.append(ticket.assignee_id)
        services.transition_ticket(actor=customer, ticket=ticket, status=Status.CLOSED)  # keep the load equal
    assert assignees == [first.pk, second.pk, first.pk, second.pk]


def test_open_ticket_counts_follow_every_change_and_match_a_recount() -> None:
    one, two = f.agent(), f.agent()
    lead = f.admin()
    customer = f.customer()
    tickets = [f.ticket(customer) for _ in range(4)]  # two each
    assert [t.assignee_id for t in tickets] == [one.pk, two.pk, one.pk, two.pk]
    services.assign_ticket(actor=lead, ticket=tickets[0], assignee=two)  # one -> two
    services.assign_ticket(actor=lead, ticket=tickets[1], assignee=None)  # unassigned
    services.transition_ticket(actor=lead, ticket=tickets[2], status=Status.WAITING, reason="Which printer?")
    services.transition_ticket(actor=lead, ticket=tickets[3], status=Status.RESOLVED)  # no longer open
    source = f.ticket(customer)
    services.merge_tickets(actor=lead, source=source, target=tickets[0])  # the source closes

    def loads() -> dict[int, int]:
        return dict(AgentLoad.objects.filter(agent__in=[one, two]).values_list("agent_id", "open_tickets"))

    expected = {
        agent.pk: Ticket.objects.filter(assignee=agent, status__in=OPEN_STATUSES).count()
        for agent in (one, two)
    }
    assert loads() == expected
    AgentLoad.objects.filter(agent=one).update(open_tickets=99)  # drift, e.g. an edit outside the services
    assert recount_loads() == 1
    assert loads() == expected


def test_inactive_agents_and_other_departments_are_never_chosen() -> None:
    inactive = f.agent()
    inactive.is_active = False
    inactive.save()
    f.agent("billing")
    assert f.ticket(f.customer()).assignee_id is None
