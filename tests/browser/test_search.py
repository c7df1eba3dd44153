"""Issue 19: an agent types a ticket number, an email address or an IP address into the workspace's
search box and gets the ticket, or the tickets that contain it, within what they may see."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tessera.tickets.models import Ticket
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def search(desk: Any, text: str) -> None:
    box = desk.get_by_role("searchbox", name="Search tickets")
    box.fill(text)
    box.press("Enter")


def test_agent_finds_tickets_by_number_email_and_ip(page_for: Any) -> None:
    carla = factories.customer("carla")
    dora = factories.customer("dora")
    agent = factories.agent("technical", name="tomasz nowak")
    down = factories.ticket(
        carla, subject="VPS unreachable", details={"server_ip": "2001:db8:7::1", "order_number": "ORD-5521"}
    )
    copied = factories.ticket(dora, subject="Shared mailbox full", cc=[carla])
    factories.ticket(dora, subject="Backup failed", details={"server_ip": "203.0.113.10"})
    hidden = factories.ticket(carla, subject="Refund for March", dept="billing")
    Ticket.objects.filter(pk=hidden.pk).update(assignee=None)

    desk = page_for(agent)
    desk.goto("/agent/")
    search(desk, down.reference)  # the number opens the ticket
    expect(desk.get_by_role("heading", name=re.compile("VPS unreachable"))).to_be_visible()
    assert desk.url.endswith(f"/agent/tickets/{down.pk}/")
    search(desk, str(copied.pk))  # the bare number too
    expect(desk.get_by_role("heading", name=re.compile("Shared mailbox full"))).to_be_visible()

    search(desk, carla.email)  # what she requested and what she is copied on, newest first
    expect(desk.get_by_role("heading", name=re.compile("Results for"))).to_be_visible()
    rows = desk.locator(".ws-queue tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Shared mailbox full")
    expect(rows.nth(1)).to_contain_text("VPS unreachable")

    search(desk, "2001:db8:7::1")  # an IPv6 address of the incident details
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("VPS unreachable")
    search(desk, "203.0.113.10")
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("Backup failed")

    search(desk, hidden.reference)  # another department's ticket: not opened, not listed
    expect(desk.get_by_role("heading", name=re.compile("Results for"))).to_be_visible()
    expect(desk.get_by_text("Refund for March")).to_have_count(0)
