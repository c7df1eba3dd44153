"""Sender authentication, reply tokens, third parties, follow-ups and the review queue: real messages
delivered to the real SMTP and LMTP listener, results read through the API."""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tessera.core.worker import run_pending_tasks
from tessera.mail import ids
from tessera.mail.inbound.smtp import start_listener
from tessera.mail.models import InboundMessage, SecurityEvent
from tessera.tickets.models import Ticket
from tests import factories
from tests.mail import corpus
from tests.mail.conftest import free_port

pytestmark = pytest.mark.django_db(transaction=True)
Status = InboundMessage.Status
Deliver = Callable[..., InboundMessage]


@pytest.fixture(params=["smtp", "lmtp"])
def deliver(request: pytest.FixtureRequest) -> Iterator[Deliver]:
    """Send one message to a listener on loopback, run the worker, return its stored row."""
    port = free_port()
    controller = start_listener(f"{request.param}://127.0.0.1:{port}")

    def send(raw: bytes, to: str = "support@tessera.localhost") -> InboundMessage:
        client = (smtplib.LMTP if request.param == "lmtp" else smtplib.SMTP)("127.0.0.1", port, timeout=30)
        try:
            assert client.sendmail("bounce@example.com", [to], raw) == {}
        finally:
            client.quit()
        run_pending_tasks()
        return InboundMessage.objects.order_by("-id")[0]

    yield send
    controller.stop()


def _thread(api: Any, ticket: Ticket) -> dict[str, Any]:
    response = api.get(f"/tickets/{ticket.pk}")
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


def _reply_from(sender: str, ticket: Ticket, body: str = "More details.", **extra: str) -> bytes:
    """A reply to our mail about `ticket` (its signed reply address and Message-ID)."""
    root = ids.thread_root(ticket.pk)
    headers = {"In-Reply-To": root, "References": root, **extra}
    return corpus.plain(
        sender=sender,
        to=ids.reply_address("support@tessera.localhost", ticket.pk),
        subject=f"Re: [{ticket.reference}] {ticket.subject}",
        body=body,
        extra=headers,
    )


# Sender authentication ------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(corpus.hostile_auth_stamps()))
def test_unauthenticated_mail_never_posts_as_the_registered_customer(
    deliver: Deliver, api_as: Any, case: str
) -> None:
    carla = factories.customer("carla")
    ticket = factories.ticket(carla)
    stamps, expected = corpus.hostile_auth_stamps("example.com")[case]
    raw = corpus.with_auth(sender=carla.email, stamps=stamps)
    # A reply on her ticket by its subject tag: what a spoofer of her address would send.
    raw = raw.replace(b"Subject: Cancel my server", f"Subject: Re: [{ticket.reference}] cancel".encode())
    row = deliver(raw)
    assert row.status == Status.QUARANTINED and row.auth == expected, (row.status, row.auth, row.error)
    assert row.ticket is None and Ticket.objects.count() == 1
    reason = {
        "missing": "No Authentication-Results",
        "dmarc_fail": "DMARC",
        "spf_fail": "SPF",
        "no_pass": "No passing",
    }
    assert reason[expected] in row.error
    assert _thread(api_as(carla), ticket)["messages"] == []
    # The review queue shows it with its reason, to an admin.
    held = api_as(factories.admin()).get("/mail/held").json()["items"]
    assert [(item["id"], item["auth"]) for item in held] == [(row.pk, expected)]
    assert held[0]["reason"] == row.error


def test_forged_and_lookalike_stamps_are_logged_and_the_real_stamp_decides(deliver: Deliver) -> None:
    carla = factories.customer("carla")
    stamps, _auth = corpus.hostile_auth_stamps()["forged-pass-below-our-fail"]
    row = deliver(corpus.with_auth(sender=carla.email, stamps=stamps))
    assert row.auth == InboundMessage.Auth.DMARC_FAIL
    kinds = sorted(SecurityEvent.objects.filter(inbound=row).values_list("kind", flat=True))
    assert kinds == ["forged_auth", "spoofing"]  # a registered address failing DMARC is spoofing
    lookalike, _auth = corpus.hostile_auth_stamps()["lookalike-unicode-id"]
    row = deliver(corpus.with_auth(sender="new@example.org", stamps=lookalike))
    kinds = sorted(SecurityEvent.objects.filter(inbound=row).values_list("kind", flat=True))
    assert kinds == ["forged_auth", "unauthenticated"]


