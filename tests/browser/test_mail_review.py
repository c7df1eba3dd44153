"""The mail review queue and the security log in a real browser: a spoofed message with hostile HTML is
shown as inert text, an agent rejects one, an admin releases one as the claimed sender, the log lists and
exports both decisions."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tessera.core.worker import run_pending_tasks
from tessera.mail.inbound.store import store_raw
from tessera.mail.models import InboundMessage, SecurityEvent
from tests import factories
from tests.mail import corpus

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

HOSTILE = (
    '<p>Reset my password</p><img src="http://203.0.113.66/pixel.png"><script>window.pwned = 1</script>'
    '<a href="javascript:alert(1)">x</a>'
)


def _held(sender: str, subject: str, body: str) -> InboundMessage:
    raw = corpus.with_auth(
        sender=sender,
        stamps=["mx.tessera.test; spf=fail smtp.mailfrom=example.com; dmarc=fail header.from=example.com"],
        subject=subject,
    ).replace(b"Please cancel my server today and refund me to IBAN XX00 0000.", body.encode())
    row, _created = store_raw(raw, source="smtp", envelope_to=["support@tessera.localhost"])
    run_pending_tasks()
    row.refresh_from_db()
    assert row.status == InboundMessage.Status.QUARANTINED, row.error
    return row


def test_review_queue_shows_hostile_mail_inert_and_records_each_decision(
    page_for: Any, settings: Any, live_server: Any, shoot: Any
) -> None:
    settings.TESSERA_MAIL_AUTHSERV_ID = "mx.tessera.test"
    carla = factories.customer("carla")
    ticket = factories.ticket(carla, subject="Printer on fire")
    _held(carla.email, "Password reset", HOSTILE)
    genuine = _held(carla.email, f"Re: [{ticket.reference}] still on fire", "It is still burning.")
    agent = factories.agent("technical")
    admin = factories.admin()

    page = page_for(agent)
    remote: list[str] = []
    page.on(
        "request",
        lambda request: None if request.url.startswith(live_server.url) else remote.append(request.url),
    )
    page.goto("/agent/mail/review/")
    rows = page.locator("#held-mail tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("DMARC")
    page.get_by_role("link", name="Password reset").click()
    expect(page.locator("#held-reason")).to_contain_text("DMARC check failed")
    # The raw message is text: the markup is shown, never run or loaded.
    expect(page.locator("#held-raw")).to_contain_text("<script>window.pwned = 1</script>")
    assert page.locator("#held-raw img, #held-raw script").count() == 0
    assert page.evaluate("window.pwned === undefined")
    assert remote == []
    # Agents may not vouch for a sender.
    expect(page.locator("#release-sender")).to_have_count(0)
    shoot(page, "mail-review-held")
    page.locator("#reject").click()
    expect(page.locator(".messages")).to_contain_text("Rejected")
    expect(page.locator("#held-mail tbody tr")).to_have_count(1)

    page = page_for(admin)
    page.goto(f"/agent/mail/review/{genuine.pk}/")
    page.locator("#release-sender").click()
    expect(page.locator(".messages")).to_contain_text(f"#{ticket.pk}")
    expect(page.locator("#held-empty")).to_be_visible()
    assert ticket.messages.get().body == "It is still burning."
    page.goto(f"/agent/tickets/{ticket.pk}/")
    expect(page.locator("body")).to_contain_text(
        f"released email from {carla.email} from review as the claimed sender"
    )

    page.goto("/agent/mail/security/")
    events = page.locator("#log-events tbody")
    expect(events).to_contain_text("Rejected")
    expect(events).to_contain_text("Released as the claimed sender")
    expect(page.locator("#log-daily")).to_contain_text(carla.email)
    shoot(page, "mail-security-log")
    with page.expect_download() as download:
        page.locator("#log-export").click()
    with open(download.value.path(), encoding="utf-8") as handle:
        text = handle.read()
    assert text.count(carla.email) == SecurityEvent.objects.filter(sender=carla.email).count() == 4
    assert "released_sender" in text and "rejected" in text

    # The agent cannot read the log.
    agent_page = page_for(agent)
    response = agent_page.goto("/agent/mail/security/")
    assert response is not None and response.status == 403
