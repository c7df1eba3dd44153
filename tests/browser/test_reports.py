"""The SLA reports page in a real browser: charts, tables, the htmx filter, a narrow screen."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.tickets import services
from tessera.tickets.models import Channel, Status
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


def _some_tickets() -> None:
    billing = f.agent("billing", name="Bea Billing")
    technical = f.agent("technical", name="Tom Technical")
    for index in range(6):
        ticket = f.ticket(f.customer(), dept="billing", prio=("high", "medium", "low")[index % 3])
        ticket.refresh_from_db()
        if ticket.assignee_id != billing.pk:
            services.assign_ticket(actor=billing, ticket=ticket, assignee=billing)
        services.add_reply(actor=billing, ticket=ticket, body="On it.")
        if index % 2:
            services.transition_ticket(actor=billing, ticket=ticket, status=Status.RESOLVED)
    for channel in (Channel.EMAIL, Channel.PHONE, Channel.EMAIL):
        ticket = f.ticket(f.customer(), dept="technical", prio="high", channel=channel)
        services.transition_ticket(actor=technical, ticket=ticket, status=Status.RESOLVED)


def test_admin_reads_the_reports_and_filters_by_department(page_for: Any, shoot: Any) -> None:
    _some_tickets()
    page = page_for(user=f.admin())
    page.goto("/reports/")
    assert page.get_by_role("heading", name="SLA reports").is_visible()
    chart = page.get_by_role("img", name="% of targets met, by priority")
    assert chart.first.is_visible()
    assert page.get_by_role("table").first.is_visible()
    assert page.locator(".kpi-value").first.inner_text() == "9"
    shoot(page, "reports-admin")

    page.get_by_label("Department", exact=True).select_option("technical")
    page.wait_for_url("**department=technical**")
    page.locator(".kpi-value").first.wait_for()
    assert page.locator(".kpi-value").first.inner_text() == "3"
    shoot(page, "reports-technical")

    page.get_by_text("Show the figures as a table").click()
    assert page.get_by_role("columnheader", name="Email").is_visible()


# Every chart text on the page: its rendered font size and box, to check it can be read.
CHART_TEXT = """() => [...document.querySelectorAll(
    '.hbar-label, .hbar-value, .column-y span, .column-x span, .chart-legend li')].map(e => {
  const r = e.getBoundingClientRect();
  return {cls: e.className || e.parentElement.classList[0], text: e.textContent.trim(),
          size: parseFloat(getComputedStyle(e).fontSize), x: r.left, y: r.top, w: r.width, h: r.height};
})"""


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["w"] - 0.5
        and b["x"] < a["x"] + a["w"] - 0.5
        and a["y"] < b["y"] + b["h"] - 0.5
        and b["y"] < a["y"] + a["h"] - 0.5
    )


def _assert_readable(page: Any) -> None:
    texts = page.evaluate(CHART_TEXT)
    assert {t["cls"] for t in texts} >= {"hbar-label", "hbar-value", "column-y", "column-x"}, texts
    small = [t for t in texts if t["size"] < 13]
    assert not small, small  # at least 13 CSS px, the same size on a phone as on a desktop
    for index, a in enumerate(texts):
        assert a["w"] > 0 and a["h"] > 0, a
        clashes = [b for b in texts[index + 1 :] if _overlap(a, b)]
        assert not clashes, (a, clashes)
    # A label never runs into its bar: on a phone it sits on its own line above it.
    for row in page.locator(".hbar-row").all():
        label, track = row.locator(".hbar-label").bounding_box(), row.locator(".hbar-track").bounding_box()
        assert label is not None and track is not None
        assert label["y"] + label["height"] <= track["y"] + 0.5 or label["x"] + label["width"] <= track["x"]


def test_reports_on_a_phone(page_for: Any, shoot: Any) -> None:
    _some_tickets()
    lead = f.agent("billing", lead=True)
    page = page_for(user=lead, width=390)
    page.goto("/reports/")
    assert page.locator(".kpi-value").first.inner_text() == "6"  # only the department they lead
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    _assert_readable(page)
    # The whole bar of a label on its own line spans the card: nothing squeezed beside it.
    row = page.locator(".hbar-row").first
    label, track = row.locator(".hbar-label").bounding_box(), row.locator(".hbar-track").bounding_box()
    assert label is not None and track is not None and track["y"] >= label["y"] + label["height"] - 0.5
    assert track["width"] > 200
    shoot(page, "reports-phone")


def test_charts_are_readable_at_desktop_width(page_for: Any) -> None:
    _some_tickets()
    page = page_for(user=f.admin())
    page.goto("/reports/")
    _assert_readable(page)
    row = page.locator(".hbar-row").first  # wide enough: label, bar and value on one line
    label, track = row.locator(".hbar-label").bounding_box(), row.locator(".hbar-track").bounding_box()
    assert label is not None and track is not None and label["x"] + label["width"] <= track["x"]


def test_customer_gets_403(page_for: Any) -> None:
    page = page_for(user=f.customer())
    response = page.goto("/reports/")
    assert response is not None and response.status == 403
