"""No silent loss, no silent change (issue 17): messages delivered to the real SMTP/LMTP listener, results
read through the API. Dedupe on content, clean display names, every text part, zip-based formats, TNEF,
HTML/SVG kept as downloads, every refusal shown to agents on the ticket and told to the customer in their
language, quoted history folded for the major clients in four languages; RFC 3834 (no acknowledgement for
automatic or suppressing mail, one per sender per window) and bounces shown on the ticket."""

from __future__ import annotations

import re
import smtplib
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest

from tessera.accounts.models import User
from tessera.core.worker import run_pending_tasks
from tessera.mail.inbound.smtp import start_listener
from tessera.mail.models import InboundMessage, OutboundEmail
from tessera.tickets import access, services
from tessera.tickets.models import Ticket
from tests import factories
from tests.mail import corpus
from tests.mail.conftest import free_port

pytestmark = pytest.mark.django_db(transaction=True)
Status = InboundMessage.Status
Deliver = Callable[..., InboundMessage]
ACK = "ticket/ticket_received"


@pytest.fixture
def deliver() -> Iterator[Deliver]:
    """Send a message to the real listener (SMTP or LMTP on loopback), process it, return its row."""
    listeners: dict[str, tuple[Any, int]] = {}

    def send(raw: bytes, *, via: str = "smtp", sender: str = "client@example.com") -> InboundMessage:
        if via not in listeners:
            port = free_port()
            listeners[via] = (start_listener(f"{via}://127.0.0.1:{port}"), port)
        port = listeners[via][1]
        before = InboundMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        client = smtplib.LMTP("127.0.0.1", port) if via == "lmtp" else smtplib.SMTP("127.0.0.1", port)
        try:
            # On the wire every line ends in CRLF (smtplib sends bytes as they are).
            wire = re.sub(rb"\r?\n", b"\r\n", raw)
            assert client.sendmail(sender, ["support@tessera.localhost"], wire) == {}
        finally:
            client.quit()
        run_pending_tasks()
        row = InboundMessage.objects.filter(pk__gt=before).order_by("-pk").first()
        if row is None:  # a re-delivery: the listener answered with the first row
            row = InboundMessage.objects.order_by("-pk").first()
        assert row is not None
        return row

    yield send
    for controller, _port in listeners.values():
        controller.stop()


def detail(api_as: Any, user: User, ticket_id: int) -> dict[str, Any]:
    response = api_as(user).get(f"/tickets/{ticket_id}")
    assert response.status_code == 200, response.content
    result: dict[str, Any] = response.json()
    return result


def acks_to(address: str) -> list[OutboundEmail]:
    return [
        e for e in OutboundEmail.objects.all() if (e.render or {}).get("template") == ACK and e.to == address
    ]


# Hostile and malformed content ---------------------------------------------------------------------------

# name: (files kept, files refused with a word of the reason, text the ticket must keep, acknowledged)
EXPECTED: dict[str, tuple[set[str], dict[str, str], list[str], bool]] = {
    "crlf-in-display-name": (set(), {}, ["203.0.113.10"], True),
    "c1-controls-in-name": (set(), {}, ["203.0.113.10"], True),
    "several-text-parts-lying-charset": (
        {"login.png"},
        {},
        ["First: the login page.", "Druga część: błąd łódź.", "Third: café crème."],
        True,
    ),
    "zip-archive": ({"logs.zip"}, {}, [], True),
    "docx-xlsx-odt": ({"letter.docx", "budget.xlsx", "minutes.odt"}, {}, [], True),
    "jar-program": (set(), {"tool.jar": "program"}, [], True),
    "apk-program": (set(), {"app.apk": "program"}, [], True),
    "jar-named-zip": (set(), {"innocent.zip": "program"}, [], True),
    "docx-that-is-a-zip": (set(), {"letter.docx": "not what its name says"}, [], True),
    "exe-named-pdf": (set(), {"invoice.pdf": "program"}, [], True),
    "html-report-with-script": ({"report.html"}, {}, [], True),
    "svg-with-script": ({"chart.svg"}, {}, [], True),
    "winmail-with-files": ({"quote.pdf"}, {}, ["See the quote."], True),
    "winmail-truncated": ({"winmail.dat"}, {}, [], True),
    "empty-attachment": (set(), {"scan.pdf": "empty"}, ["The file is attached."], True),
    "oversized-body": (set(), {}, ["shortened"], True),
    "path-in-file-name": ({"passwd.txt"}, {}, [], True),
    "auto-response-suppress-all": (set(), {}, [], False),
    "auto-response-suppress-oof": (set(), {}, [], False),
    "precedence-junk": (set(), {}, [], False),
    "precedence-list": (set(), {}, [], False),
}


