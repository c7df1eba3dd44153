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


def test_reports_on_a_phone(page_for: Any, shoot: Any) -> None:
    _some_tickets()
    lead = f.agent("billing", lead=True)
    page = page_for(user=lead, width=390)
    page.goto("/reports/")
    assert page.locator(".kpi-value").first.inner_text() == "6"  # only the department they lead
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shoot(page, "reports-phone")


def test_customer_gets_403(page_for: Any) -> None:
    page = page_for(user=f.customer())
    response = page.goto("/reports/")
    assert response is not None and response.status == 403
