"""SLA promises that hold (issue 19): a calendar per priority, the customer told when to expect an
answer (first response or acknowledge) in the API, calendar bounds and warnings, booleans refused."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.core.worker import run_pending_tasks
from tessera.sla.calendar import MAX_INTERVALS_PER_DAY
from tessera.sla.demo import OFFICE_CALENDAR, STANDARD_POLICY
from tessera.sla.models import BusinessCalendar, SlaPolicy, SlaTarget, TicketSla
from tessera.tickets import services
from tests import factories as f
from tests.sla.conftest import FrozenClock, rome

pytestmark = pytest.mark.django_db

OFFICE = {
    "tz": "Europe/Rome",
    "weekly": {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
}


def _hosting_policy(**overrides: Any) -> dict[str, Any]:
    """Business hours for everything but Critical, which runs around the clock."""
    body: dict[str, Any] = {
        "name": "Hosting",
        "calendar_id": BusinessCalendar.objects.get(name=OFFICE_CALENDAR).pk,
        "order": 1,
        "department": "billing",
        "targets": [
            {"priority": "medium", "first_response_minutes": 10},
            {
                "priority": "critical",
                "first_response_minutes": 10,
                "calendar_id": BusinessCalendar.objects.get(name="24/7").pk,
            },
        ],
    }
    return body | overrides


def test_a_priority_counts_on_its_own_calendar(api_as: Any, frozen: FrozenClock) -> None:
    response = api_as(f.admin()).post("/sla/policies", _hosting_policy())
    assert response.status_code == 201, response.content
    always = BusinessCalendar.objects.get(name="24/7")
    assert [(t["priority"], t["calendar_id"]) for t in response.json()["targets"]] == [
        ("medium", None),
        ("critical", always.pk),
    ]
    frozen.set(rome(2026, 11, 21, 3, 0))  # Saturday night
    critical = f.ticket(f.customer(), dept="billing", prio="critical")
    medium = f.ticket(f.customer(), dept="billing", prio="medium")
    assert TicketSla.objects.get(ticket=critical).first_response_due == rome(2026, 11, 21, 3, 10)
    assert TicketSla.objects.get(ticket=medium).first_response_due == rome(2026, 11, 23, 9, 10)
    # Raised to Critical: counted around the clock from the original start.
    agent = f.agent("billing")
    frozen.set(rome(2026, 11, 21, 3, 5))
    services.change_priority(actor=agent, ticket=medium, priority=f.priority("critical"), reason="Down")
    state = TicketSla.objects.select_related("calendar").get(ticket=medium)
    assert state.calendar == always and state.first_response_due == rome(2026, 11, 21, 3, 10)


@pytest.mark.django_db(transaction=True)  # the worker runs the recompute task in its own transactions
def test_a_new_calendar_for_a_priority_moves_its_running_tickets(api_as: Any, frozen: FrozenClock) -> None:
    admin = api_as(f.admin())
    created = admin.post("/sla/policies", _hosting_policy())
    frozen.set(rome(2026, 11, 21, 3, 0))
    medium = f.ticket(f.customer(), dept="billing", prio="medium")
    critical = f.ticket(f.customer(), dept="billing", prio="critical")
    always = BusinessCalendar.objects.get(name="24/7")
    body = _hosting_policy()
    body["targets"][0]["calendar_id"] = always.pk  # Medium around the clock too now
    assert admin.put(f"/sla/policies/{created.json()['id']}", body).status_code == 200
    run_pending_tasks()
    state = TicketSla.objects.get(ticket=medium)
    assert state.calendar_id == always.pk and state.first_response_due == rome(2026, 11, 21, 3, 10)
    assert TicketSla.objects.get(ticket=critical).first_response_due == rome(2026, 11, 21, 3, 10)


def test_an_unknown_calendar_for_a_priority_is_refused(api_as: Any) -> None:
    body = _hosting_policy()
    body["targets"][1]["calendar_id"] = 999_999
    response = api_as(f.admin()).post("/sla/policies", body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "targets.calendar_id"
    assert not SlaPolicy.objects.filter(name="Hosting").exists()


def test_the_customer_is_told_when_to_expect_an_answer(api_as: Any, frozen: FrozenClock) -> None:
    customer = f.customer()
    api = api_as(customer)
    billing = f.ticket(customer, dept="billing", prio="high")  # Standard: first response in 1 business hour
    technical = f.ticket(customer, dept="technical", prio="high")  # reviewed within one business hour
    reply = api.get(f"/tickets/{billing.pk}").json()["expected_reply"]
    assert reply["target"] == "first_response" and reply["state"] == "running"
    assert reply["due"] == "2026-11-16T09:00:00Z"  # 10:00 in Rome
    look = api.get(f"/tickets/{technical.pk}").json()["expected_reply"]
    assert (look["target"], look["due"], look["met_at"]) == ("acknowledge", "2026-11-16T09:00:00Z", None)
    assert api.get(f"/tickets/{technical.pk}/sla").json()["expected_reply"] == look
    frozen.set(rome(2026, 11, 16, 9, 20))
    services.add_note(actor=f.agent("technical"), ticket=technical, body="Checking the VPS.")
    looked = api.get(f"/tickets/{technical.pk}").json()["expected_reply"]
    assert (looked["state"], looked["met_at"]) == ("met", "2026-11-16T08:20:00Z")


def test_no_promise_no_expected_reply(api_as: Any) -> None:
    SlaTarget.objects.filter(policy__name=STANDARD_POLICY, priority__slug="low").update(
        first_response_minutes=None, next_response_minutes=None
    )
    customer = f.customer()
    ticket = f.ticket(customer, dept="billing", prio="low")  # resolution only: no answer promised
    assert api_as(customer).get(f"/tickets/{ticket.pk}").json()["expected_reply"] is None


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/sla/preview",
            {"definition": OFFICE, "start": "2026-11-20T17:30:00+01:00", "minutes": True},
            "minutes",
        ),
        (
            "/sla/policies",
            {
                "name": "Bools",
                "calendar_id": None,
                "targets": [{"priority": "high", "first_response_minutes": True}],
            },
            "first_response_minutes",
        ),
    ],
)
def test_booleans_are_refused_as_minutes(api_as: Any, path: str, body: dict[str, Any], field: str) -> None:
    if body.get("calendar_id", 0) is None:
        body["calendar_id"] = BusinessCalendar.objects.get(name="24/7").pk
    response = api_as(f.admin()).post(path, body)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"].endswith(field)
    assert not SlaPolicy.objects.filter(name="Bools").exists()


def test_reversed_looking_hours_are_saved_with_a_warning(api_as: Any) -> None:
    admin = api_as(f.admin())
    reversed_hours = {"tz": "Europe/Rome", "weekly": {"mon": [["18:00", "09:00"]]}}
    created = admin.post("/sla/calendars", {"name": "Typo", "definition": reversed_hours})
    assert created.status_code == 201, created.content
    (warning,) = created.json()["warnings"]
    assert "Monday" in warning and "18:00-09:00" in warning and "09:00-18:00" in warning
    preview = admin.post(
        "/sla/preview", {"definition": reversed_hours, "start": "2026-11-23T18:00:00+01:00", "minutes": 60}
    )
    assert preview.status_code == 200 and preview.json()["warnings"] == [warning]
    night = admin.post(
        "/sla/calendars",
        {"name": "Nights", "definition": {"tz": "UTC", "weekly": {"fri": [["22:00", "06:00"]]}}},
    )
    assert night.json()["warnings"] == []


def test_a_calendar_with_too_many_intervals_a_day_is_refused(api_as: Any) -> None:
    crowded = {
        "tz": "UTC",
        "weekly": {"mon": [[f"{h:02d}:00", f"{h:02d}:30"] for h in range(MAX_INTERVALS_PER_DAY + 1)]},
    }
    admin = api_as(f.admin())
    for path, body in (
        ("/sla/calendars", {"name": "Crowded", "definition": crowded}),
        ("/sla/preview", {"definition": crowded, "start": "2026-11-23T09:00:00Z", "minutes": 60}),
    ):
        response = admin.post(path, body)
        assert response.status_code == 422, response.content
        assert response.json()["errors"][0]["field"] == "definition"
        assert f"at most {MAX_INTERVALS_PER_DAY} intervals a day" in response.json()["detail"]
    assert not BusinessCalendar.objects.filter(name="Crowded").exists()


def test_the_densest_valid_calendar_is_answered_or_refused_with_a_reason(api_as: Any) -> None:
    """The worst valid preview: the most one-minute intervals every day, asked for more business time
    than five years of it hold. It is refused by the horizon (a 422 naming `start`), not computed for
    ever; the same calendar answers an ordinary question."""
    densest = {
        "tz": "Europe/Rome",
        "weekly": {
            day: [[f"{2 * h:02d}:00", f"{2 * h:02d}:01"] for h in range(MAX_INTERVALS_PER_DAY)]
            for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        },
        "holiday_country": "IT",
    }
    agent = api_as(f.agent())
    too_far = agent.post(
        "/sla/preview", {"definition": densest, "start": "2026-01-01T00:00:00Z", "minutes": 1_000_000}
    )
    assert too_far.status_code == 422
    assert too_far.json()["errors"][0]["field"] == "start" and "1827 days" in too_far.json()["detail"]
    near = agent.post(
        "/sla/preview", {"definition": densest, "start": "2026-11-23T00:00:00+01:00", "minutes": 13}
    )
    assert near.status_code == 200
    assert (
        near.json()["due"] == "2026-11-23T23:01:00Z"
    )  # 12 minutes on Monday, the 13th by 00:01 Tuesday (Rome)