@pytest.mark.parametrize(
    "stamp",
    [
        "mx.tessera.test; spf=pass smtp.mailfrom=example.com; dkim=pass header.d=example.com; dmarc=pass",
        # No DMARC record at the sender's domain: an aligned SPF or DKIM pass is enough.
        "mx.tessera.test; spf=pass smtp.mailfrom=bounces.example.com; dmarc=none header.from=example.com",
        "MX.Tessera.Test; spf=fail smtp.mailfrom=list.example; dkim=pass header.d=example.com",
    ],
)
def test_authenticated_customer_reply_joins_her_ticket(deliver: Deliver, api_as: Any, stamp: str) -> None:
    carla = factories.customer("carla")
    ticket = factories.ticket(carla)
    row = deliver(
        corpus.plain(
            sender=carla.email,
            subject=f"Re: [{ticket.reference}] x",
            body="Still down.",
            extra={"Authentication-Results": stamp},
        )
    )
    assert row.status == Status.PROCESSED and row.auth == "pass", row.error
    messages = _thread(api_as(carla), ticket)["messages"]
    assert [(m["body"], m["author"]["id"]) for m in messages] == [("Still down.", carla.pk)]


def test_without_an_authserv_id_mail_is_accepted_and_health_says_so(
    deliver: Deliver, settings: Any, client: Any
) -> None:
    settings.TESSERA_MAIL_AUTHSERV_ID = ""
    row = deliver(corpus.with_auth(sender="carla@example.com", stamps=None))
    assert row.status == Status.PROCESSED and row.auth == ""
    mail = client.get("/health").json()["mail_authentication"]
    assert mail["status"] == "unchecked" and "TESSERA_MAIL_AUTHSERV_ID" in mail["detail"]
    settings.TESSERA_MAIL_AUTHSERV_ID = "mx.tessera.test"
    assert client.get("/health").json()["mail_authentication"]["status"] == "ok"


# Reply tokens and third parties ---------------------------------------------------------------------------


def test_third_party_with_a_valid_token_gets_a_linked_ticket_not_a_seat(
    deliver: Deliver, api_as: Any, smtp_sink: Any
) -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    ticket = factories.ticket(carla)
    run_pending_tasks()
    smtp_sink.clear()  # her acknowledgement
    # A forwarded copy, answered with reply-all: the original requester is in Cc.
    row = deliver(_reply_from("Boss <boss@example.org>", ticket, "Cancel it.", Cc=carla.email))
    assert row.status == Status.PROCESSED, row.error
    assert row.ticket is not None and row.ticket != ticket
    original = _thread(api_as(agent), ticket)
    assert original["messages"] == [] and original["cc"] == []
    linked = [e for e in original["timeline"] if e["kind"] == "linked"]
    assert len(linked) == 1 and linked[0]["new"]["ticket"] == row.ticket.pk
    new = _thread(api_as(agent), row.ticket)
    assert new["requester"]["email"] == "boss@example.org" and new["cc"] == []
    assert [e["new"]["ticket"] for e in new["timeline"] if e["kind"] == "linked"] == [ticket.pk]
    # Carla sees neither the new ticket nor the link.
    assert api_as(carla).get(f"/tickets/{row.ticket.pk}").status_code == 404
    assert not [e for e in _thread(api_as(carla), ticket)["timeline"] if e["kind"] == "linked"]
    run_pending_tasks()
    assert smtp_sink.to(carla.email) == [] and smtp_sink.to(agent.email) == []
    assert SecurityEvent.objects.filter(kind="third_party", sender="boss@example.org").count() == 1


def test_cc_and_agents_still_reply_by_token(deliver: Deliver, api_as: Any) -> None:
    carla = factories.customer("carla")
    colleague = factories.customer("colleague")
    agent = factories.agent("technical")
    ticket = factories.ticket(carla)
    ticket.cc.add(colleague)
    deliver(_reply_from(colleague.email, ticket, "Same here."))
    deliver(_reply_from(agent.email, ticket, "Rebooted."))
    messages = _thread(api_as(carla), ticket)["messages"]
    assert [m["body"] for m in messages] == ["Same here.", "Rebooted."]


def test_agent_outside_the_department_is_held_for_review(deliver: Deliver) -> None:
    carla = factories.customer("carla")
    ticket = factories.ticket(carla)
    outsider = factories.agent("billing")
    row = deliver(_reply_from(outsider.email, ticket, "Refunded."))
    assert row.status == Status.QUARANTINED and "does not work in its department" in row.error
    assert not ticket.messages.exists()


