"""Editing SLA settings through the API: admins only, validated before any write, and a calendar
change recomputes the open tickets' dues through the real task queue."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.core.worker import run_pending_tasks
from tessera.sla import queries
from tessera.sla.demo import OFFICE_CALENDAR, STANDARD_POLICY, office_definition
from tessera.sla.models import (
    BusinessCalendar,
    EscalationRule,
    PriorityMatrix,
    SlaPolicy,
    SlaTarget,
    TicketSla,
)
from tessera.sla.services import priority_for
from tessera.tickets import services
from tessera.tickets.models import Status
from tests import factories as f
from tests.sla.conftest import FrozenClock, rome

pytestmark = pytest.mark.django_db


def _policy_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "VIP",
        "calendar_id": BusinessCalendar.objects.get(name="24/7").pk,
        "order": 5,
        "department": "billing",
        "targets": [
            {"priority": "high", "first_response_minutes": 15, "resolution_minutes": 240},
            {"priority": "low", "resolution_minutes": 2880},
        ],
        "escalation_rules": [
            {"level": "breach", "target": "first_response", "notify_lead": True, "raise_priority": True},
            {"level": "warning", "move_to": "technical"},
        ],
    }
    body.update(overrides)
    return body


def test_admin_creates_a_policy_that_applies_to_new_tickets(api_as: Any, frozen: FrozenClock) -> None:
    response = api_as(f.admin()).post("/sla/policies", _policy_body())
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["department"], body["order"]) == ("VIP", "billing", 5)
    # In rank order, low first.
    assert [(t["priority"], t["first_response_minutes"]) for t in body["targets"]] == [
        ("low", None),
        ("high", 15),
    ]
    assert body["escalation_rules"][1] == {
        "level": "warning",
        "target": "",
        "notify_lead": False,
        "raise_priority": False,
        "unassign": False,
        "move_to": "technical",
    }
    assert EscalationRule.objects.filter(policy__name="VIP").count() == 2
    ticket = f.ticket(f.customer(), dept="billing", prio="high")  # Mon 16 Nov 09:00 Rome
    state = TicketSla.objects.select_related("policy").get(ticket=ticket)
    assert state.policy is not None and state.policy.name == "VIP"
    assert state.first_response_due == rome(2026, 11, 16, 9, 15)  # 24/7: 15 minutes


def test_agents_and_customers_cannot_change_policies(api_as: Any) -> None:
    for user in (f.agent("billing"), f.customer()):
        assert api_as(user).post("/sla/policies", _policy_body()).status_code == 403
    standard = SlaPolicy.objects.get(name=STANDARD_POLICY)
    refused = api_as(f.agent()).put(f"/sla/policies/{standard.pk}", _policy_body(name=STANDARD_POLICY))
    assert refused.status_code == 403
    assert not SlaPolicy.objects.filter(name="VIP").exists()
    assert SlaPolicy.objects.get(pk=standard.pk).department_id is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"targets": [{"priority": "urgentissimo", "resolution_minutes": 5}]}, "targets"),
        (
            {"targets": [{"priority": "high", "resolution_minutes": 5}, {"priority": "high"}]},
            "targets",
        ),
        ({"calendar_id": 999_999}, "calendar_id"),
        ({"department": "nowhere"}, "department"),
        ({"channel": "pigeon"}, "channel"),
        ({"name": "   "}, "name"),
        ({"name": STANDARD_POLICY}, "name"),
        ({"escalation_rules": [{"level": "breach", "move_to": "nowhere"}]}, "rules.move_to"),
    ],
)
def test_invalid_policy_is_a_problem_and_changes_nothing(
    api_as: Any, overrides: dict[str, Any], field: str
) -> None:
    before = (SlaPolicy.objects.count(), SlaTarget.objects.count(), EscalationRule.objects.count())
    response = api_as(f.admin()).post("/sla/policies", _policy_body(**overrides))
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == field
    assert (SlaPolicy.objects.count(), SlaTarget.objects.count(), EscalationRule.objects.count()) == before


@pytest.mark.parametrize(
    "overrides",
    [
        {"targets": [{"priority": "high", "resolution_minutes": 0}]},
        {"escalation_rules": [{"level": "sometimes"}]},
        {"surprise": True},
    ],
)
def test_malformed_policy_is_422(api_as: Any, overrides: dict[str, Any]) -> None:
    response = api_as(f.admin()).post("/sla/policies", _policy_body(**overrides))
    assert response.status_code == 422
    assert not SlaPolicy.objects.filter(name="VIP").exists()


@pytest.mark.django_db(transaction=True)  # the worker runs the recompute task in its own transactions
def test_replacing_a_policy_keeps_promised_targets_but_follows_a_new_calendar(
    api_as: Any, frozen: FrozenClock
) -> None:
    ticket = f.ticket(f.customer(), dept="billing", prio="medium")  # Mon 16 Nov 09:00
    state = TicketSla.objects.get(ticket=ticket)
    assert state.first_response_due == rome(2026, 11, 18, 15, 0)  # 24 business hours
    standard = SlaPolicy.objects.get(name=STANDARD_POLICY)
    always = BusinessCalendar.objects.get(name="24/7")
    response = api_as(f.admin()).put(
        f"/sla/policies/{standard.pk}",
        {
            "name": STANDARD_POLICY,
            "calendar_id": always.pk,
            "order": 1000,
            "targets": [{"priority": "medium", "first_response_minutes": 5}],
        },
    )
    assert response.status_code == 200, response.content
    assert [t["priority"] for t in response.json()["targets"]] == ["medium"]
    run_pending_tasks()
    state = TicketSla.objects.get(ticket=ticket)
    # Still 24 h (the promised snapshot), now counted around the clock: Tue 17 Nov 09:00.
    assert state.targets["first_response"] == 24 * 60
    assert state.first_response_due == rome(2026, 11, 17, 9, 0)
    assert state.resolution_due == rome(2026, 11, 19, 9, 0)  # 72 h
    assert state.due_at == rome(2026, 11, 17, 9, 0)


@pytest.mark.django_db(transaction=True)
def test_calendar_change_recomputes_open_tickets_only(api_as: Any, frozen: FrozenClock) -> None:
    agent = f.agent("billing")
    open_ticket = f.ticket(f.customer(), dept="billing", prio="high")  # Mon 16 Nov 09:00
    closed = f.ticket(f.customer(), dept="billing", prio="high")
    frozen.set(rome(2026, 11, 16, 9, 30))
    services.transition_ticket(actor=agent, ticket=closed, status=Status.CLOSED)
    closed_before = TicketSla.objects.get(ticket=closed).resolution_due
    office = BusinessCalendar.objects.get(name=OFFICE_CALENDAR)
    lunch = office_definition()
    lunch["weekly"] = {day: [["09:00", "13:00"], ["14:00", "18:00"]] for day in lunch["weekly"]}
    response = api_as(f.admin()).put(f"/sla/calendars/{office.pk}", {"definition": lunch})
    assert response.status_code == 200, response.content
    assert TicketSla.objects.get(ticket=open_ticket).resolution_due == rome(2026, 11, 16, 17, 0)  # not yet
    run_pending_tasks()
    state = TicketSla.objects.get(ticket=open_ticket)
    # 8 business hours with an hour for lunch: 09-13 and 14-18 -> Mon 18:00 Rome.
    assert state.resolution_due == rome(2026, 11, 16, 18, 0)
    assert state.first_response_due == rome(2026, 11, 16, 10, 0)
    assert state.next_check_at == rome(2026, 11, 16, 9, 45)
    assert TicketSla.objects.get(ticket=closed).resolution_due == closed_before


def test_calendar_update_validates_and_is_admin_only(api_as: Any) -> None:
    office = BusinessCalendar.objects.get(name=OFFICE_CALENDAR)
    before = office.definition
    bad = api_as(f.admin()).put(f"/sla/calendars/{office.pk}", {"definition": {"tz": "Mars/Base"}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "definition"
    assert api_as(f.admin()).put(f"/sla/calendars/{office.pk}", {"name": "24/7"}).status_code == 422
    assert api_as(f.agent()).put(f"/sla/calendars/{office.pk}", {"name": "Mine"}).status_code == 403
    assert api_as(f.admin()).put("/sla/calendars/999999", {"name": "Mine"}).status_code == 404
    office.refresh_from_db()
    assert (office.name, office.definition) == (OFFICE_CALENDAR, before)


def test_admin_edits_the_matrix(api_as: Any) -> None:
    admin = api_as(f.admin())
    assert priority_for("one", "low") is not None and priority_for("one", "low").slug == "low"  # type: ignore[union-attr]
    response = admin.put(
        "/sla/matrix",
        {
            "cells": [
                {"impact": "one", "urgency": "low", "priority": "medium"},
                {"impact": "one", "urgency": "high"},
            ]
        },
    )
    assert response.status_code == 200, response.content
    assert {"impact": "one", "urgency": "low", "priority": "medium"} in response.json()
    cell = priority_for("one", "low")
    assert cell is not None and cell.slug == "medium"
    assert priority_for("one", "high") is None  # cleared
    count = PriorityMatrix.objects.count()
    bad = admin.put(
        "/sla/matrix",
        {
            "cells": [
                {"impact": "one", "urgency": "low", "priority": "x"},
                {"impact": "galaxy", "urgency": "low", "priority": "low"},
            ]
        },
    )
    assert bad.status_code == 422
    assert PriorityMatrix.objects.count() == count
    assert api_as(f.agent()).put("/sla/matrix", {"cells": []}).status_code == 403
    assert len(api_as(f.customer()).get("/sla/matrix").json()) == count


def test_admin_switches_a_department_to_the_matrix_questions(api_as: Any) -> None:
    assert api_as(f.customer()).get("/sla/departments/technical").json()["priority_input"] == "direct"
    assert (
        api_as(f.agent()).put("/sla/departments/technical", {"priority_input": "matrix"}).status_code == 403
    )
    response = api_as(f.admin()).put("/sla/departments/technical", {"priority_input": "matrix"})
    assert response.status_code == 200, response.content
    assert queries.uses_matrix(f.department("technical")) is True
    bad = api_as(f.admin()).put("/sla/departments/technical", {"priority_input": "dice"})
    assert bad.status_code == 422
    assert api_as(f.admin()).put("/sla/departments/nowhere", {"priority_input": "matrix"}).status_code == 404
