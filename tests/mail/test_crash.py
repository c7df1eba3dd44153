"""Real crashes: a worker process killed with SIGKILL at the worst moments, then a restart. Afterwards
there is exactly one ticket and exactly one notification per recipient."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest

from tessera.core import clock
from tessera.core.worker import run_pending_tasks
from tessera.mail.inbound.store import store_raw, sweep_inbound
from tessera.mail.models import InboundMessage, OutboundEmail
from tessera.mail.outbound import sweep_outbox
from tessera.tickets.models import Ticket
from tests import factories
from tests.mail import corpus
from tests.mail.conftest import subprocess_env

pytestmark = pytest.mark.django_db(transaction=True)

WORKER = """
import os, signal, django
django.setup()
from tessera.core.worker import run_pending_tasks
{patch}
run_pending_tasks()
"""


def run_worker_that_dies(patch: str, port: int) -> int:
    env = {**subprocess_env(), "TESSERA_EMAIL_URL": f"smtp://127.0.0.1:{port}"}
    result = subprocess.run(
        [sys.executable, "-c", WORKER.format(patch=patch)],
        env=env,
        capture_output=True,
        timeout=180,
        check=False,
    )
    return result.returncode


def restart() -> None:
    later = clock.now() + timedelta(minutes=10)
    sweep_inbound(now=later)
    run_pending_tasks()
    sweep_outbox(now=later)
    run_pending_tasks()


def test_worker_killed_while_processing_inbound_mail(smtp_sink: Any, smtp_sink_server: Any) -> None:
    customer = factories.customer("carla")
    store_raw(corpus.plain(sender=customer.email, subject="crash me"), source="test")
    # Dies after the ticket is written but before the transaction commits.
    patch = """
from tessera.mail.inbound import pipeline
real = pipeline.create_ticket
def dying(**kwargs):
    real(**kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
pipeline.create_ticket = dying
"""
    assert run_worker_that_dies(patch, smtp_sink_server[1]) == -9
    assert Ticket.objects.count() == 0
    assert InboundMessage.objects.get().status == InboundMessage.Status.PENDING
    restart()
    assert Ticket.objects.count() == 1
    assert InboundMessage.objects.get().status == InboundMessage.Status.PROCESSED
    assert len(smtp_sink.to(customer.email)) == 1


def test_worker_killed_between_commit_and_sending(smtp_sink: Any, smtp_sink_server: Any) -> None:
    customer = factories.customer("carla")
    colleague = factories.customer("colleague")
    factories.ticket(customer, cc=[colleague])
    patch = """
from tessera.mail import outbound
def dying(connection, email):
    os.kill(os.getpid(), signal.SIGKILL)
outbound.send_one = dying
"""
    assert run_worker_that_dies(patch, smtp_sink_server[1]) == -9
    assert smtp_sink.messages == []
    # Each email has its own delivery task, but the first task also claimed the other due email (one
    # connection for a backlog) and died: both are left claimed, neither sent nor lost.
    states = list(OutboundEmail.objects.order_by("pk").values_list("state", flat=True))
    assert states == [OutboundEmail.State.SENDING, OutboundEmail.State.SENDING]
    restart()
    assert len(smtp_sink.to(customer.email)) == 1
    assert len(smtp_sink.to(colleague.email)) == 1
    assert set(OutboundEmail.objects.values_list("state", flat=True)) == {OutboundEmail.State.SENT}


def test_killed_right_after_smtp_success_resends_with_the_same_message_id(
    smtp_sink: Any, smtp_sink_server: Any
) -> None:
    """The documented at-least-once window: the copy carries the same Message-ID, so receivers drop it."""
    customer = factories.customer("carla")
    factories.ticket(customer)
    patch = """
from tessera.mail import outbound
real = outbound.send_one
def dying(connection, email):
    real(connection, email)
    os.kill(os.getpid(), signal.SIGKILL)
outbound.send_one = dying
"""
    assert run_worker_that_dies(patch, smtp_sink_server[1]) == -9
    restart()
    copies = smtp_sink.to(customer.email)
    assert len(copies) == 2
    assert copies[0]["Message-ID"] == copies[1]["Message-ID"]
    # Rendered again for the re-send, from the same stored inputs: the same email.
    assert copies[0]["Subject"] == copies[1]["Subject"]
    for kind in ("plain", "html"):
        assert copies[0].get_body((kind,)).get_content() == copies[1].get_body((kind,)).get_content()
    assert OutboundEmail.objects.get().state == OutboundEmail.State.SENT