@pytest.mark.parametrize(
    "case", ["uppercase-reply-address", "leading-zero-reply-address", "uppercase-message-id"]
)
def test_tampered_tokens_are_not_honoured_and_are_logged(deliver: Deliver, case: str) -> None:
    carla = factories.customer("carla")
    stranger = factories.customer("stranger")
    ticket = factories.ticket(carla)
    signature = ids.token(ticket.pk).split("-", 1)[1]
    headers = corpus.tampered_tokens(ticket.pk, signature)[case]
    row = deliver(corpus.plain(sender=stranger.email, subject="hello", extra=headers))
    assert row.status == Status.PROCESSED and row.ticket != ticket
    assert not Ticket.objects.filter(pk=ticket.pk, events__kind="linked").exists()
    assert SecurityEvent.objects.filter(inbound=row, kind="bad_token").exists()


def test_a_body_marker_with_non_ascii_digits_is_not_a_token(deliver: Deliver) -> None:
    carla = factories.customer("carla")
    stranger = factories.customer("stranger")
    ticket = factories.ticket(carla)
    signature = ids.token(ticket.pk).split("-", 1)[1]
    digits = "".join(chr(0x0660 + int(d)) for d in str(ticket.pk))  # Arabic-Indic digits
    row = deliver(corpus.plain(sender=stranger.email, body=f"hi tessera-ref:{digits}-{signature}"))
    assert row.ticket != ticket and not ticket.messages.exists()


# Follow-ups -----------------------------------------------------------------------------------------------


def test_follow_up_to_her_own_earlier_message_joins_the_ticket(deliver: Deliver, api_as: Any) -> None:
    carla = factories.customer("carla")
    first = deliver(corpus.plain(sender=carla.email, body="Server down."))
    assert first.ticket is not None
    follow_up = corpus.plain(
        sender=carla.email,
        subject="Re: VPS unreachable",
        body="Forgot: it is 203.0.113.10.",
        extra={"In-Reply-To": first.message_id, "References": first.message_id},
    )
    row = deliver(follow_up)
    assert row.ticket == first.ticket, row.error
    assert [m["body"] for m in _thread(api_as(carla), first.ticket)["messages"]] == [
        "Forgot: it is 203.0.113.10."
    ]
    # Someone else naming the same message opens their own ticket.
    other = deliver(
        corpus.plain(
            sender="eve@example.net",
            subject="Re: VPS unreachable",
            extra={"In-Reply-To": first.message_id, "References": first.message_id},
        )
    )
    assert other.ticket is not None and other.ticket != first.ticket


# Review queue ---------------------------------------------------------------------------------------------


def test_admin_releases_as_the_claimed_sender_and_the_ticket_says_who(deliver: Deliver, api_as: Any) -> None:
    carla = factories.customer("carla")
    ticket = factories.ticket(carla)
    admin = factories.admin()
    agent = factories.agent("technical")
    raw = corpus.with_auth(sender=carla.email, stamps=["mx.tessera.test; spf=softfail; dmarc=none"])
    row = deliver(raw.replace(b"Subject: Cancel my server", f"Subject: Re: [{ticket.reference}]".encode()))
    assert row.status == Status.QUARANTINED and row.department is not None
    # An agent of the department sees it but may not vouch for the sender.
    assert [i["id"] for i in api_as(agent).get("/mail/held").json()["items"]] == [row.pk]
    refused = api_as(agent).post(f"/mail/held/{row.pk}/release", {"how": "sender"})
    assert refused.status_code == 403
    released = api_as(admin).post(f"/mail/held/{row.pk}/release", {"how": "sender"})
    assert released.status_code == 200 and released.json()["status"] == "processed", released.json()
    assert released.json()["ticket_id"] == ticket.pk
    timeline = _thread(api_as(agent), ticket)["timeline"]
    reviewed = [e for e in timeline if e["kind"] == "mail_reviewed"]
    assert len(reviewed) == 1 and reviewed[0]["actor"]["id"] == admin.pk
    assert api_as(admin).get("/mail/held").json()["items"] == []
    log = api_as(admin).get("/mail/security-events", kind="released_sender").json()["items"]
    assert [(e["inbound_id"], e["actor_id"]) for e in log] == [(row.pk, admin.pk)]


