"""The outbox and ticket emails, delivered over real SMTP to a loopback server."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction

from tessera.core import clock
from tessera.core.worker import run_pending_tasks
from tessera.mail import ids, outbound
from tessera.mail.models import BouncingAddress, OutboundEmail
from tessera.mail.outbound import (
    EmailSpec,
    deliver,
    mark_bouncing,
    queue_email,
    queue_emails,
    queue_template_email,
    sweep_outbox,
)
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


def test_an_address_that_bounces_after_queueing_is_not_sent_to_and_the_batch_goes_on(
    smtp_sink: Any,
) -> None:
    queue_emails(
        [
            EmailSpec(to=to, subject="x", text="y", dedupe_key=f"later-bounce:{to}")
            for to in ("Gone@Example.com", "kept@example.com")
        ]
    )
    mark_bouncing("gone@example.com", "550 5.1.1 No such user")
    run_pending_tasks()
    states = dict(OutboundEmail.objects.values_list("to", "state"))
    assert states == {"Gone@Example.com": State.SUPPRESSED, "kept@example.com": State.SENT}
    assert smtp_sink.to("Gone@Example.com") == [] and len(smtp_sink.to("kept@example.com")) == 1


def test_ticket_emails_thread_and_use_the_recipients_language(smtp_sink: Any) -> None:
    customer = factories.customer("lucia", language="it")
    ticket = factories.ticket(customer)
    # Queued with what to render; rendered and addressed by the delivery task.
    queued = OutboundEmail.objects.get()
    assert (queued.to, queued.subject, queued.text, queued.html) == ("", "", "", "")
    assert queued.render["template"] == "ticket/ticket_received"
    assert queued.render["inputs"]["language"] == "it"
    run_pending_tasks()
    [received] = smtp_sink.to(customer.email)
    assert received["Subject"] == f"[{ticket.reference}] Abbiamo ricevuto la tua richiesta: Printer on fire"
    assert received.get_body(("plain",)).get_content().startswith("Gentile Lucia,")
    sent = OutboundEmail.objects.get()  # what was sent is kept with the outcome
    assert (sent.state, sent.to, sent.subject) == (State.SENT, customer.email, received["Subject"])
    assert "Gentile Lucia," in sent.text and "Gentile Lucia," in sent.html
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


def test_a_template_that_fails_to_render_is_a_failed_attempt_retried_then_failed_for_good(
    smtp_sink: Any,
) -> None:
    customer = factories.customer("carla")
    email = queue_template_email(
        template="ticket/no_such_template",  # e.g. removed by a deploy while emails were queued for it
        recipient=customer,
        kind="support",
        inputs={"language": "en", "time_zone": "", "context": {}},
        dedupe_key="broken-template",
    )
    assert email is not None
    run_pending_tasks()
    email.refresh_from_db()
    assert email.state == State.QUEUED and email.attempts == 1
    assert email.next_attempt_at > clock.now() + timedelta(seconds=30)  # backoff
    assert "TemplateDoesNotExist" in email.last_error
    assert [entry["outcome"] for entry in email.attempt_log] == ["error"]
    OutboundEmail.objects.filter(pk=email.pk).update(next_attempt_at=clock.now())
    run_pending_tasks()  # the retry task was enqueued to run after the backoff; it did not run early
    deliver([email.pk])
    email.refresh_from_db()
    assert email.attempts == 2 and [entry["outcome"] for entry in email.attempt_log] == ["error", "error"]
    OutboundEmail.objects.filter(pk=email.pk).update(
        next_attempt_at=clock.now(), attempts=outbound.MAX_ATTEMPTS - 1
    )
    deliver([email.pk])
    email.refresh_from_db()
    assert email.state == State.FAILED and len(email.attempt_log) == 3
    assert smtp_sink.messages == []


def test_a_ticket_email_to_a_bouncing_address_is_set_aside_once_addressed(smtp_sink: Any) -> None:
    customer = factories.customer("carla")
    NotificationAddress.objects.create(
        user=customer, kind="support", email="alerts@example.com", confirmed_at=clock.now()
    )
    factories.ticket(customer)
    mark_bouncing("alerts@example.com", "550 5.1.1 No such user")  # after queueing, before delivery
    run_pending_tasks()
    email = OutboundEmail.objects.get()
    assert (email.state, email.to) == (State.SUPPRESSED, "alerts@example.com")
    assert smtp_sink.messages == []


def test_an_unknown_template_family_is_refused_when_queued() -> None:
    customer = factories.customer("carla")
    with pytest.raises(ValueError, match="No renderer"):
        queue_template_email(
            template="invoice/reminder", recipient=customer, kind="billing", inputs={}, dedupe_key="x"
        )
    assert not OutboundEmail.objects.exists()


def test_each_email_commits_or_rolls_back_with_its_delivery_task(smtp_sink: Any) -> None:
    customer = factories.customer("carla")
    colleague = factories.customer("colleague")
    factories.ticket(customer, cc=[colleague])  # two acknowledgements, one transaction
    assert _delivery_tasks() == 2
    with transaction.atomic():
        try:
            with transaction.atomic():  # an email and its task, then rolled back
                queue_email(to="gone@example.com", subject="x", text="y", dedupe_key="rolled-back")
                raise RuntimeError
        except RuntimeError:
            pass
        queue_email(to="kept@example.com", subject="x", text="y", dedupe_key="kept")
        queue_email(to="kept2@example.com", subject="x", text="y", dedupe_key="kept2")
    assert _delivery_tasks() == 4  # the rolled-back email's task is gone with it
    run_pending_tasks()
    assert {rcpt[0] for rcpt, _ in smtp_sink.messages} == {
        customer.email,
        colleague.email,
        "kept@example.com",
        "kept2@example.com",
    }
    assert set(OutboundEmail.objects.values_list("state", flat=True)) == {State.SENT}


def _delivery_tasks() -> int:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path__startswith="tessera.mail.tasks.deliver").count()


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
    # A short claim: re-sent on the next minute's sweep after it lapsed, not 5-6 minutes later.
    assert sweep_outbox(now=clock.now() + outbound.STALE_CLAIM + timedelta(seconds=1)) == 1
    assert timedelta(minutes=1) >= outbound.STALE_CLAIM
    run_pending_tasks()
    [message] = smtp_sink.to("e@example.com")
    assert message["Message-ID"] == email.message_id  # same id: receivers drop a duplicate


def test_non_ascii_headers_bodies_and_domains_arrive_intact(smtp_sink: Any) -> None:
    references = " ".join(f"<tessera.{i}-0123456789abcdef.thread@tessera.localhost>" for i in range(6))
    text = "Grüße aus Zürich.\n. A line that starts with a dot.\n" + "ü" * 300 + "\n"
    html = "<p>Здравствуйте, мир</p>" * 40
    email = queue_email(
        to="Anna Müller <anna@exämple.org>",
        from_email='"Büro Zürich, Support" <zurich@tessera.localhost>',
        subject="Überweisung fällig: Rechnung 42 (120 €) " + "sehr lang " * 8,
        text=text,
        html=html,
        dedupe_key="unicode",
        headers={"In-Reply-To": "<first@example.net>", "References": references, "X-Tessera-Ticket": "TKT-1"},
    )
    assert email is not None
    run_pending_tasks()
    [(envelope_to, message)] = smtp_sink.messages
    assert envelope_to == ["anna@xn--exmple-cua.org"]  # IDNA on the envelope and in the header
    assert message["To"].addresses[0].addr_spec == "anna@xn--exmple-cua.org"
    assert message["To"].addresses[0].display_name == "Anna Müller"
    assert message["From"].addresses[0].display_name == "Büro Zürich, Support"
    assert message["From"].addresses[0].addr_spec == "zurich@tessera.localhost"
    assert message["Subject"] == email.subject
    assert message["References"] == references and message["In-Reply-To"] == "<first@example.net>"
    assert message["Message-ID"] == email.message_id and message["X-Tessera-Ticket"] == "TKT-1"
    assert message["Auto-Submitted"] == "auto-generated" and message["Date"].datetime is not None
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n") == text
    assert message.get_body(("html",)).get_content().strip() == html
    assert not message.defects and all(not part.defects for part in message.walk())
    email.refresh_from_db()
    assert email.state == State.SENT


def test_a_refused_or_malformed_recipient_does_not_stop_the_others(smtp_sink: Any) -> None:
    smtp_sink.refuse["bad@example.com"] = "550 5.1.1 No such user"
    addresses = ["one@example.com", "bad@example.com", "jörg@example.com", "two@example.com"]
    specs = [EmailSpec(to=a, subject="News", text="t", dedupe_key=f"mixed:{a}") for a in addresses]
    assert queue_emails(specs) == 4
    run_pending_tasks()
    rows = {row.to: row for row in OutboundEmail.objects.all()}
    assert {a for a in addresses if rows[a].state == State.SENT} == {"one@example.com", "two@example.com"}
    assert rows["bad@example.com"].state == State.FAILED
    # A non-ASCII local part cannot go out without SMTPUTF8: recorded and retried later, not sent.
    assert rows["jörg@example.com"].state == State.QUEUED
    assert "Invalid address" in rows["jörg@example.com"].last_error
    assert [rcpt for rcpt, _ in smtp_sink.messages] == [["one@example.com"], ["two@example.com"]]
    for address in ("one@example.com", "two@example.com"):
        row = rows[address]
        assert row.sent_at is not None and row.last_error == "" and row.attempts == 1
        assert [entry["outcome"] for entry in row.attempt_log] == ["sent"]


def test_a_header_with_a_line_break_is_refused_not_sent(smtp_sink: Any) -> None:
    email = queue_email(
        to="f@example.com", subject="x", text="y", dedupe_key="inject", headers={"X-Note": "a\r\nBcc: x@y"}
    )
    assert email is not None
    run_pending_tasks()
    email.refresh_from_db()
    assert email.state == State.QUEUED and "linefeed" in email.last_error  # Django refuses the header
    assert smtp_sink.messages == []


class WorkerStopped(BaseException):
    """Not an email failure: it ends the task (like a shutdown signal)."""


def test_each_row_is_marked_sent_before_the_next_goes_out(
    smtp_sink: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The at-least-once window is one email: a task stopped mid-way leaves only the unsent one "sending".
    specs = [
        EmailSpec(to=f"g{i}@example.com", subject="x", text="y", dedupe_key=f"mark:{i}") for i in range(3)
    ]
    queue_emails(specs)
    pks = list(OutboundEmail.objects.order_by("pk").values_list("pk", flat=True))
    seen: list[list[str]] = []
    real_send = outbound.send_one

    def observing_send(connection: Any, email: OutboundEmail) -> str:
        # What the database says about the earlier emails when this one goes out.
        earlier = OutboundEmail.objects.filter(pk__lt=email.pk).order_by("pk")
        seen.append(list(earlier.values_list("state", flat=True)))
        if email.pk == pks[2]:
            raise WorkerStopped
        return real_send(connection, email)

    monkeypatch.setattr(outbound, "send_one", observing_send)
    with pytest.raises(WorkerStopped):
        deliver(pks)
    assert seen == [[], [State.SENT], [State.SENT, State.SENT]]
    states = dict(OutboundEmail.objects.values_list("pk", "state"))
    assert [states[pk] for pk in pks] == [State.SENT, State.SENT, State.SENDING]
    assert len(smtp_sink.messages) == 2


def test_a_row_whose_claim_was_taken_over_is_not_marked_sent_by_the_old_task(
    smtp_sink: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = [
        EmailSpec(to=f"h{i}@example.com", subject="x", text="y", dedupe_key=f"claim:{i}") for i in range(2)
    ]
    queue_emails(specs)
    first, second = OutboundEmail.objects.order_by("pk")
    real_send = outbound.send_one

    def slow_send(connection: Any, email: OutboundEmail) -> str:
        if email.pk == first.pk:  # meanwhile the sweep re-queued it and another worker claimed it
            OutboundEmail.objects.filter(pk=first.pk).update(claim="other-worker")
        return real_send(connection, email)

    monkeypatch.setattr(outbound, "send_one", slow_send)
    assert deliver([first.pk, second.pk])["sent"] == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == State.SENDING and first.claim == "other-worker" and first.attempt_log == []
    assert second.state == State.SENT


def test_a_delivery_renews_its_claim_so_a_long_batch_is_not_sent_twice(
    smtp_sink: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The claim is short, so a delivery renews it on the rest of its batch before each email: the sweep
    # after each email of a slow batch (each takes most of a claim) re-queues nothing.
    specs = [
        EmailSpec(to=f"k{i}@example.com", subject="x", text="y", dedupe_key=f"renew:{i}") for i in range(3)
    ]
    queue_emails(specs)
    pks = list(OutboundEmail.objects.order_by("pk").values_list("pk", flat=True))
    now = [clock.now()]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    real_send = outbound.send_one
    requeued: list[int] = []

    def slow_send(connection: Any, email: OutboundEmail) -> str:
        now[0] += outbound.STALE_CLAIM * 0.8
        requeued.append(sweep_outbox(now=now[0]))
        return real_send(connection, email)

    monkeypatch.setattr(outbound, "send_one", slow_send)
    assert deliver(pks)["sent"] == 3
    assert requeued == [0, 0, 0]
    assert len(smtp_sink.messages) == 3