def test_every_hostile_message_has_its_expectation() -> None:
    assert set(EXPECTED) == set(corpus.HOSTILE_CONTENT)


@pytest.mark.parametrize("name", sorted(corpus.HOSTILE_CONTENT))
def test_hostile_content_is_processed_and_every_loss_is_shown_on_the_ticket(
    deliver: Deliver, api_as: Any, smtp_sink: Any, name: str
) -> None:
    kept, refused, texts, acknowledged = EXPECTED[name]
    row = deliver(corpus.HOSTILE_CONTENT[name], via="lmtp" if len(name) % 2 else "smtp")
    assert row.status == Status.PROCESSED, row.error
    assert row.ticket_id is not None
    agent = factories.agent("technical")
    ticket = detail(api_as, agent, row.ticket_id)
    files = {a["filename"]: a["content_type"] for a in ticket["attachments"]}
    assert set(files) == kept
    everything = ticket["description"] + "".join(e["reason"] for e in ticket["timeline"])
    for text in texts:
        assert text in everything
    dropped = [e for e in ticket["timeline"] if e["kind"] == "mail_content_dropped"]
    if refused or name in ("empty-attachment", "oversized-body"):
        [event] = dropped
        for filename, why in refused.items():
            assert filename in event["reason"] and why in event["reason"]
        # Agent-only: the customer's view of the same ticket has no such event.
        requester = Ticket.objects.get(pk=row.ticket_id).requester
        assert "mail_content_dropped" not in {
            e["kind"] for e in detail(api_as, requester, row.ticket_id)["timeline"]
        }
    else:
        assert dropped == []
    run_pending_tasks()
    assert bool(smtp_sink.to(row.sender)) == acknowledged
    if "report.html" in files:
        assert files["report.html"] == "text/html"
    if "chart.svg" in files:
        assert files["chart.svg"] == "image/svg+xml"


def test_control_characters_in_the_display_name_are_cleaned_never_failing_the_mail(
    deliver: Deliver, smtp_sink: Any
) -> None:
    row = deliver(corpus.control_character_name(address="eve@example.com"))
    assert row.status == Status.PROCESSED, row.error
    eve = User.objects.get(email="eve@example.com")
    assert eve.full_name == "Eve Bcc: victim@example.com"
    run_pending_tasks()
    [ack] = smtp_sink.to("eve@example.com")
    assert smtp_sink.to("victim@example.com") == [] and "\n" not in str(ack["To"])


@pytest.mark.parametrize("via", ["smtp", "lmtp"])
def test_a_different_message_reusing_a_message_id_is_its_own_message(deliver: Deliver, via: str) -> None:
    first = deliver(
        corpus.reused_message_id("<same@broken.example>", subject="Printer", body="Jammed."), via=via
    )
    second = deliver(
        corpus.reused_message_id("<same@broken.example>", subject="Mail", body="Bounces."), via=via
    )
    assert first.pk != second.pk
    assert first.status == second.status == Status.PROCESSED
    assert {first.ticket.subject, second.ticket.subject} == {"Printer", "Mail"}  # type: ignore[union-attr]
    raw = corpus.plain(subject="Once")
    once = deliver(raw, via=via)
    again = deliver(b"Received: from relay.example by mx; Mon, 2 Mar 2026\r\n" + raw, via=via)
    assert again.pk == once.pk and Ticket.objects.filter(subject="Once").count() == 1


