"""Bursts: mail delivered over several SMTP connections at once to the real listener, with the task
workers arranged as `tessera serve` arranges them, loses nothing; outgoing email has its own queue and
priority, so it never waits behind a backlog of inbound processing."""

from __future__ import annotations

import smtplib
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections
from django_tasks_db.models import DBTaskResult

from tessera.core.worker import TaskWorker, run_pending_tasks, serve_workers
from tessera.mail.inbound.smtp import start_listener
from tessera.mail.inbound.store import store_raw
from tessera.mail.models import InboundMessage, OutboundEmail
from tessera.mail.outbound import queue_email
from tessera.mail.tasks import deliver_emails, process_inbound
from tessera.tickets.models import Ticket
from tests.mail import corpus
from tests.mail.conftest import Sink, free_port

pytestmark = pytest.mark.django_db(transaction=True)
BURST = 120  # the 3,000-message burst is bench/mail_bench.py --burst; this one runs in CI
CONNECTIONS = 4


def _until(condition: Callable[[], bool], seconds: float = 240) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def _send(port: int, first: int, answers: list[str], lock: threading.Lock) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=120) as client:
        for i in range(first, BURST, CONNECTIONS):
            sender = f"burst{i}@example.com"
            raw = corpus.plain(sender=sender, subject=f"burst message {i}", body=f"Server {i} is down.")
            client.sendmail(sender, ["support@tessera.localhost"], raw)
            with lock:
                answers.append(sender)


def test_a_burst_over_four_connections_loses_nothing_and_every_sender_is_acknowledged(
    smtp_sink: Sink,
) -> None:
    port = free_port()
    listener = start_listener(f"smtp://127.0.0.1:{port}")
    workers = serve_workers()
    accepted: list[str] = []
    lock = threading.Lock()
    try:
        clients = [threading.Thread(target=_send, args=(port, n, accepted, lock)) for n in range(CONNECTIONS)]
        for client in clients:
            client.start()
        for client in clients:
            client.join(300)
        assert len(accepted) == BURST  # every message was answered 250 (sendmail raises otherwise)
        assert _until(
            lambda: (
                not InboundMessage.objects.filter(status="pending").exists()
                and not OutboundEmail.objects.filter(state__in=["queued", "sending"]).exists()
                and len(smtp_sink.messages) >= BURST
            )
        ), "the burst was not processed and acknowledged"
    finally:
        for worker in workers:
            worker.stop(timeout=10)
        listener.stop()
        connections.close_all()
    assert InboundMessage.objects.count() == BURST
    assert set(InboundMessage.objects.values_list("status", flat=True)) == {"processed"}
    subjects = set(Ticket.objects.values_list("subject", flat=True))
    assert subjects == {f"burst message {i}" for i in range(BURST)}
    for sender in accepted:  # one acknowledgement each, none twice
        assert len(smtp_sink.to(sender)) == 1, sender


def test_mail_has_its_own_queues_and_delivery_runs_first() -> None:
    assert process_inbound.queue_name == "mail-in"
    assert deliver_emails.queue_name == "mail-out"
    assert deliver_emails.priority > process_inbound.priority


def test_an_email_queued_behind_an_inbound_backlog_is_taken_first_by_a_worker_of_every_queue(
    smtp_sink: Sink,
) -> None:
    for i in range(5):
        store_raw(corpus.plain(sender=f"early{i}@example.com", subject=f"early {i}"), source="test")
    email = queue_email(to="waiting@example.com", subject="Your reply", text="Hello", dedupe_key="late")
    assert email is not None
    worker = TaskWorker(interval=0)
    worker.worker.max_tasks = 1  # one task, then stop: the one it picked
    worker.worker.run()
    email.refresh_from_db()
    assert email.state == OutboundEmail.State.SENT
    assert InboundMessage.objects.filter(status="pending").count() == 5


def test_a_worker_started_for_one_queue_leaves_the_others_alone(smtp_sink: Sink) -> None:
    row, _ = store_raw(corpus.plain(sender="someone@example.com", subject="inbound"), source="test")
    email = queue_email(to="out@example.com", subject="Out", text="Out", dedupe_key="out")
    assert email is not None
    TaskWorker(interval=0, batch=True, queues=["mail-out"]).worker.run()
    email.refresh_from_db()
    row.refresh_from_db()
    assert email.state == OutboundEmail.State.SENT
    assert row.status == InboundMessage.Status.PENDING
    assert DBTaskResult.objects.filter(queue_name="mail-in", status="READY").count() == 1
    TaskWorker(interval=0, batch=True, exclude=["mail-out"]).worker.run()
    row.refresh_from_db()
    assert row.status == InboundMessage.Status.PROCESSED
    run_pending_tasks()  # the acknowledgement of the new ticket


def test_an_unknown_queue_is_refused_with_the_names_of_the_real_ones() -> None:
    with pytest.raises(ValueError, match="mail-in"):
        TaskWorker(queues=["mail-inn"])


def test_tessera_worker_refuses_an_unknown_queue(capsys: Any) -> None:
    from tessera.cli import main

    assert main(["worker", "--queue", "nope"]) == 2
    assert "Unknown task queue nope" in capsys.readouterr().err


def test_the_listener_backlog_counts_mail_waiting_for_processing_and_ticket_emails_not_announcements(
    smtp_sink: Sink,
) -> None:
    from tessera.mail.inbound.smtp import backlog, wait_for_backlog
    from tests import factories

    assert backlog() == 0
    store_raw(corpus.plain(sender="one@example.com", subject="one"), source="test")
    store_raw(corpus.plain(sender="two@example.com", subject="two"), source="test")
    queue_email(to="many@example.com", subject="Maintenance", text="Tonight", dedupe_key="announce")
    assert backlog() == 2  # the announcement is not counted
    queue_email(
        to="c@example.com",
        subject="Re",
        text="Hi",
        dedupe_key="t",
        ticket=factories.ticket(factories.customer()),
    )
    assert backlog() >= 3
    assert wait_for_backlog(limit=10_000) == pytest.approx(0, abs=1)  # under the limit: no wait
    run_pending_tasks()
    assert backlog() == 0
