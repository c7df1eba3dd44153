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
from tests.browser.conftest import AsgiServer, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fast_bell(settings: Any) -> None:
    settings.NOTIFICATIONS_POLL_SECONDS = 1  # the live server runs in this process, so this reaches it


def test_the_bell_follows_the_websocket_and_polls_only_when_it_is_closed(
    page_for: Any, asgi_server: AsgiServer, settings: Any
) -> None:
    # Pushes from this test's thread cannot reach the server's event loop through the in-memory channel
    # layer, so the consumer's own re-reading carries the news, as between `tessera serve`'s processes.
    settings.TESSERA_LIVE_POLL_SECONDS = 0.3
    settings.NOTIFICATIONS_POLL_SECONDS = 1
    customer = factories.customer("martina")
    services.notify(
        customer, kind=NotificationKind.ANNOUNCEMENT, title="Welcome", dedupe_key="a", email=False
    )
    page = page_for(customer)
    page.add_init_script(f"window.TESSERA_LIVE_HOST = {asgi_server.host!r};")
    # Each request the bell makes, and whether the socket was live at the time.
    page.add_init_script(
        """window.bellPolls = [];
        document.addEventListener("htmx:beforeRequest", function (event) {
          if (event.detail.elt.id === "notification-bell") window.bellPolls.push(!!window.tesseraBellLive);
        });"""
    )
    page.goto("/")
    wait_until(page, "window.tesseraBellLive === true")

    services.notify(
        customer,
        kind=NotificationKind.INCIDENT,
        title="Frankfurt network outage",
        dedupe_key="incident:1",
        email=False,
    )
    bell = page.locator("#notification-bell")
    bell.locator(".notif-count", has_text="2").wait_for()  # no reload
    assert bell.get_attribute("aria-label") == "Notifications: 2 unread"
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    page.wait_for_timeout(1500)  # longer than the polling interval: a poll would have happened by now
    assert page.evaluate("window.bellPolls.filter(Boolean).length") == 0  # none while the socket was live

    # The websocket server goes away: polling takes over and the bell keeps following.
    asgi_server.stop()
    wait_until(page, "window.tesseraBellLive === false")
    services.mark_all_read(actor=customer)
    page.locator("#notification-bell:not(:has(.notif-count))").wait_for()
    assert page.evaluate("window.bellPolls.length") > 0  # it was the fallback polling that fetched it
    assert bell.get_attribute("aria-label") == "Notifications: none unread"


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
    wait_until(page, "document.querySelectorAll('.notif-item.is-unread').length === 2")
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
    page.goto("/profile")  # the client area's old preferences page: now part of the account settings
    page.wait_for_url("**/account/")
    page.get_by_label("Invoices and orders").fill("invoices@example.com")
    page.locator("#address-billing").get_by_role("button", name="Send confirmation link").click()
    page.get_by_text("We sent a confirmation link to invoices@example.com").wait_for()
    assert page.locator("#address-billing").get_by_text("Waiting for confirmation").is_visible()

    page.get_by_label("Your name").fill("Martina Rossi")
    page.get_by_label("Time zone", exact=True).select_option("Europe/Rome")
    page.locator("#id_language").select_option("en")
    page.locator("#profile").get_by_role("button", name="Save").click()
    page.get_by_text("Your preferences were saved.").wait_for()
    customer.refresh_from_db()
    assert (customer.full_name, customer.time_zone) == ("Martina Rossi", "Europe/Rome")
    assert page.locator(".topbar-user").inner_text() == "Martina Rossi"

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
