"""Issue 3, scenarios 2, 3 and 4, plus the live banner: an agent in the workspace and a customer in the
portal, each in their own browser context, against the same live server."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tessera.accounts.models import User
from tessera.tickets import services
from tessera.tickets.models import Channel, Status, Ticket
from tessera.workspace.models import CannedResponse
from tests import factories
from tests.browser.conftest import AsgiServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def png(width: int = 160, height: int = 96) -> bytes:
    """A real PNG (a colour gradient), so the preview in the screenshot shows something."""
    import struct
    import zlib

    rows = b"".join(
        b"\x00" + b"".join(bytes((40 + x, 70 + y, 211)) for x in range(width)) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def test_scenario_2_agent_asks_for_information_and_customer_answers(page_for: Any, shoot: Any) -> None:
    carla = factories.customer("carla rossi")
    from django.core.files.uploadedfile import SimpleUploadedFile

    ticket = factories.ticket(
        carla,
        subject="VPS unreachable since this morning",
        description="SSH times out since 8:00. The web site on the same server still answers.",
        prio="high",
        details={"affected_service": "VPS Milano 2", "server_ip": "203.0.113.10"},
        files=[SimpleUploadedFile("ssh-timeout.png", png())],
    )
    services.add_reply(actor=carla, ticket=ticket, body="It also happens from my phone's network.")
    factories.ticket(carla, subject="Old invoice question", dept="billing")
    agent = factories.agent("technical", name="tomasz nowak")
    CannedResponse.objects.create(
        title="Ask for the server", body="Hello {{ requester first name }}, which server?"
    )

    desk = page_for(agent)
    desk.goto("/agent/")
    desk.get_by_role("link", name=re.compile("^Technical")).click()
    expect(desk.get_by_role("heading", name="Technical")).to_be_visible()
    shoot(desk, "workspace-queue")
    desk.keyboard.press("j")  # keyboard: first row, then open it
    desk.keyboard.press("Enter")
    expect(desk.get_by_role("heading", name=re.compile("VPS unreachable"))).to_be_visible()
    expect(desk.get_by_role("img", name="ssh-timeout.png")).to_be_visible()  # preview through the API

    desk.get_by_label("Status").select_option("waiting")
    desk.get_by_label("Reason, or the question for the customer").fill("Which server IP is affected?")
    desk.get_by_role("button", name="Change status").click()
    expect(desk.get_by_text("Status changed.")).to_be_visible()
    expect(desk.locator(".ws-ticket-header .badge-status-waiting")).to_have_text("Waiting on customer")
    desk.evaluate("window.scrollTo(0, 0)")
    shoot(desk, "workspace-ticket")

    portal = page_for(carla)
    portal.goto(f"/tickets/{ticket.reference}")
    prompt = portal.locator("#waiting-prompt")
    expect(prompt).to_contain_text("We need more information from you")
    expect(prompt).to_contain_text("Which server IP is affected?")
    portal.locator("#reply textarea").fill("It is 203.0.113.10.")
    portal.locator("#reply").get_by_role("button", name="Send reply").click()
    expect(portal.get_by_text("It is 203.0.113.10.").first).to_be_visible()
    assert Ticket.objects.get(pk=ticket.pk).status == Status.OPEN

    desk.reload()
    expect(desk.get_by_text("It is 203.0.113.10.")).to_be_visible()
    expect(desk.locator(".ws-ticket-header .badge-status-open")).to_be_visible()


def test_scenario_3_priority_change_with_a_reason_reaches_the_customer(page_for: Any) -> None:
    carla = factories.customer("carla")
    ticket = factories.ticket(carla, subject="Backups failing", prio="medium")
    agent = factories.agent("technical")

    desk = page_for(agent)
    desk.goto(f"/agent/tickets/{ticket.pk}/")
    desk.get_by_label("Priority", exact=True).select_option("critical")
    desk.get_by_role("button", name="Change priority").click()  # the reason is required
    expect(desk.locator(".ws-ticket-header .badge-priority")).to_have_text("Medium")
    desk.get_by_label("Reason (the customer sees it)").fill("Every customer backup on this node is affected")
    desk.get_by_role("button", name="Change priority").click()
    expect(desk.locator(".ws-ticket-header .badge-priority")).to_have_text("Critical")
    expect(desk.get_by_text("changed the priority from Medium to Critical")).to_be_visible()

    portal = page_for(carla)
    portal.goto(f"/tickets/{ticket.reference}")
    expect(portal.locator(".badge-priority").first).to_have_text("Critical")
    expect(portal.get_by_text("Every customer backup on this node is affected")).to_be_visible()


def test_scenario_4_phone_call_for_a_contact_shows_in_their_portal(page_for: Any, shoot: Any) -> None:
    marta = factories.customer("marta kowalska")
    factories.customer("martin other")
    agent = factories.agent("technical")

    desk = page_for(agent)
    desk.goto("/agent/")
    desk.get_by_role("link", name="Log a phone call").click()
    desk.get_by_label("Find the caller by name, email or phone").press_sequentially("kowal")
    desk.get_by_text(marta.email).click()  # search as you type
    desk.get_by_label("Department").select_option("technical")
    desk.get_by_label("Subject").fill("Phone: mail server rejects attachments")
    desk.get_by_label("What the caller said").fill("Marta called: attachments over 5 MB bounce.")
    shoot(desk, "workspace-phone")
    desk.get_by_role("button", name="Create ticket").click()
    expect(desk.get_by_role("heading", name=re.compile("mail server rejects attachments"))).to_be_visible()
    ticket = Ticket.objects.get(subject="Phone: mail server rejects attachments")
    assert ticket.channel == Channel.PHONE and ticket.requester == marta and ticket.submitted_by == agent

    portal = page_for(marta)
    portal.goto("/")
    expect(portal.get_by_text("Phone: mail server rejects attachments")).to_be_visible()
    portal.get_by_text("Phone: mail server rejects attachments").click()
    expect(portal.get_by_text("Marta called: attachments over 5 MB bounce.")).to_be_visible()


def test_phone_call_from_a_caller_who_is_not_a_contact_yet(page_for: Any, shoot: Any) -> None:
    rossi = factories.organisation("Rossi Costruzioni")
    factories.customer("carla rossi")
    agent = factories.agent("technical", name="anna")

    desk = page_for(agent)
    desk.goto("/agent/phone")
    # The agent starts writing down the call, then looks for the caller: nobody matches.
    desk.get_by_label("Subject").fill("Phone: webmail refuses the password")
    desk.get_by_label("What the caller said").fill("Giulia called: webmail says wrong password since 9:00.")
    desk.get_by_label("Find the caller by name, email or phone").press_sequentially("Giulia Verdi")
    expect(desk.get_by_text("No contact matches.")).to_be_visible()
    desk.get_by_role("button", name="Create “Giulia Verdi” as a new contact").click()

    new_contact = desk.locator("#caller")
    expect(new_contact.get_by_label("Name")).to_have_value("Giulia Verdi")  # the search text, kept
    expect(new_contact.get_by_label("Email")).to_be_focused()  # the next field to fill
    # htmx focuses [autofocus] again when the swap settles (on a timer): typing before then, on a slow
    # machine, put the phone number into the email field.
    expect(desk.locator(".htmx-added, .htmx-settling, .htmx-swapping")).to_have_count(0)
    new_contact.get_by_label("Email").fill("giulia.verdi@")
    new_contact.get_by_label("Phone").fill("+39 06 5550101")
    new_contact.get_by_label("Organisation").select_option(label="Rossi Costruzioni")
    new_contact.get_by_label("Language").select_option("it")
    new_contact.get_by_label("Time zone").select_option("Europe/Rome")
    new_contact.get_by_role("button", name="Create contact").click()
    expect(new_contact.get_by_text("Enter a valid email address.")).to_be_visible()
    expect(new_contact.get_by_label("Email")).to_be_focused()
    expect(desk.locator(".htmx-added, .htmx-settling, .htmx-swapping")).to_have_count(0)
    shoot(desk, "workspace-phone-new-contact")
    assert not User.objects.filter(full_name="Giulia Verdi").exists()

    new_contact.get_by_label("Email").fill("giulia.verdi@example.it")
    new_contact.get_by_label("Email").press("Enter")  # Enter creates the contact, not the ticket
    expect(new_contact.get_by_text("New contact created.")).to_be_visible()
    expect(new_contact.locator(".ws-chosen")).to_be_focused()
    expect(new_contact).to_contain_text("giulia.verdi@example.it")
    # What the agent typed about the call is still there.
    expect(desk.get_by_label("Subject")).to_have_value("Phone: webmail refuses the password")
    expect(desk.get_by_label("What the caller said")).to_have_value(
        "Giulia called: webmail says wrong password since 9:00."
    )
    assert not Ticket.objects.exists()
    shoot(desk, "workspace-phone-contact-created")

    desk.get_by_role("button", name="Create ticket").click()
    expect(desk.get_by_role("heading", name=re.compile("webmail refuses the password"))).to_be_visible()
    expect(desk.get_by_text("Phone call logged")).to_be_visible()
    giulia = User.objects.get(email="giulia.verdi@example.it")
    assert (giulia.full_name, giulia.phone, giulia.organisation, giulia.language, giulia.time_zone) == (
        "Giulia Verdi",
        "+39 06 5550101",
        rossi,
        "it",
        "Europe/Rome",
    )
    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.PHONE and ticket.requester == giulia and ticket.submitted_by == agent
    assert ticket.department.slug == "technical"  # the agent's own department was preselected


def test_live_banner_warns_before_a_conflicting_reply(
    page_for: Any, asgi_server: AsgiServer, settings: Any
) -> None:
    settings.TESSERA_LIVE_POLL_SECONDS = 0.5
    carla = factories.customer("carla")
    ticket = factories.ticket(carla, subject="Certificate expired")
    agent = factories.agent("technical", name="anna")
    colleague = factories.agent("technical", name="tomasz")

    desk = page_for(agent)
    desk.add_init_script(f"window.TESSERA_LIVE_HOST = {asgi_server.host!r};")
    desk.goto(f"/agent/tickets/{ticket.pk}/")
    desk.get_by_label("Message").fill("I renewed it for you.")
    services.add_reply(actor=colleague, ticket=Ticket.objects.get(pk=ticket.pk), body="Renewed, all good.")

    banner = desk.locator("#live-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Tomasz replied")

    # Sending anyway is refused by the version check, and the draft survives.
    desk.get_by_role("button", name="Send reply").click()
    expect(desk.get_by_text("Not sent: someone changed this ticket first.")).to_be_visible()
    expect(desk.get_by_label("Message")).to_have_value("I renewed it for you.")
    expect(desk.get_by_text("Renewed, all good.")).to_be_visible()
    assert not ticket.messages.filter(body="I renewed it for you.").exists()
