"""Escalation rules run by the real scheduled sweep: raise the priority, unassign, move to another
department, notify the leads; each a timeline event, each exactly once per target."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tessera.accounts.models import Membership, User
from tessera.core.errors import NotFound, ValidationFailed
from tessera.core.schedule import enqueue_due_jobs
from tessera.core.worker import run_pending_tasks
from tessera.notifications.models import Notification
from tessera.sla.demo import STANDARD_POLICY
from tessera.sla.models import EscalationRule, SlaPolicy, TicketSla
from tessera.tickets import services
from tessera.tickets.models import AgentLoad, Ticket, TimelineEvent
from tessera.tickets.routing import recount_loads
from tests import factories as f
from tests.sla.conftest import FrozenClock, rome

# The worker runs the tasks through the database queue, in their own transactions.
pytestmark = pytest.mark.django_db(transaction=True)


def _run_scheduled(frozen: FrozenClock, at: object) -> None:
    """What a worker does at `at`: enqueue the due periodic jobs, then run the queued tasks."""
    frozen.set(at)  # type: ignore[arg-type]
    enqueue_due_jobs(frozen())
    run_pending_tasks()


def _rule(**fields: object) -> EscalationRule:
    return EscalationRule.objects.create(policy=SlaPolicy.objects.get(name=STANDARD_POLICY), **fields)


def _events(ticket: Ticket, after: int = 0) -> list[tuple[str, object, object, int | None]]:
    return [
        (
            e.kind,
            e.old,
            e.new if e.kind not in ("sla_warning", "sla_breached") else e.new["target"],
            e.actor_id,
        )
        for e in TimelineEvent.objects.filter(ticket=ticket, pk__gt=after).order_by("id")
    ]


def _assign(ticket: Ticket, agent: User) -> int:
    """Assign (unless routing already did) and return the last event id so far."""
    if ticket.assignee_id != agent.pk:
        services.assign_ticket(actor=agent, ticket=ticket, assignee=agent)
    return TimelineEvent.objects.filter(ticket=ticket).latest("id").pk


def test_breach_raises_the_priority_and_unassigns_once(frozen: FrozenClock) -> None:
    _rule(level="breach", target="first_response", raise_priority=True, unassign=True)
    agent = f.agent("billing")
    ticket = f.ticket(f.customer(), dept="billing", prio="medium")  # first response due Wed 18 15:00
    before = _assign(ticket, agent)

    _run_scheduled(frozen, rome(2026, 11, 18, 15, 1))
    ticket.refresh_from_db()
    assert ticket.priority.slug == "high" and ticket.assignee_id is None
    # Past the due the breach alone is recorded (a late warning would be noise).
    assert _events(ticket, before) == [
        ("sla_breached", None, "first_response", None),
        ("priority_changed", "medium", "high", None),
        ("assigned", agent.pk, None, None),
    ]
    breach = TimelineEvent.objects.get(ticket=ticket, kind="sla_breached")
    assert breach.new["actions"] == ["raise_priority", "unassign"]
    change = TimelineEvent.objects.get(ticket=ticket, kind="priority_changed")
    assert change.reason == "SLA target breached: First response" and change.channel == "system"
    # The raised priority recomputed the clocks from the original start: High resolution is 8 h
    # from Mon 16 Nov 09:00 (17:00 Rome), long past, so the next sweep breaches it too; the rule
    # is for first response only, so nothing else changes, and no sweep repeats anything.
    state = TicketSla.objects.get(ticket=ticket)
    assert state.targets["resolution"] == 8 * 60
    assert state.resolution_due == rome(2026, 11, 16, 17, 0)
    _run_scheduled(frozen, rome(2026, 11, 18, 15, 2))
    _run_scheduled(frozen, rome(2026, 11, 30, 9, 0))
    assert _events(ticket, before)[3:] == [("sla_breached", None, "resolution", None)]
    assert Ticket.objects.get(pk=ticket.pk).priority.slug == "high"
    assert TicketSla.objects.get(ticket=ticket).next_check_at is None


def test_the_highest_priority_cannot_be_raised(frozen: FrozenClock) -> None:
    _rule(level="breach", raise_priority=True)
    ticket = f.ticket(f.customer(), dept="billing", prio="critical")
    _run_scheduled(frozen, rome(2026, 11, 16, 10, 1))
    assert Ticket.objects.get(pk=ticket.pk).priority.slug == "critical"
    assert [e.kind for e in TimelineEvent.objects.filter(ticket=ticket)] == ["created", "sla_breached"]


def test_a_rule_for_another_target_or_level_does_nothing(frozen: FrozenClock) -> None:
    _rule(level="warning", target="resolution", raise_priority=True)
    ticket = f.ticket(f.customer(), dept="billing", prio="high")  # first response due 10:00
    _run_scheduled(frozen, rome(2026, 11, 16, 9, 50))  # first-response warning only
    assert [e.kind for e in TimelineEvent.objects.filter(ticket=ticket)] == ["created", "sla_warning"]
    assert Ticket.objects.get(pk=ticket.pk).priority.slug == "high"
    _run_scheduled(frozen, rome(2026, 11, 16, 15, 1))  # 6 of 8 h: the resolution warning raises it
    assert Ticket.objects.get(pk=ticket.pk).priority.slug == "critical"


def test_breach_moves_the_ticket_to_another_department(frozen: FrozenClock) -> None:
    _rule(level="breach", move_to=f.department("technical"))
    billing_agent = f.agent("billing")
    f.agent("technical")
    ticket = f.ticket(f.customer(), dept="billing", prio="high")
    _assign(ticket, billing_agent)
    _run_scheduled(frozen, rome(2026, 11, 16, 10, 1))
    ticket.refresh_from_db()
    assert ticket.department.slug == "technical"
    assert ticket.assignee_id is None  # the billing agent does not work in technical
    kinds = [(e.kind, e.old, e.new) for e in TimelineEvent.objects.filter(ticket=ticket, actor=None)]
    assert ("department_changed", "billing", "technical") in kinds
    assert ("assigned", billing_agent.pk, None) in kinds
    state = TicketSla.objects.select_related("policy").get(ticket=ticket)
    assert state.policy is not None and state.policy.name == "Technical support"


def test_breach_notifies_the_assignee_and_the_leads_in_their_language(frozen: FrozenClock) -> None:
    _rule(level="breach", notify_lead=True)
    agent = f.agent("billing")
    lead = f.agent("billing", lead=True)
    lead.language = "it"
    lead.save(update_fields=["language"])
    ticket = f.ticket(f.customer(), dept="billing", prio="high")
    _assign(ticket, agent)
    _run_scheduled(frozen, rome(2026, 11, 16, 10, 1))
    _run_scheduled(frozen, rome(2026, 11, 16, 10, 2))
    breaches = Notification.objects.filter(ticket=ticket, kind="sla_breached")
    assert sorted(n.user_id for n in breaches) == sorted([agent.pk, lead.pk])
    assert TimelineEvent.objects.get(ticket=ticket, kind="sla_breached").new["actions"] == ["notify_lead"]


def test_resolved_ticket_is_left_alone(frozen: FrozenClock) -> None:
    _rule(level="breach", raise_priority=True)
    agent = f.agent("billing")
    ticket = f.ticket(f.customer(), dept="billing", prio="high")
    frozen.set(rome(2026, 11, 16, 9, 5))
    services.add_reply(actor=agent, ticket=ticket, body="Fixed.")
    services.transition_ticket(actor=agent, ticket=ticket, status="resolved")
    _run_scheduled(frozen, rome(2026, 11, 20, 9, 0))
    assert not TimelineEvent.objects.filter(ticket=ticket, kind__startswith="sla_").exists()
    assert Ticket.objects.get(pk=ticket.pk).priority.slug == "high"


def _load(agent: User) -> int:
    load = AgentLoad.objects.filter(agent=agent).first()
    return load.open_tickets if load else 0


def test_escalation_goes_through_the_ticket_commands_and_keeps_agent_loads(frozen: FrozenClock) -> None:
    """Raising the priority and unassigning are the standard commands run by the system: the same
    events a person's change writes (with no actor), the customer's notification, the agent's
    open-ticket count kept in step (nothing for the hourly recount to repair), the version bumped."""
    _rule(level="breach", target="first_response", raise_priority=True, unassign=True)
    agent = f.agent("billing")
    customer = f.customer()
    ticket = f.ticket(customer, dept="billing", prio="medium")
    other = f.ticket(f.customer(), dept="billing", prio="low")  # stays with the agent
    for held in (ticket, other):
        _assign(held, agent)
    assert _load(agent) == 2
    version = Ticket.objects.get(pk=ticket.pk).version

    _run_scheduled(frozen, rome(2026, 11, 18, 15, 1))  # medium first response due Wed 15:00
    ticket.refresh_from_db()
    assert (ticket.priority.slug, ticket.assignee_id) == ("high", None)
    assert ticket.version == version + 2  # one bump per command
    assert _load(agent) == 1
    assert recount_loads() == 0  # the counts were already right
    priority = TimelineEvent.objects.get(ticket=ticket, kind="priority_changed")
    assert (priority.actor_id, priority.channel, priority.is_public) == (None, "system", True)
    assert priority.reason == "SLA target breached: First response"
    unassigned = TimelineEvent.objects.filter(ticket=ticket, kind="assigned").latest("id")
    assert (unassigned.actor_id, unassigned.old, unassigned.is_public) == (None, agent.pk, False)
    told = Notification.objects.get(user=customer, kind="ticket_priority")
    assert "is now High" in told.title and told.body == "SLA target breached: First response"


def test_moving_to_a_queue_unassigns_only_agents_who_do_not_work_there(frozen: FrozenClock) -> None:
    _rule(level="breach", target="first_response", move_to=f.department("technical"))
    billing_only = f.agent("billing")
    both = f.agent("billing")
    Membership.objects.create(department=f.department("technical"), agent=both)
    moved_away = f.ticket(f.customer(), dept="billing", prio="high")
    kept = f.ticket(f.customer(), dept="billing", prio="high")
    _assign(moved_away, billing_only)
    _assign(kept, both)

    _run_scheduled(frozen, rome(2026, 11, 16, 10, 1))  # high first response due Mon 10:00
    moved_away.refresh_from_db()
    kept.refresh_from_db()
    assert (moved_away.department.slug, moved_away.assignee_id) == ("technical", None)
    assert (kept.department.slug, kept.assignee_id) == ("technical", both.pk)
    assert (_load(billing_only), _load(both)) == (0, 1)
    assert recount_loads() == 0
    assert _events(moved_away)[-2:] == [
        ("assigned", billing_only.pk, None, None),
        ("department_changed", "billing", "technical", None),
    ]
    # The new department's policy applies, recomputed from the original start.
    state = TicketSla.objects.select_related("policy").get(ticket=moved_away)
    assert state.policy is not None and state.policy.name == "Technical support"
    # Exactly once: later sweeps move nothing again.
    _run_scheduled(frozen, rome(2026, 11, 16, 10, 5))
    assert TimelineEvent.objects.filter(ticket=moved_away, kind="department_changed").count() == 1
    breaches = TimelineEvent.objects.filter(ticket=moved_away, kind="sla_breached")
    assert [e.new["target"] for e in breaches].count("first_response") == 1


def test_system_changes_show_as_tessera_to_agents_and_plainly_to_customers(frozen: FrozenClock) -> None:
    _rule(level="breach", target="first_response", raise_priority=True)
    agent = f.agent("billing")
    customer = f.customer()
    ticket = f.ticket(customer, dept="billing", prio="high")
    _run_scheduled(frozen, rome(2026, 11, 16, 10, 1))

    staff = Client()
    staff.force_login(agent, backend="django.contrib.auth.backends.ModelBackend")
    page = staff.get(reverse("workspace:ticket", args=[ticket.pk])).content.decode()
    assert re.search(r"<strong>Tessera</strong>\s*changed the priority from High to Critical", page)
    requester = Client()
    requester.force_login(customer, backend="django.contrib.auth.backends.ModelBackend")
    portal = requester.get(reverse("portal_ticket", args=[ticket.reference])).content.decode()
    assert "Priority changed to Critical" in portal
    assert "SLA target breached: First response" in portal


def test_the_system_skips_permission_checks_but_not_the_assignee_rule() -> None:
    ticket = f.ticket(f.customer(), dept="billing", prio="low")
    outsider = f.agent("technical")
    with pytest.raises(NotFound):  # an agent of another department does not even see it
        services.change_priority(actor=outsider, ticket=ticket, priority=f.priority("high"), reason="x")
    ticket = services.change_priority(actor=None, ticket=ticket, priority=f.priority("high"), reason="Rule")
    assert TimelineEvent.objects.get(ticket=ticket, kind="priority_changed").actor_id is None
    with pytest.raises(ValidationFailed):
        services.assign_ticket(actor=None, ticket=ticket, assignee=outsider)  # not a billing agent
    assert Ticket.objects.get(pk=ticket.pk).assignee_id is None