def test_acknowledgement_names_refused_files_in_the_customers_language(
    deliver: Deliver, smtp_sink: Any
) -> None:
    for language, word in (
        ("it", "non sono stati accettati"),
        ("pl", "nie zostały przyjęte"),
        ("fr", "refusés"),
    ):
        customer = factories.customer("anna", language=language)
        deliver(
            corpus.with_files(
                {
                    "tool.jar": corpus.ZIP_FORMATS["tool.jar"],
                    "photo.png": corpus.PNG,
                    "invoice.pdf": corpus.EXE,
                },
                sender=customer.email,
            )
        )
        run_pending_tasks()
        [ack] = smtp_sink.to(customer.email)
        text = ack.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert word in text, text
        assert "tool.jar" in text and "invoice.pdf" in text and "photo.png" not in text
        html = ack.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert "tool.jar" in html


# Quoted history ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "it", "pl", "fr"])
@pytest.mark.parametrize("client", ["apple", "gmail", "outlook", "thunderbird"])
def test_quoted_history_is_folded_for_each_client_and_language(
    deliver: Deliver, api_as: Any, smtp_sink: Any, client: str, language: str
) -> None:
    customer = factories.customer("carla", language=language)
    agent = factories.agent("technical")
    row = deliver(corpus.plain(sender=customer.email, subject="VPN down"))
    assert row.ticket is not None
    services.add_reply(actor=agent, ticket=row.ticket, body="We restarted the VPN gateway; please try again.")
    run_pending_tasks()
    [answer] = [m for m in smtp_sink.to(customer.email) if "restarted" in str(m.get_body(("plain",)))]
    own = "Still failing: error 809 on Windows 11."
    reply = deliver(
        corpus.html_reply(answer, sender=customer.email, body=own, client=client, language=language),
        via="lmtp" if client in ("apple", "outlook") else "smtp",
    )
    assert reply.status == Status.PROCESSED and reply.ticket_id == row.ticket_id, reply.error
    messages = detail(api_as, agent, row.ticket_id)["messages"]
    assert messages[-1]["author"]["email"] == customer.email
    assert messages[-1]["body"] == own  # neither the quote nor its attribution line


# Automatic replies and acknowledgements (RFC 3834) -------------------------------------------------------


def test_one_acknowledgement_per_sender_per_window_independent_of_the_storm_limit(
    deliver: Deliver, api_as: Any, smtp_sink: Any, settings: Any
) -> None:
    settings.TESSERA_MAIL_SENDER_LIMIT = 100
    rows = [deliver(corpus.plain(sender="busy@example.com", subject=f"Issue {i}")) for i in range(4)]
    assert [r.status for r in rows] == [Status.PROCESSED] * 4
    run_pending_tasks()
    assert len(smtp_sink.to("busy@example.com")) == 1
    assert "No acknowledgement" in " ".join(rows[-1].notes)
    other = deliver(corpus.plain(sender="other@example.com"))
    run_pending_tasks()
    assert len(smtp_sink.to("other@example.com")) == 1 and other.status == Status.PROCESSED
    settings.TESSERA_MAIL_ACK_WINDOW_SECONDS = 0  # the window has passed
    deliver(corpus.plain(sender="busy@example.com", subject="Issue 5"))
    run_pending_tasks()
    assert len(smtp_sink.to("busy@example.com")) == 2


@pytest.mark.parametrize("value", ["All", "AutoReply", "OOF", "DR, OOF", "autoreply"])
def test_auto_response_suppress_is_honoured(deliver: Deliver, smtp_sink: Any, value: str) -> None:
    row = deliver(corpus.plain(sender="app@example.com", extra={"X-Auto-Response-Suppress": value}))
    assert row.status == Status.PROCESSED and row.ticket is not None
    run_pending_tasks()
    assert smtp_sink.to("app@example.com") == []


def test_suppress_values_that_do_not_ask_for_silence_still_get_an_acknowledgement(
    deliver: Deliver, smtp_sink: Any
) -> None:
    deliver(corpus.plain(sender="app@example.com", extra={"X-Auto-Response-Suppress": "DR, RN, NRN"}))
    run_pending_tasks()
    assert len(smtp_sink.to("app@example.com")) == 1


