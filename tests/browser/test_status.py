"""The public status page in a real browser, in two languages, at desktop and phone width."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from tessera.core import clock
from tessera.status import services
from tests import factories
from tests.browser.conftest import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def _status_page_data() -> None:
    admin = factories.admin()
    made = {
        name: services.create_component(actor=admin, group=group, name=name, order=i)
        for i, (group, name) in enumerate(
            (("Dedicated servers", "Frankfurt"), ("Dedicated servers", "Amsterdam"), ("VPS", "Milano"))
        )
    }
    services.post_incident(
        actor=admin,
        title="Packet loss on VPS Milano",
        body="We are investigating packet loss affecting some VPS in Milano.",
        components=[made["Milano"]],
        impact="major",
        component_state="partial_outage",
    )
    services.schedule_maintenance(
        actor=admin,
        title="Network upgrade in Frankfurt",
        description="Core routers are upgraded.",
        starts_at=clock.now() + timedelta(days=2),
        ends_at=clock.now() + timedelta(days=2, hours=2),
        components=[made["Frankfurt"]],
    )


def test_public_status_page_in_english_and_italian(
    page_for: Callable[..., Any], shoot: Callable[[Any, str], None]
) -> None:
    _status_page_data()
    page = page_for(locale="en-GB")
    page.goto("/status/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Service status", level=1).is_visible()
    assert "Partial outage" in page.locator(".status-overall").inner_text()
    assert page.get_by_role("link", name="Packet loss on VPS Milano").is_visible()
    bars = page.get_by_role("img")
    assert bars.count() >= 3
    # The picture has a text alternative naming the component and its uptime.
    assert "Frankfurt" in (page.locator("svg.uptime-bar title").first.text_content() or "")
    # The browser's zone (Europe/Rome, set by the fixture) replaces the server's UTC after the script runs.
    wait_until(page, "document.querySelector('.status-zone').textContent === 'Europe/Rome'")
    assert "Europe/Rome" in page.locator(".status-zone").first.inner_text()
    shoot(page, "status-page-en")

    italian = page_for(locale="it-IT", width=390)
    italian.goto("/status/")
    assert italian.locator("html").get_attribute("lang") == "it"
    # Django's own Italian catalogue and formats apply at once (dates with Italian month names).
    assert (
        italian.locator(".status-window time").first.inner_text()
        != page.locator(".status-window time").first.inner_text()
    )
    italian.get_by_role("link", name="Packet loss on VPS Milano").click()
    assert italian.get_by_text("We are investigating packet loss").is_visible()
    italian.go_back()
    shoot(italian, "status-page-it")


def test_anonymous_visitor_switches_the_language_without_a_csrf_token(page_for: Callable[..., Any]) -> None:
    _status_page_data()
    page = page_for(locale="en-GB")
    page.goto("/status/")
    assert page.locator('input[name="csrfmiddlewaretoken"]').count() == 0
    with page.expect_navigation():
        page.get_by_label("Language").select_option("it")
    assert page.url.endswith("/status/")
    assert page.locator("html").get_attribute("lang") == "it"
    assert page.get_by_role("link", name="Packet loss on VPS Milano").is_visible()
    page.reload()  # remembered in the language cookie
    assert page.locator("html").get_attribute("lang") == "it"
    assert page.get_by_label("Lingua").input_value() == "it"
