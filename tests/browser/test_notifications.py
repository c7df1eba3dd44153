"""The notification centre and the account settings in a real browser."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.accounts.models import Department
from tessera.notifications import services
from tessera.notifications.models import NotificationKind
from tessera.tickets import services as tickets
from tessera.tickets.models import Status
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fast_bell(settings: Any) -> None:
    settings.NOTIFICATIONS_POLL_SECONDS = 1  # the live server runs in this process, so this reaches it


def test_bell_counts_live_and_the_centre_marks_read(page_for: Any, shoot: Any, fast_bell: None) -> None:
    Department.objects.filter(slug="technical").update(auto_assign=False)
    customer = factories.customer("martina")
    agent = factories.agent(name="jane")
    ticket = factories.ticket(customer, subject="Server in Frankfurt does not boot")
    services.notify(
        customer,
        kind=NotificationKind.MAINTENANCE,
        title="Planned maintenance: Frankfurt network, Sunday 02:00-04:00",
        body="Short interruptions of up to 5 minutes are expected.",
        url="/status/",
        dedupe_key="maintenance:1",
        email=False,
    )
    page = page_for(customer)
    page.goto("/notifications/")
    bell = page.locator("#notification-bell")
    assert bell.locator(".notif-count").inner_text() == "1"

    # An agent acts in another session: the bell follows without a reload.
    ticket = tickets.transition_ticket(
        actor=agent, ticket=ticket, status=Status.WAITING, reason="Can you send the console screenshot?"
    )
    tickets.change_priority(actor=agent, ticket=ticket, priority=factories.priority("high"), reason="Outage")
    page.locator("#notification-bell .notif-count", has_text="3").wait_for()
    assert "3 unread" in bell.get_attribute("aria-label")

    page.reload()
    items = page.locator(".notif-item")
    assert items.count() == 3
    assert page.locator(".notif-item.is-unread").count() == 3
    assert f"The priority of ticket {ticket.reference} is now" in items.first.inner_text()  # newest first
    shoot(page, "notifications-centre")

    # Mark one as read in place (htmx); the bell follows.
    items.nth(2).get_by_role("button", name="Mark as read").click()
    page.locator(".notif-item.is-unread").nth(1).wait_for()
    page.wait_for_function("document.querySelectorAll('.notif-item.is-unread').length === 2")
    page.locator("#notification-bell .notif-count", has_text="2").wait_for()

    # Opening a notification marks it read and goes to the ticket.
    page.locator(
        ".notif-title", has_text=f"Ticket {ticket.reference} needs more information from you"
    ).click()
    page.wait_for_url(f"**/tickets/{ticket.reference}")
    assert services.unread_count(customer) == 1

    page.goto("/notifications/")
    page.get_by_role("button", name="Mark all as read").click()
    page.wait_for_url("**/notifications/")
    assert page.locator(".notif-item.is-unread").count() == 0
    assert page.locator("#notification-bell .notif-count").count() == 0
    assert services.unread_count(customer) == 0


def test_account_settings_page(page_for: Any, shoot: Any) -> None:
    customer = factories.customer("martina")
    page = page_for(customer)
    page.goto("/account/")
    page.get_by_label("Invoices and orders").fill("invoices@example.com")
    page.locator("#address-billing").get_by_role("button", name="Send confirmation link").click()
    page.get_by_text("We sent a confirmation link to invoices@example.com").wait_for()
    assert page.locator("#address-billing").get_by_text("Waiting for confirmation").is_visible()

    page.get_by_label("Time zone", exact=True).select_option("Europe/Rome")
    page.locator("#id_language").select_option("en")
    page.locator("#profile").get_by_role("button", name="Save").click()
    page.get_by_text("Your language and time zone were saved.").wait_for()
    customer.refresh_from_db()
    assert customer.time_zone == "Europe/Rome"

    ticket_updates = page.get_by_label("Updates on your tickets")
    assert ticket_updates.is_checked() and ticket_updates.is_disabled()
    page.get_by_label("Service status announcements").uncheck()
    page.get_by_role("button", name="Save choices").click()
    page.get_by_text("Your email notification choices were saved.").wait_for()
    assert not services.email_allowed(customer, NotificationKind.INCIDENT)

    page.get_by_label("New token name").fill("Monitoring")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#new-token").input_value()
    assert secret.startswith("tsr_")
    page.locator("#api-tokens").scroll_into_view_if_needed()
    shoot(page, "account-settings")