# Bounces -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers_only", [True, False])
def test_a_bounce_is_shown_on_the_ticket_and_later_mail_is_marked_not_sent(
    deliver: Deliver, api_as: Any, smtp_sink: Any, headers_only: bool
) -> None:
    customer = factories.customer("gone")
    agent = factories.agent("technical")
    row = deliver(corpus.plain(sender=customer.email, subject="Backup failed"))
    assert row.ticket is not None
    services.add_reply(actor=agent, ticket=row.ticket, body="Which backup job?")
    run_pending_tasks()
    [answer] = [m for m in smtp_sink.to(customer.email) if "Which backup" in str(m.get_body(("plain",)))]
    bounce = deliver(corpus.bounce_of(answer, customer.email, headers_only=headers_only))
    assert bounce.status == Status.IGNORED and bounce.ticket_id is None
    timeline = detail(api_as, agent, row.ticket_id)["timeline"]
    [bounced] = [e for e in timeline if e["kind"] == "email_bounced"]
    assert customer.email in bounced["reason"] and "5.1.1" in bounced["reason"]
    assert OutboundEmail.objects.get(message_id=answer["Message-ID"]).delivery_status == "bounced"

    smtp_sink.clear()
    services.add_reply(actor=agent, ticket=Ticket.objects.get(pk=row.ticket_id), body="Are you there?")
    run_pending_tasks()
    assert smtp_sink.to(customer.email) == []
    timeline = detail(api_as, agent, row.ticket_id)["timeline"]
    [not_sent] = [e for e in timeline if e["kind"] == "email_not_sent"]
    assert "the address bounces" in not_sent["reason"] and customer.email in not_sent["reason"]
    seen_by_customer = {e["kind"] for e in detail(api_as, customer, row.ticket_id)["timeline"]}
    assert not seen_by_customer & {"email_bounced", "email_not_sent"}


def test_mail_delivery_events_are_agent_only_in_the_access_module() -> None:
    assert access.AGENT_ONLY_MAIL_EVENT_KINDS
    assert not access.AGENT_ONLY_MAIL_EVENT_KINDS & access.CUSTOMER_EVENT_KINDS


@pytest.mark.parametrize(("language", "word"), [("en", "were not accepted"), ("pl", "nie zostały przyjęte")])
def test_a_reply_with_refused_files_is_added_and_the_customer_is_told_which_and_why(
    deliver: Deliver, api_as: Any, smtp_sink: Any, language: str, word: str
) -> None:
    customer = factories.customer("carla", language=language)
    row = deliver(corpus.plain(sender=customer.email, subject="Crash on start"))
    assert row.ticket is not None
    run_pending_tasks()
    [ack] = smtp_sink.to(customer.email)
    smtp_sink.clear()
    answer = EmailMessage()
    answer["From"] = customer.email
    answer["To"] = str(ack.get("Reply-To") or ack["From"])
    answer["Subject"] = f"Re: {ack['Subject']}"
    answer["Message-ID"] = make_msgid(domain="client.example")
    answer["In-Reply-To"] = ack["Message-ID"]
    answer["References"] = f"{ack.get('References', '')} {ack['Message-ID']}".strip()
    answer["Authentication-Results"] = corpus.AUTH_PASS
    answer.set_content("Here is the tool that crashes.")
    answer.add_attachment(
        corpus.ZIP_FORMATS["tool.jar"], maintype="application", subtype="octet-stream", filename="tool.jar"
    )
    answer.add_attachment(corpus.PNG, maintype="image", subtype="png", filename="crash.png")
    reply = deliver(answer.as_bytes())
    assert reply.status == Status.PROCESSED and reply.ticket_id == row.ticket_id, reply.error
    ticket = detail(api_as, factories.agent("technical"), row.ticket_id)
    assert ticket["messages"][-1]["body"] == "Here is the tool that crashes."
    assert [a["filename"] for a in ticket["attachments"]] == ["crash.png"]
    [dropped] = [e for e in ticket["timeline"] if e["kind"] == "mail_content_dropped"]
    assert "tool.jar" in dropped["reason"]
    run_pending_tasks()
    [notice] = smtp_sink.to(customer.email)
    text = notice.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert word in text and "tool.jar" in text and "crash.png" not in text
    assert ticket["reference"] in str(notice["Subject"])
