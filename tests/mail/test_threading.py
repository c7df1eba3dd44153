"""Replies find their ticket by our signed Message-IDs, reply address or body marker; a subject tag only
for a sender who may post there; forged tags never attach to someone else's ticket."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

import pytest

from tessera.core.worker import run_pending_tasks
from tessera.mail import ids
from tessera.mail.models import InboundMessage
from tessera.tickets import services
from tessera.tickets.models import Message, Ticket, TimelineEvent
from tests import factories
from tests.mail import corpus
from tests.mail.test_inbound import receive

pytestmark = pytest.mark.django_db(transaction=True)
Status = InboundMessage.Status


def acknowledgement(smtp_sink: Any, customer: Any) -> tuple[Ticket, EmailMessage]:
    row = receive(corpus.plain(sender=customer.email))
    assert row.ticket is not None
    run_pending_tasks()
    [ack] = smtp_sink.to(customer.email)
    return row.ticket, ack


@pytest.mark.parametrize("style", ["gmail", "outlook", "apple", "thunderbird", "italian"])
def test_reply_from_each_client_style_threads_and_folds_the_quote(smtp_sink: Any, style: str) -> None:
    customer = factories.customer("carla")
    ticket, ack = acknowledgement(smtp_sink, customer)
    row = receive(
        corpus.reply(ack, sender=customer.email, body="Still broken after the reboot.", style=style)
    )
    assert row.status == Status.PROCESSED, row.error
    assert row.ticket == ticket
    message = Message.objects.get(pk=row.ticket_message_id)
    assert message.author == customer and message.channel == "email"
    assert message.body.startswith("Still broken after the reboot.")
    assert "We received your request" not in message.body  # the quoted history is folded away
    assert "We received your request" in row.full_text  # and kept in full
    assert Ticket.objects.count() == 1


def test_provider_that_rewrites_message_ids_threads_by_the_body_marker(smtp_sink: Any) -> None:
    customer = factories.customer("carla")
    ticket, ack = acknowledgement(smtp_sink, customer)
    raw = corpus.reply(
        ack,
        sender=customer.email,
        body="Here it is.",
        extra={"In-Reply-To": "", "References": "", "To": "support@tessera.localhost"},
    )
    row = receive(raw)
    assert row.ticket == ticket, row.error


def test_reply_address_alone_threads(smtp_sink: Any) -> None:
    customer = factories.customer("carla")
    ticket = factories.ticket(customer)
    row = receive(
        corpus.plain(
            sender=customer.email,
            to=ids.reply_address("support@tessera.localhost", ticket.pk),
            subject="more",
        )
    )
    assert row.ticket == ticket
    assert Ticket.objects.count() == 1


def test_forged_subject_tag_never_attaches_to_someone_elses_ticket() -> None:
    victim = factories.customer("victim")
    attacker = factories.customer("attacker")
    ticket = factories.ticket(victim)
    row = receive(corpus.plain(sender=attacker.email, subject=f"Re: [{ticket.reference}] cancel my server"))
    assert row.status == Status.PROCESSED
    assert row.ticket != ticket and row.ticket is not None
    assert row.ticket.requester == attacker
    assert not ticket.messages.exists()
    assert any(ticket.reference in note for note in row.notes)


def test_forged_signature_is_not_honoured() -> None:
    victim = factories.customer("victim")
    attacker = factories.customer("attacker")
    ticket = factories.ticket(victim)
    forged = f"<tessera.{ticket.pk}-0123456789abcdef.x@tessera.localhost>"
    row = receive(corpus.plain(sender=attacker.email, extra={"In-Reply-To": forged, "References": forged}))
    assert row.ticket != ticket
    assert not ticket.messages.exists()


def test_subject_tag_threads_for_the_requester() -> None:
    customer = factories.customer("carla")
    ticket = factories.ticket(customer)
    row = receive(corpus.plain(sender=customer.email, subject=f"Re: [{ticket.reference}] Printer on fire"))
    assert row.ticket == ticket


def test_reply_from_a_bcc_recipient_opens_a_linked_ticket_and_never_joins(smtp_sink: Any) -> None:
    customer = factories.customer("carla")
    ticket, ack = acknowledgement(smtp_sink, customer)
    smtp_sink.clear()
    row = receive(corpus.reply(ack, sender="Boss <boss@example.com>", body="Please prioritise this."))
    assert row.status == Status.PROCESSED, row.error
    ticket.refresh_from_db()
    assert row.ticket is not None and row.ticket != ticket
    assert row.ticket.requester.email == "boss@example.com"
    assert ticket.requester == customer and not ticket.cc.exists() and not ticket.messages.exists()
    linked = TimelineEvent.objects.get(ticket=ticket, kind="linked")
    assert linked.new["ticket"] == row.ticket.pk and not linked.is_public
    run_pending_tasks()
    assert smtp_sink.to(customer.email) == []  # the requester hears nothing of it


def test_reply_to_a_closed_ticket_opens_a_new_one(smtp_sink: Any) -> None:
    customer = factories.customer("carla")
    ticket, ack = acknowledgement(smtp_sink, customer)
    agent = factories.agent("technical")
    services.transition_ticket(actor=agent, ticket=ticket, status="closed")
    row = receive(corpus.reply(ack, sender=customer.email, body="It happened again."))
    assert row.status == Status.PROCESSED
    assert row.ticket is not None and row.ticket != ticket
    assert any("closed" in note for note in row.notes)


def test_agent_reply_by_email_is_a_public_reply(smtp_sink: Any) -> None:
    customer = factories.customer("carla")
    agent = factories.agent("technical")
    ticket = factories.ticket(customer)
    row = receive(
        corpus.plain(
            sender=agent.email,
            to=ids.reply_address("support@tessera.localhost", ticket.pk),
            subject="x",
            body="Rebooted it.",
        )
    )
    assert row.ticket == ticket, row.error
    message = Message.objects.get(pk=row.ticket_message_id)
    assert message.author == agent and message.kind == Message.Kind.REPLY


def test_reply_to_a_merged_ticket_continues_on_its_target() -> None:
    customer = factories.customer("carla")
    agent = factories.agent("technical")
    source, target = factories.ticket(customer), factories.ticket(customer)
    services.merge_tickets(actor=agent, source=source, target=target)
    row = receive(
        corpus.plain(
            sender=customer.email,
            to=ids.reply_address("support@tessera.localhost", source.pk),
            subject="more about the first one",
            body="Any news?",
        )
    )
    assert row.status == Status.PROCESSED, row.error
    assert row.ticket == target
    assert Message.objects.get(pk=row.ticket_message_id).ticket == target
    assert Ticket.objects.count() == 2
