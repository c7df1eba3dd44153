"""No reply swallowed by a concurrent change: a customer's reply that commits after a resolve reopens the
ticket, whatever the interleaving (real threads, on SQLite and PostgreSQL)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

import pytest
from django.db import connections, transaction

from tessera.accounts.models import User
from tessera.core.errors import Conflict
from tessera.tickets import services
from tessera.tickets.events import Kind
from tessera.tickets.models import Message, Status, Ticket, TimelineEvent
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def _thread(target: Callable[[], None], errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            target()
        except BaseException as error:  # reported to the test's thread
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _open_ticket() -> tuple[Ticket, User, User]:
    carla = factories.customer("carla")
    anna = factories.agent("technical", name="anna")
    ticket = factories.ticket(carla)
    services.add_reply(actor=anna, ticket=ticket, body="Looking into it.")  # new -> open
    return Ticket.objects.get(pk=ticket.pk), carla, anna


def test_a_reply_committing_after_a_resolve_reopens_the_ticket() -> None:
    ticket, carla, anna = _open_ticket()
    page = Ticket.objects.get(pk=ticket.pk)  # what the customer's reply form was rendered from: open
    resolved, replying, commit = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def resolve() -> None:
        with transaction.atomic():
            services.transition_ticket(
                actor=anna, ticket=Ticket.objects.get(pk=ticket.pk), status=Status.RESOLVED
            )
            resolved.set()
            commit.wait(10)  # the resolve holds its transaction while the reply arrives

    def reply() -> None:
        resolved.wait(10)
        replying.set()
        services.add_reply(actor=carla, ticket=page, body="It is still broken.")

    threads = [_thread(resolve, errors), _thread(reply, errors)]
    replying.wait(10)
    time.sleep(0.3)  # let the reply reach the lock (the outcome must not depend on it)
    commit.set()
    for thread in threads:
        thread.join(30)
    assert errors == []
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN and ticket.resolved_at is None
    assert Message.objects.filter(ticket=ticket, body="It is still broken.").exists()
    statuses = list(
        TimelineEvent.objects.filter(ticket=ticket, kind=Kind.STATUS_CHANGED)
        .order_by("pk")
        .values_list("new", flat=True)
    )
    assert statuses[-2:] == [Status.RESOLVED, Status.OPEN]


def test_a_resolve_committing_after_a_reply_leaves_the_ticket_resolved_with_the_reply_kept() -> None:
    ticket, carla, anna = _open_ticket()
    replied, commit = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def reply() -> None:
        with transaction.atomic():
            services.add_reply(actor=carla, ticket=Ticket.objects.get(pk=ticket.pk), body="One more detail.")
            replied.set()
            commit.wait(10)

    def resolve() -> None:
        replied.wait(10)
        with transaction.atomic():  # the agent reads the ticket once the reply let go of it
            current = Ticket.objects.select_for_update().get(pk=ticket.pk)
            services.transition_ticket(actor=anna, ticket=current, status=Status.RESOLVED)

    threads = [_thread(reply, errors), _thread(resolve, errors)]
    replied.wait(10)
    time.sleep(0.3)
    commit.set()
    for thread in threads:
        thread.join(30)
    assert errors == []
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    assert Message.objects.filter(ticket=ticket, body="One more detail.").exists()


def test_racing_replies_and_resolves_never_leave_a_later_reply_under_a_resolve() -> None:
    for _ in range(4):
        ticket, carla, anna = _open_ticket()
        start = threading.Barrier(2)
        errors: list[BaseException] = []

        def resolve(ticket: Ticket = ticket, anna: User = anna, start: threading.Barrier = start) -> None:
            start.wait(10)
            # A Conflict: the reply came first and the agent's page was stale (a 409, nothing lost).
            with contextlib.suppress(Conflict):
                services.transition_ticket(actor=anna, ticket=ticket, status=Status.RESOLVED)

        def reply(ticket: Ticket = ticket, carla: User = carla, start: threading.Barrier = start) -> None:
            page = Ticket.objects.get(pk=ticket.pk)
            start.wait(10)
            services.add_reply(actor=carla, ticket=page, body="Still there?")

        threads = [_thread(resolve, errors), _thread(reply, errors)]
        for thread in threads:
            thread.join(30)
        assert errors == []
        ticket.refresh_from_db()
        events = TimelineEvent.objects.filter(ticket=ticket).order_by("pk")
        replied = events.filter(kind=Kind.REPLIED, message__body="Still there?").get().pk
        resolved = events.filter(kind=Kind.STATUS_CHANGED, new=Status.RESOLVED).values_list("pk", flat=True)
        if resolved and resolved[0] > replied:
            assert ticket.status == Status.RESOLVED
        else:  # the reply came second and reopened the ticket, or the stale resolve was refused
            assert ticket.status == Status.OPEN