def test_release_as_new_contact_never_joins_an_existing_ticket(deliver: Deliver, api_as: Any) -> None:
    carla = factories.customer("carla")
    ticket = factories.ticket(carla)
    agent = factories.agent("technical")
    raw = corpus.with_auth(sender=carla.email, stamps=None)
    row = deliver(raw.replace(b"Subject: Cancel my server", f"Subject: Re: [{ticket.reference}]".encode()))
    released = api_as(agent).post(f"/mail/held/{row.pk}/release", {"how": "contact"}).json()
    assert released["status"] == "processed" and released["ticket_id"] not in (None, ticket.pk)
    assert not ticket.messages.exists()


def test_attach_and_reject_are_audited_and_idempotent(deliver: Deliver, api_as: Any) -> None:
    carla = factories.customer("carla")
    ticket = factories.ticket(carla)
    agent = factories.agent("technical")
    outsider = factories.agent("billing")
    first = deliver(corpus.with_auth(sender="someone@example.org", stamps=None, subject="first"))
    second = deliver(corpus.with_auth(sender="someone@example.org", stamps=None, subject="second"))
    # Another department's agent neither sees nor touches them.
    assert api_as(outsider).get("/mail/held").json()["items"] == []
    assert api_as(outsider).post(f"/mail/held/{first.pk}/reject").status_code == 404
    attached = api_as(agent).post(f"/mail/held/{first.pk}/attach", {"ticket": ticket.pk})
    assert attached.status_code == 200 and attached.json()["ticket_id"] == ticket.pk
    notes = [m for m in _thread(api_as(agent), ticket)["messages"] if m["kind"] == "note"]
    assert len(notes) == 1 and "someone@example.org" in notes[0]["body"]
    assert _thread(api_as(carla), ticket)["messages"] == []  # a note: the customer sees nothing
    assert api_as(agent).post(f"/mail/held/{second.pk}/reject").json()["status"] == "rejected"
    assert api_as(agent).post(f"/mail/held/{second.pk}/reject").status_code == 404  # already decided
    kinds = sorted(SecurityEvent.objects.exclude(actor=None).values_list("kind", "actor_id"))
    assert kinds == [("attached", agent.pk), ("rejected", agent.pk)]
    # The log is the admins'.
    assert api_as(agent).get("/mail/security-events").status_code == 403
    daily = api_as(factories.admin()).get("/mail/security-events/daily").json()
    assert {(d["sender"], d["kind"], d["count"]) for d in daily} >= {
        ("someone@example.org", "unauthenticated", 2)
    }


def test_review_access_forms_agree(deliver: Deliver) -> None:
    """held_mail (lists) and can_review_mail (actions) give the same answer for every kind of person."""
    from tessera.accounts.models import User
    from tessera.tickets import access

    row = deliver(corpus.with_auth(sender="x@example.org", stamps=None))
    assert row.department is not None and row.department.slug == "technical"
    inactive = factories.agent("technical")
    User.objects.filter(pk=inactive.pk).update(is_active=False)
    inactive.refresh_from_db()
    people = {
        "admin": (factories.admin(), True),
        "agent of the department": (factories.agent("technical"), True),
        "agent elsewhere": (factories.agent("billing"), False),
        "customer": (factories.customer("carla"), False),
        "inactive agent": (inactive, False),
    }
    for name, (person, expected) in people.items():
        listed = access.held_mail(person).filter(pk=row.pk).exists()
        assert listed == access.can_review_mail(person, row) == expected, name


def test_production_without_an_authserv_id_warns_at_start(settings: Any) -> None:
    from tessera.mail.checks import sender_authentication

    settings.PRODUCTION = True
    settings.TESSERA_MAIL_AUTHSERV_ID = ""
    assert [w.id for w in sender_authentication(None)] == ["tessera.W010"]
    settings.TESSERA_MAIL_AUTHSERV_ID = "mx.tessera.test"
    assert sender_authentication(None) == []


def test_a_storm_is_held_and_counted_per_sender_and_day(deliver: Deliver, settings: Any, api_as: Any) -> None:
    settings.TESSERA_MAIL_SENDER_LIMIT = 2
    rows = [deliver(corpus.plain(sender="loop@example.org", subject=f"alert {i}")) for i in range(4)]
    assert [row.status for row in rows] == ["processed", "processed", "quarantined", "quarantined"]
    assert "mail storm" in rows[2].error
    daily = api_as(factories.admin()).get("/mail/security-events/daily", kind="storm").json()
    assert [(d["sender"], d["count"]) for d in daily] == [("loop@example.org", 2)]
