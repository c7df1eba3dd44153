"""SLA endpoints: who may see and change what, the ticket's clocks and the calendar preview."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.sla.models import BusinessCalendar
from tests import factories as f
from tests.sla.conftest import FrozenClock, rome

pytestmark = pytest.mark.django_db

OFFICE = {"tz": "Europe/Rome", "weekly": {"mon": [["09:00", "18:00"]], "fri": [["09:00", "18:00"]]}}


def test_customer_sees_the_sla_of_their_own_ticket(api_as: Any, frozen: FrozenClock) -> None:
    customer = f.customer()
    ticket = f.ticket(customer, dept="billing", prio="high")  # Mon 16 Nov 09:00 Rome
    frozen.set(rome(2026, 11, 16, 9, 30))
    response = api_as(customer).get(f"/tickets/{ticket.pk}/sla")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["policy"] == "Standard"
    targets = {t["target"]: t for t in body["targets"]}
    assert set(targets) == {"first_response", "resolution"}
    assert targets["first_response"]["state"] == "running"
    assert targets["first_response"]["due"] == "2026-11-16T09:00:00Z"
    assert targets["first_response"]["business_minutes_left"] == 30.0
    assert targets["resolution"]["business_minutes_left"] == 7 * 60 + 30

    frozen.set(rome(2026, 11, 16, 10, 15))
    overdue = {t["target"]: t for t in api_as(customer).get(f"/tickets/{ticket.pk}/sla").json()["targets"]}
    assert overdue["first_response"]["business_minutes_left"] == -15.0


def test_outsider_gets_404_for_another_tickets_sla(api_as: Any) -> None:
    ticket = f.ticket(f.customer(), dept="billing")
    response = api_as(f.customer("outsider")).get(f"/tickets/{ticket.pk}/sla")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_agent_of_another_department_gets_404(api_as: Any) -> None:
    ticket = f.ticket(f.customer(), dept="billing")
    assert api_as(f.agent("abuse")).get(f"/tickets/{ticket.pk}/sla").status_code == 404


def test_admin_creates_a_calendar_and_an_agent_cannot(api_as: Any) -> None:
    refused = api_as(f.agent()).post("/sla/calendars", {"name": "Two days", "definition": OFFICE})
    assert refused.status_code == 403
    assert not BusinessCalendar.objects.filter(name="Two days").exists()
    response = api_as(f.admin()).post("/sla/calendars", {"name": "Two days", "definition": OFFICE})
    assert response.status_code == 201, response.content
    stored = BusinessCalendar.objects.get(name="Two days")
    assert response.json()["id"] == stored.pk
    assert stored.definition["weekly"] == {"mon": [["09:00", "18:00"]], "fri": [["09:00", "18:00"]]}
    assert stored.as_calendar().tz == "Europe/Rome"


def test_customer_cannot_create_or_list_calendars(api_as: Any) -> None:
    customer = api_as(f.customer())
    before = BusinessCalendar.objects.count()
    assert customer.post("/sla/calendars", {"name": "Mine", "definition": OFFICE}).status_code == 403
    assert customer.get("/sla/calendars").status_code == 403
    assert customer.get("/sla/policies").status_code == 403
    assert BusinessCalendar.objects.count() == before


@pytest.mark.parametrize(
    "definition",
    [
        {**OFFICE, "tz": "Mars/Olympus"},
        {"tz": "Europe/Rome", "weekly": {}},
        {"tz": "Europe/Rome", "weekly": {"mon": [["25:00", "18:00"]]}},
        {**OFFICE, "colour": "blue"},
        {**OFFICE, "holiday_country": "XX"},
    ],
)
def test_invalid_calendar_is_422_and_nothing_saved(api_as: Any, definition: dict[str, Any]) -> None:
    before = BusinessCalendar.objects.count()
    response = api_as(f.admin()).post("/sla/calendars", {"name": "Broken", "definition": definition})
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"] == "definition"
    assert BusinessCalendar.objects.count() == before


def test_duplicate_calendar_name_is_422(api_as: Any) -> None:
    agent = api_as(f.admin())
    assert agent.post("/sla/calendars", {"name": "Twice", "definition": OFFICE}).status_code == 201
    assert agent.post("/sla/calendars", {"name": "Twice", "definition": OFFICE}).status_code == 422


def test_agent_lists_calendars_and_policies_in_matching_order(api_as: Any) -> None:
    agent = api_as(f.agent())
    names = [c["name"] for c in agent.get("/sla/calendars").json()]
    assert "24/7" in names
    policies = agent.get("/sla/policies").json()
    assert [p["name"] for p in policies] == ["Live chat", "Technical support", "Standard"]
    standard = policies[-1]
    assert (standard["department"], standard["channel"]) == (None, "")
    high = next(t for t in standard["targets"] if t["priority"] == "high")
    assert (high["first_response_minutes"], high["resolution_minutes"]) == (60, 480)


def test_preview_due_instant_from_a_definition(api_as: Any) -> None:
    response = api_as(f.agent()).post(
        "/sla/preview",
        {"definition": OFFICE, "start": "2026-11-20T17:30:00+01:00", "minutes": 60},
    )
    assert response.status_code == 200, response.content
    # Friday 17:30 + 30 min, then Monday 09:00 + 30 min -> Mon 23 Nov 09:30 Rome = 08:30 UTC.
    assert response.json()["due"] == "2026-11-23T08:30:00Z"


def test_preview_with_pauses_and_stored_calendar(api_as: Any) -> None:
    office = BusinessCalendar.objects.get(name__startswith="Mon-Fri")
    agent = api_as(f.agent())
    response = agent.post(
        "/sla/preview",
        {
            "calendar_id": office.pk,
            "start": "2026-11-16T09:00:00+01:00",
            "minutes": 120,
            "pauses": [["2026-11-16T10:00:00+01:00", "2026-11-17T10:00:00+01:00"]],
        },
    )
    # 1 h on Monday, paused until Tuesday 10:00, 1 h more -> Tue 11:00 Rome = 10:00 UTC.
    assert response.json()["due"] == "2026-11-17T10:00:00Z"
    between = agent.post(
        "/sla/preview",
        {"calendar_id": office.pk, "start": "2026-11-20T17:00:00+01:00", "end": "2026-11-23T10:00:00+01:00"},
    )
    assert between.status_code == 200, between.content
    assert between.json()["business_minutes"] == 120.0  # Fri 17-18 and Mon 09-10


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"definition": {**OFFICE, "tz": "Nowhere/Town"}, "minutes": 60}, "definition"),
        ({"definition": OFFICE, "end": "2026-11-20T09:00:00+01:00"}, "end"),  # end before start
        ({"definition": OFFICE, "minutes": 60, "end": "2026-11-21T09:00:00+01:00"}, "minutes"),
        ({"minutes": 60}, "calendar_id"),
        ({"calendar_id": 999_999, "minutes": 60}, "calendar_id"),
    ],
)
def test_preview_rejects_bad_input(api_as: Any, body: dict[str, Any], field: str) -> None:
    response = api_as(f.agent()).post("/sla/preview", {"start": "2026-11-20T17:30:00+01:00", **body})
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == field


def test_preview_rejects_naive_start_and_unknown_fields(api_as: Any) -> None:
    agent = api_as(f.agent())
    naive = agent.post("/sla/preview", {"definition": OFFICE, "start": "2026-11-20T17:30:00", "minutes": 5})
    assert naive.status_code == 422
    extra = agent.post(
        "/sla/preview", {"definition": OFFICE, "start": "2026-11-20T17:30:00Z", "minutes": 5, "x": 1}
    )
    assert extra.status_code == 422


def test_customer_cannot_preview(api_as: Any) -> None:
    response = api_as(f.customer()).post(
        "/sla/preview", {"definition": OFFICE, "start": "2026-11-20T17:30:00Z", "minutes": 5}
    )
    assert response.status_code == 403
