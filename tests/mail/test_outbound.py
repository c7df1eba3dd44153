"""The outbox and ticket emails, delivered over real SMTP to a loopback server."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction

from tessera.core import clock
from tessera.core.worker import run_pending_tasks
from tessera.mail import ids
from tessera.mail.models import BouncingAddress, OutboundEmail
from tessera.mail.outbound import EmailSpec, deliver, queue_email, queue_emails, sweep_outbox
from tessera.notifications.models import NotificationAddress
from tessera.tickets import services
from tessera.tickets.models import Priority
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)
State = OutboundEmail.State


def test_queue_email_is_idempotent_by_dedupe_key_and_sends_once(smtp_sink: Any) -> None:
    first = queue_email(to="a@example.com", subject="Hello", text="Body", html="<p>Body</p>", dedupe_key="k1")
    again = queue_email(to="a@example.com", subject="Hello", text="Body", dedupe_key="k1")
    assert first is not None and again is None
    run_pending_tasks()
    [message] = smtp_sink.to("a@example.com")
    assert message["Subject"] == "Hello"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"] == first.message_id
    assert message.get_body(("html",)).get_content().strip() == "<p>Body</p>"
    first.refresh_from_db()
    assert first.state == State.SENT and first.attempts == 1
    assert first.attempt_log[0]["outcome"] == "sent"


def test_queued_email_rolls_back_with_the_callers_transaction(smtp_sink: Any) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        queue_email(to="b@example.com", subject="x", text="y", dedupe_key="rolled-back")
        raise RuntimeError
    run_pending_tasks()
    assert OutboundEmail.objects.count() == 0
    assert smtp_sink.to("b@example.com") == []


def test_bulk_queue_ignores_duplicates_and_delivers_each_once(smtp_sink: Any) -> None:
    specs = [
        EmailSpec(to=f"r{i}@example.com", subject="News", text="t", dedupe_key=f"news:{i}")
        for i in range(120)
    ]
    assert queue_emails(specs[:20]) == 20
    assert queue_emails(specs) == 100
    run_pending_tasks()
    assert len(smtp_sink.messages) == 120
    assert OutboundEmail.objects.filter(state=State.SENT).count() == 120


def test_temporary_failure_is_retried_with_backoff_then_sent(smtp_sink: Any) -> None:
    smtp_sink.refuse["c@example.com"] = "451 4.3.0 Try again later"
    email = queue_email(to="c@example.com", subject="x", text="y", dedupe_key="retry")
    assert email is not None
    run_pending_tasks()
    email.refresh_from_db()
    assert email.state == State.QUEUED and email.attempts == 1
    assert email.next_attempt_at > clock.now() + timedelta(seconds=30)
    assert "451" in email.last_error
    smtp_sink.refuse.clear()
    OutboundEmail.objects.filter(pk=email.pk).update(next_attempt_at=clock.now())
    deliver([email.pk])
    email.refresh_from_db()
    assert email.state == State.SENT and email.attempts == 2
    assert [entry["outcome"] for entry in email.attempt_log] == ["error", "sent"]
    assert len(smtp_sink.to("c@example.com")) == 1


def test_permanent_refusal_fails_and_marks_the_address_bouncing(smtp_sink: Any) -> None:
    smtp_sink.refuse["d@example.com"] = "550 5.1.1 No such user"
    email = queue_email(to="d@example.com", subject="x", text="y", dedupe_key="perm")
    assert email is not None
    run_pending_tasks()
    email.refresh_from_db()
    assert email.state == State.FAILED
    assert BouncingAddress.objects.filter(email="d@example.com").exists()


def test_ticket_emails_thread_and_use_the_recipients_language(smtp_sink: Any) -> None:
    customer = factories.customer("lucia", language="it")
    ticket = factories.ticket(customer)
    run_pending_tasks()
    [received] = smtp_sink.to(customer.email)
    assert ticket.reference in received["Subject"]
    # Rendered under translation.override(customer.language); Italian text arrives with the catalogues.
    assert ids.thread_root(ticket.pk) in received["References"]
    assert received["Reply-To"] == ids.reply_address("support@tessera.localhost", ticket.pk)
    assert received["Auto-Submitted"] == "auto-generated"
    assert ids.marker(ticket.pk) in received.get_body(("plain",)).get_content()
    assert ids.tickets_in_message_ids([received["Message-ID"]]) == [ticket.pk]


def test_every_customer_facing_change_is_emailed_once_per_recipient_and_never_to_the_actor(
    smtp_sink: Any,
) -> None:
    customer = factories.customer("carla")
    colleague = factories.customer("colleague")
    agent = factories.agent("technical")
    ticket = factories.ticket(customer, cc=[colleague])
    services.transition_ticket(actor=agent, ticket=ticket, status="open")
    services.add_note(actor=agent, ticket=ticket, body="internal: do not mail")
    ticket.refresh_from_db()
    services.change_priority(
        actor=agent, ticket=ticket, priority=Priority.objects.get(slug="high"), reason="Production is down"
    )
    ticket.refresh_from_db()
    services.transition_ticket(actor=agent, ticket=ticket, status="waiting", reason="Which server?")
    ticket.refresh_from_db()
    services.add_reply(actor=customer, ticket=ticket, body="Server 2.")
    ticket.refresh_from_db()
    services.add_reply(actor=agent, ticket=ticket, body="Fixed the disk.")
    ticket.refresh_from_db()
    services.transition_ticket(actor=agent, ticket=ticket, status="resolved")
    ticket.refresh_from_db()
    services.transition_ticket(actor=agent, ticket=ticket, status="closed")
    run_pending_tasks()
    to_customer = [m["Subject"] for m in smtp_sink.to(customer.email)]
    to_colleague = [m["Subject"] for m in smtp_sink.to(colleague.email)]
    ref = ticket.reference
    assert to_customer == [
        f"[{ref}] We received your request: Printer on fire",
        f"[{ref}] We are working on your request: Printer on fire",
        f"[{ref}] Priority changed: Printer on fire",
        f"[{ref}] We need more information: Printer on fire",
        f"Re: [{ref}] Printer on fire",
        f"[{ref}] Resolved: Printer on fire",
        f"[{ref}] Closed: Printer on fire",
    ]
    # The colleague also hears of the customer's reply? No: only agent replies are mailed; the rest match.
    assert to_colleague == to_customer
    # (other apps may mail agents, e.g. about routing; none of the customer emails reach the actor)
    assert not {m["Subject"] for m in smtp_sink.to(agent.email)} & set(to_customer)
    bodies = " ".join(m.get_body(("plain",)).get_content() for m in smtp_sink.to(customer.email))
    assert "Production is down" in bodies and "Which server?" in bodies and "Fixed the disk." in bodies
    assert "internal: do not mail" not in bodies
    reply = next(m for m in smtp_sink.to(customer.email) if m["Subject"].startswith("Re:"))
    assert reply["Auto-Submitted"] is None  # a person wrote it


def test_billing_ticket_goes_to_the_contacts_billing_address(smtp_sink: Any) -> None:
    customer = factories.customer("carla")
    NotificationAddress.objects.create(
        user=customer, kind="billing", email="invoices@example.com", confirmed_at=clock.now()
    )
    ticket = factories.ticket(customer, dept="billing")
    run_pending_tasks()
    [message] = smtp_sink.to("invoices@example.com")
    assert smtp_sink.to(customer.email) == []
    assert message["From"].addresses[0].addr_spec == "billing@tessera.localhost"
    assert message["From"].addresses[0].display_name == "Financial/Billing"
    assert ids.reply_address("billing@tessera.localhost", ticket.pk) == message["Reply-To"]


def test_sweep_resends_rows_left_sending_by_a_dead_worker(smtp_sink: Any) -> None:
    email = queue_email(to="e@example.com", subject="x", text="y", dedupe_key="stale")
    assert email is not None
    OutboundEmail.objects.filter(pk=email.pk).update(
        state=State.SENDING, claimed_at=clock.now(), claim="dead"
    )
    run_pending_tasks()  # the original task finds nothing to claim
    assert smtp_sink.to("e@example.com") == []
    assert sweep_outbox(now=clock.now()) == 0  # not stale yet
    assert sweep_outbox(now=clock.now() + timedelta(minutes=10)) == 1
    run_pending_tasks()
    [message] = smtp_sink.to("e@example.com")
    assert message["Message-ID"] == email.message_id  # same id: receivers drop a duplicate
