"""Screenshots of the client area's main pages at desktop and phone width (artifacts/screenshots/)."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.tickets import services
from tessera.tickets.models import Status
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def test_screenshots_of_the_client_area(page_for: Any, shoot: Any) -> None:
    acme = factories.organisation("ACME S.p.A.")
    carla = factories.customer("carla", org=acme, manager=True)
    carla.time_zone = "Europe/Rome"
    carla.save(update_fields=["time_zone"])
    agent = factories.agent("technical", name="tomasz")
    vps = factories.ticket(
        carla,
        subject="Cannot reach my VPS over SSH",
        prio="high",
        details={"affected_service": "VPS Milano 2", "server_ip": "203.0.113.10", "frequency": "constant"},
    )
    services.add_reply(
        actor=agent, ticket=vps, body="Thanks Carla. Which key do you use, and from which network?"
    )
    vps.refresh_from_db()
    services.transition_ticket(
        actor=agent, ticket=vps, status=Status.WAITING, reason="Please send the output of ssh -vvv."
    )
    vps.refresh_from_db()
    services.change_priority(
        actor=agent,
        ticket=vps,
        priority=factories.priority("critical"),
        reason="The whole office is affected.",
    )
    factories.ticket(carla, subject="Invoice 2026/118 shows the wrong VAT number", dept="billing", prio="low")
    factories.ticket(
        factories.customer("marek", org=acme), subject="New mailbox for the sales team", prio="medium"
    )

    page = page_for(carla)
    page.goto("/")
    assert page.locator(".alert-warning").is_visible()  # one ticket waits for Carla's answer
    shoot(page, "portal-screen-home")
    page.goto("/?scope=organisation")
    assert page.get_by_text("New mailbox for the sales team").is_visible()
    page.goto(f"/tickets/{vps.reference}")
    assert page.locator("#waiting-prompt").is_visible()
    assert page.get_by_text("The whole office is affected.").is_visible()
    shoot(page, "portal-screen-ticket-waiting")
    page.goto("/tickets/new?department=technical")
    shoot(page, "portal-screen-new-ticket")
    page.goto("/account/")
    shoot(page, "portal-screen-preferences")

    anonymous = page_for()
    anonymous.goto("/")
    shoot(anonymous, "portal-screen-welcome")
    anonymous.goto("/accounts/login/")
    shoot(anonymous, "portal-screen-sign-in")
    anonymous.goto("/accounts/signup/")
    shoot(anonymous, "portal-screen-sign-up")
