"""The reports: figures worked out by hand, who may see them, CSV export and bad filters."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tessera.accounts.models import User
from tessera.core.errors import ValidationFailed
from tessera.reports import charts, exports, queries
from tessera.tickets import services
from tessera.tickets.models import Channel, Status, Ticket
from tests import factories as f
from tests.sla.conftest import FrozenClock, rome

pytestmark = pytest.mark.django_db

RANGE = {"start": "2026-11-01", "end": "2026-11-30"}


def _assign(ticket: Ticket, agent: User) -> None:
    ticket.refresh_from_db()
    if ticket.assignee_id != agent.pk:
        services.assign_ticket(actor=agent, ticket=ticket, assignee=agent)


def _history(frozen: FrozenClock) -> dict[str, Any]:
    """Mon 16 Nov 2026 09:00 Rome: two High billing tickets, one High technical, one open Medium;
    Wed 18: an email ticket. Times in business minutes on the Mon-Fri 09-18 calendar."""
    billing = f.agent("billing", name="=cmd|' /C calc'!A0")  # a hostile name for the CSV test
    technical = f.agent("technical")
    quick = f.ticket(f.customer(), dept="billing", prio="high")
    slow = f.ticket(f.customer(), dept="billing", prio="high")
    tech = f.ticket(f.customer(), dept="technical", prio="high")
    f.ticket(f.customer(), dept="billing", prio="medium")  # still open and on time: not counted
    for ticket in (quick, slow):
        _assign(ticket, billing)
    _assign(tech, technical)
    frozen.set(rome(2026, 11, 16, 9, 30))
    services.add_reply(actor=billing, ticket=quick, body="Done soon.")  # first response: 30 min, met
    frozen.set(rome(2026, 11, 16, 10, 30))
    services.add_reply(actor=billing, ticket=slow, body="Sorry.")  # 90 min: breached (1 h)
    frozen.set(rome(2026, 11, 16, 11, 0))
    services.transition_ticket(actor=billing, ticket=quick, status=Status.RESOLVED)  # 120 min: met
    frozen.set(rome(2026, 11, 16, 12, 0))
    services.transition_ticket(actor=technical, ticket=tech, status=Status.RESOLVED)  # 180 min: met
    frozen.set(rome(2026, 11, 17, 10, 0))
    services.transition_ticket(actor=billing, ticket=slow, status=Status.RESOLVED)  # 540 + 60: breached
    frozen.set(rome(2026, 11, 18, 10, 0))
    f.ticket(f.customer(), dept="billing", prio="low", channel=Channel.EMAIL)
    return {"billing": billing, "technical": technical}


def _filters(user: User, **params: str) -> queries.Filters:
    return queries.parse_filters(user, {**RANGE, **params}, rome(2026, 11, 30).date())


def test_compliance_and_times_by_priority_and_department(frozen: FrozenClock) -> None:
    _history(frozen)
    filters = _filters(f.admin())
    by_priority = {r.label: r for r in queries.compliance(filters, "priority")}
    high = by_priority["High"]
    assert (high.first_response_met, high.first_response_total) == (1, 2)
    assert (high.resolution_met, high.resolution_total) == (2, 3)
    # Technical promises a look within one business hour; the first action came at noon, with the resolution.
    assert (high.acknowledge_met, high.acknowledge_total) == (0, 1)
    assert high.percent == 50.0
    medium = by_priority["Medium"]
    assert (medium.total, medium.percent) == (0, None)
    by_department = {r.label: r.percent for r in queries.compliance(filters, "department")}
    assert by_department == {"Financial/Billing": 50.0, "Technical": 50.0}
    assert [(r.label, r.total) for r in queries.compliance(filters, "month")] == [("2026-11", 6)]
    agents = queries.compliance(filters, "agent")
    assert sum(r.total for r in agents) == 6

    times = {r.label: r for r in queries.times(filters, "priority")}["High"]
    # First responses 30 and 90 min; resolutions 120, 180 and 600 min (nearest-rank percentiles).
    assert (times.first_response_count, times.first_response_median, times.first_response_p90) == (
        2,
        0.5,
        1.5,
    )
    assert (times.resolution_count, times.resolution_median, times.resolution_p90) == (3, 3.0, 10.0)
    totals = queries.totals(filters)
    assert totals["tickets"] == 5 and totals["compliance"].percent == 50.0


def test_acknowledge_and_next_response_are_measured_too(frozen: FrozenClock) -> None:
    """Technical promises a look within one business hour; billing High a next response within one."""
    agent = f.agent("technical")
    billing = f.agent("billing")
    customer = f.customer()
    prompt = f.ticket(f.customer(), dept="technical", prio="high")
    late = f.ticket(f.customer(), dept="technical", prio="high")
    chat = f.ticket(customer, dept="billing", prio="high")
    frozen.set(rome(2026, 11, 16, 9, 20))
    services.add_note(actor=agent, ticket=prompt, body="Looking.")  # any agent action: 20 min, met
    services.add_reply(actor=billing, ticket=chat, body="Hello.")  # first response, met
    frozen.set(rome(2026, 11, 16, 10, 0))
    services.add_reply(actor=customer, ticket=chat, body="Still broken.")  # awaits a next response
    frozen.set(rome(2026, 11, 16, 10, 30))
    services.add_note(actor=agent, ticket=late, body="Looking.")  # 90 min: missed
    frozen.set(rome(2026, 11, 16, 11, 30))
    services.add_reply(actor=billing, ticket=chat, body="Fixed.")  # 90 min after the customer: missed
    filters = _filters(f.admin())
    high = {r.label: r for r in queries.compliance(filters, "priority")}["High"]
    assert (high.acknowledge_met, high.acknowledge_total) == (1, 2)
    assert (high.next_response_met, high.next_response_total) == (0, 1)
    assert (high.first_response_met, high.first_response_total) == (1, 1)
    assert high.acknowledge_percent == 50.0 and high.next_response_percent == 0.0
    times = {r.label: r for r in queries.times(filters, "department")}["Technical"]
    assert (times.acknowledge_count, times.acknowledge_median, times.acknowledge_p90) == (2, 0.3, 1.5)
    exported = list(csv.reader(io.StringIO(exports.compliance_csv(filters))))
    assert "Acknowledgements met" in exported[0] and "Next responses met" in exported[0]


def test_volume_by_day_and_channel(frozen: FrozenClock) -> None:
    _history(frozen)
    volume = queries.volume(_filters(f.admin()))
    assert volume.unit == "day"
    assert [label for _value, label in volume.channels] == ["Web form", "Email"]
    assert [(p.isoformat(), counts, total) for p, counts, total in volume.table] == [
        ("2026-11-16", [4, 0], 4),
        ("2026-11-18", [0, 1], 1),
    ]
    chart = charts.stacked_columns(volume)
    assert chart["peak"] == 4 and len(chart["segments"]) == 2
    assert chart["segments"][0].height == chart["height"]  # the busiest day fills the chart


def test_a_department_filter_and_a_lead_see_only_their_departments(frozen: FrozenClock) -> None:
    _history(frozen)
    lead = f.agent("billing", lead=True)
    filters = _filters(lead)
    assert [r.label for r in queries.compliance(filters, "department")] == ["Financial/Billing"]
    assert queries.totals(filters)["tickets"] == 4
    with pytest.raises(ValidationFailed):
        _filters(lead, department="technical")
    admin_technical = _filters(f.admin(), department="technical")
    assert queries.totals(admin_technical)["tickets"] == 1


def test_page_shows_charts_and_tables_to_a_lead(frozen: FrozenClock) -> None:
    _history(frozen)
    client = Client()
    client.force_login(f.agent("billing", lead=True))
    response = client.get("/reports/", RANGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html and 'role="img"' in html
    assert "% of targets met, by priority" in html
    assert "50.0 %" in html  # billing compliance in the table
    partial = client.get("/reports/", RANGE, headers={"HX-Request": "true"})
    assert partial.status_code == 200 and "<html" not in partial.content.decode()


@pytest.mark.parametrize("who", ["customer", "agent", "anonymous"])
def test_page_is_refused_to_customers_and_agents_who_lead_nothing(who: str) -> None:
    client = Client()
    if who == "customer":
        client.force_login(f.customer())
    elif who == "agent":
        client.force_login(f.agent("billing"))
    response = client.get("/reports/")
    if who == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == 403
        assert client.get("/reports/compliance.csv").status_code == 403


@pytest.mark.parametrize(
    "params",
    [
        {"start": "yesterday"},
        {"start": "2026-12-01", "end": "2026-11-01"},
        {"start": "2001-01-01"},
        {"department": "x"},
    ],
)
def test_bad_filters_are_explained_not_crashed(params: dict[str, str]) -> None:
    client = Client()
    client.force_login(f.admin())
    response = client.get("/reports/", params)
    assert response.status_code == 422
    assert 'class="alert alert-danger"' in response.content.decode()
    assert client.get("/reports/volume.csv", params).status_code == 422


def test_csv_export_neutralises_formulas(frozen: FrozenClock) -> None:
    _history(frozen)
    client = Client()
    client.force_login(f.admin())
    response = client.get("/reports/compliance.csv", RANGE)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="sla-compliance-2026-11-01-2026-11-30.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:2] == ["Grouped by", "Group"]
    agent_rows = [r for r in rows if r[0] == "Agent"]
    assert ["Agent", "'=Cmd|' /C Calc'!A0", "1", "2", "1", "2", "0", "0", "0", "0", "50.0"] in agent_rows
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert client.get("/reports/times.csv", RANGE).status_code == 200
    volume = list(csv.reader(io.StringIO(client.get("/reports/volume.csv", RANGE).content.decode())))
    assert volume == [
        ["Period", "Web form", "Email", "Total"],
        ["2026-11-16", "4", "0", "4"],
        ["2026-11-18", "0", "1", "1"],
    ]
    assert client.get("/reports/secrets.csv").status_code == 404


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_safe_cell_prefixes_formula_starts(value: str) -> None:
    assert exports.safe_cell(value) == "'" + value
    assert exports.safe_cell("plain") == "plain" and exports.safe_cell(-1) == -1


def test_query_count_does_not_grow_with_tickets(frozen: FrozenClock) -> None:
    _history(frozen)
    client = Client()
    client.force_login(f.admin())

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/reports/", RANGE).status_code == 200
        return len(queries)

    before = count()
    for _ in range(5):
        f.ticket(f.customer(), dept="abuse", prio="low")
    assert count() == before
