"""The customer sees in the client area when to expect an answer: the first-response time, or the
time by which the request will be looked at when that is the only promise (issue 19)."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from tessera.core import clock
from tessera.tickets import services
from tests import factories as f
from tests.sla.conftest import FrozenClock, rome

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    """tessera's clock pinned (the live server runs in this process): Mon 16 Nov 2026 09:00 Rome."""
    fake = FrozenClock()
    monkeypatch.setattr(clock, "now", fake)
    return fake


def _it(message: str) -> str:
    with translation.override("it"):
        return translation.gettext(message)


def test_the_customer_sees_when_to_expect_an_answer(
    page_for: Any, frozen_clock: FrozenClock, shoot: Any
) -> None:
    frozen = frozen_clock
    customer = f.customer(language="it")
    customer.time_zone = "Europe/Rome"
    customer.save(update_fields=["time_zone"])
    billing = f.ticket(
        customer, dept="billing", prio="high"
    )  # Mon 16 Nov 09:00: a reply within 1 business hour
    technical = f.ticket(customer, dept="technical", prio="high")  # looked at within 1 business hour
    page = page_for(customer, locale="it-IT")

    page.goto(f"/tickets/{billing.reference}")
    box = page.locator("#expected-response")
    assert box.get_attribute("data-target") == "first_response"
    assert _it("We aim to reply by") in box.inner_text()
    assert box.locator("time").get_attribute("datetime") == "2026-11-16T10:00:00+01:00"
    shoot(page, "portal-expected-reply")

    page.goto(f"/tickets/{technical.reference}")
    box = page.locator("#expected-response")
    assert box.get_attribute("data-target") == "acknowledge"
    assert _it("We will look at your request by") in box.inner_text()
    assert box.locator("time").get_attribute("datetime") == "2026-11-16T10:00:00+01:00"

    frozen.set(rome(2026, 11, 16, 9, 20))
    services.add_note(actor=f.agent("technical"), ticket=technical, body="Checking the VPS.")
    page.reload()
    assert _it("We looked at your request") in page.locator("#expected-response").inner_text()
