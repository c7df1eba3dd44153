"""One fetcher per mailbox at a time: fetchers racing on a real Dovecot mailbox store every message once and
lose none; a dead fetcher's lease runs out; the IDLE loop keeps the mailbox while it is connected."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.db import close_old_connections

from tessera.core import clock
from tessera.mail.inbound import imap, store
from tessera.mail.models import InboundMessage, Mailbox
from tests.mail import corpus
from tests.mail.imap_helpers import append, flags, mailbox, new_folder

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_fetchers_racing_store_each_message_once_and_lose_none(
    dovecot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = new_folder(dovecot)
    box = mailbox(dovecot, folder)
    append(dovecot, folder, *(corpus.plain(subject=f"race {i}") for i in range(12)))

    downloads: Counter[str] = Counter()
    lock = threading.Lock()
    real_store = store.store_raw

    def slow_store(raw: bytes, **kwargs: Any) -> Any:
        # Count every message a fetcher downloaded and handed to the store, and take a moment over it
        # so the two fetchers overlap for the whole run.
        with lock:
            downloads[re.search(rb"Subject: ([^\r\n]*)", raw).group(1).decode()] += 1  # type: ignore[union-attr]
        time.sleep(0.05)
        return real_store(raw, **kwargs)

    monkeypatch.setattr(imap, "store_raw", slow_store)
    start = threading.Barrier(2)
    results: list[int] = []

    def fetcher() -> None:
        try:
            start.wait()
            results.append(imap.fetch_mailbox(Mailbox.objects.get(pk=box.pk)))
        finally:
            close_old_connections()

    threads = [threading.Thread(target=fetcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(results) == [0, 12]  # one fetcher did the work, the other stood aside
    assert set(downloads.values()) == {1} and len(downloads) == 12
    assert sorted(InboundMessage.objects.values_list("subject", flat=True)) == sorted(
        f"race {i}" for i in range(12)
    )
    assert all(b"\\Seen" in f for f in flags(dovecot, folder))
    box.refresh_from_db()
    assert (box.imap_last_uid, box.fetch_lease_owner, box.fetch_lease_until) == (12, "", None)
    assert box.last_error == ""


def test_a_live_lease_is_respected_and_a_dead_fetchers_lease_runs_out(dovecot: Any) -> None:
    folder = new_folder(dovecot)
    box = mailbox(dovecot, folder)
    append(dovecot, folder, corpus.plain(subject="leased"))

    Mailbox.objects.filter(pk=box.pk).update(
        fetch_lease_owner="other-host:1234:abcd", fetch_lease_until=clock.now() + timedelta(minutes=3)
    )
    assert imap.fetch_all() == 0
    assert InboundMessage.objects.count() == 0
    box.refresh_from_db()
    assert box.fetch_lease_owner == "other-host:1234:abcd" and box.last_error == ""

    # That process died: its lease expired, so the next fetcher takes over.
    Mailbox.objects.filter(pk=box.pk).update(fetch_lease_until=clock.now() - timedelta(seconds=1))
    assert imap.fetch_all() == 1
    assert InboundMessage.objects.get().subject == "leased"
    box.refresh_from_db()
    assert box.fetch_lease_owner == ""


def test_lease_is_exclusive_renewable_and_lost_to_a_takeover() -> None:
    from tests import factories

    box = Mailbox.objects.create(
        address="lease@tessera.localhost", department=factories.department("technical")
    )
    first, second = imap.Lease(box.pk), imap.Lease(box.pk)
    assert first.acquire() and not second.acquire()
    assert first.renew() and first.acquire()  # re-acquiring our own lease renews it
    Mailbox.objects.filter(pk=box.pk).update(fetch_lease_until=clock.now() - timedelta(seconds=1))
    assert second.acquire()
    assert not first.renew() and not first.keep()  # the first fetcher must stop now
    first.release()  # releasing someone else's lease does nothing
    assert Mailbox.objects.get(pk=box.pk).fetch_lease_owner == second.owner
    second.release()
    assert Mailbox.objects.get(pk=box.pk).fetch_lease_owner == ""


def test_idle_loop_holds_the_lease_so_the_minute_job_stands_aside(
    dovecot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imap, "IDLE_SECONDS", 2)  # so the loop notices `stopping` soon
    folder = new_folder(dovecot)
    box = mailbox(dovecot, folder)
    append(dovecot, folder, corpus.plain(subject="before idle"))
    stopping = threading.Event()
    thread = threading.Thread(target=imap.idle_mailbox, args=(box.pk, stopping), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not InboundMessage.objects.exists():
            time.sleep(0.2)
        box.refresh_from_db()
        assert box.fetch_lease_owner != "" and box.fetch_lease_until is not None
        assert not imap.Lease(box.pk).acquire()
        assert imap.fetch_all() == 0
    finally:
        stopping.set()
        thread.join(timeout=imap.IDLE_SECONDS + 10)
    assert not thread.is_alive()
    box.refresh_from_db()
    assert box.fetch_lease_owner == ""  # released on the way out
    assert InboundMessage.objects.count() == 1
