"""Email channel benchmark (bounded, 127.0.0.1 only): inbound messages parsed, threaded and stored per
second; outbound emails delivered per second to a local SMTP server; raw-store overhead; and a burst
delivered to the real SMTP listener while `tessera serve`'s workers run (acceptance rate, drain time,
acknowledgement latency, memory).

    .venv/bin/python bench/mail_bench.py [--inbound 400] [--outbound 1000] [--only inbound|outbound]
    .venv/bin/python bench/mail_bench.py --burst 3000 [--connections 4] [--database postgres://…/db]
    (--database: a PostgreSQL server URL; the bench creates and drops its own database named after it)
    (uses its own temp data folder; BENCH_PROFILE=1 prints a cProfile of each measured run;
    BENCH_PROFILE=calls counts profiler events instead of time, which does not depend on the machine's
    speed, and also prints events and queries per inbound message)
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import itertools
import multiprocessing
import os
import pstats
import shutil
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inbound", type=int, default=400)
    parser.add_argument("--outbound", type=int, default=1000)
    parser.add_argument("--only", choices=["inbound", "outbound"], help="measure one direction only")
    parser.add_argument(
        "--burst", type=int, default=0, help="messages of the SMTP burst (instead of the rest)"
    )
    parser.add_argument("--connections", type=int, default=4, help="SMTP connections of the burst")
    parser.add_argument("--port", type=int, default=18410, help="SMTP listener port of the burst (+1: sink)")
    parser.add_argument("--database", default="", help="PostgreSQL URL (default: SQLite in a temp folder)")
    args = parser.parse_args()
    if args.only == "outbound":
        args.inbound = 0
    data = Path(tempfile.mkdtemp(prefix="tessera-mail-bench-"))
    os.environ["TESSERA_DATA_DIR"] = str(data)
    os.environ.pop("DATABASE_URL", None)
    database = _fresh_postgres(args.database) if args.database else ""
    if database:
        os.environ["DATABASE_URL"] = database
    os.environ["TESSERA_MAIL_SENDER_LIMIT"] = "1000000"
    os.environ["TESSERA_MAIL_AUTHSERV_ID"] = "mx.tessera.test"  # the corpus's messages pass at this server
    if args.burst:
        os.environ["TESSERA_DEBUG"] = "false"  # as deployed: no query log, no per-task console lines
    os.environ["DJANGO_SETTINGS_MODULE"] = "tessera.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if args.burst:
        try:
            bench_burst(args.burst, args.connections, args.port)
        finally:
            _drop_postgres(database)
            shutil.rmtree(data, ignore_errors=True)
        return
    from django.conf import settings

    from tessera.accounts.models import User
    from tessera.demo import ensure_reference_data
    from tessera.mail.inbound.pipeline import process
    from tessera.mail.inbound.store import store_raw
    from tessera.mail.models import InboundMessage, OutboundEmail
    from tests.mail import corpus

    ensure_reference_data()
    customers = [User.objects.create_user(f"bench{i}@example.com", is_verified=True) for i in range(50)]
    # Inbound: half new tickets from known customers, a quarter from strangers, a quarter replies by tag.
    messages = []
    for i in range(args.inbound):
        who = customers[i % len(customers)].email
        if i % 4 == 3 and i > 8:
            messages.append(
                corpus.plain(
                    sender=who, subject=f"Re: [{settings.TESSERA_TICKET_PREFIX}-{1 + i % 4}] follow-up {i}"
                )
            )
        elif i % 4 == 2:
            messages.append(corpus.plain(sender=f"stranger{i}@elsewhere.example", subject=f"question {i}"))
        else:
            messages.append(
                corpus.plain(sender=who, subject=f"problem {i}", body=f"Server {i} is down.\n" * 5)
            )
    # Warm-up: first-time imports and template compilation are start-up costs, not per-message costs.
    for i in range(20):
        row, _ = store_raw(
            corpus.plain(sender=f"warm{i}@example.com", subject=f"warm-up {i}"), source="bench"
        )
        process(row.pk)
    InboundMessage.objects.filter(subject__startswith="warm-up").delete()
    per_message = []
    from django.db import connection

    statements = itertools.count()

    def count_statements(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        next(statements)
        return execute(sql, params, many, context)

    counting = contextlib.ExitStack()
    if os.environ.get("BENCH_PROFILE") == "calls":  # only then: counting costs time of its own
        counting.enter_context(connection.execute_wrapper(count_statements))
    profile = _start_profile()
    started = time.perf_counter()
    cpu_started = time.process_time()
    for raw in messages:
        t0 = time.perf_counter()
        row, _ = store_raw(raw, source="bench")
        process(row.pk)
        per_message.append(time.perf_counter() - t0)
    inbound_seconds = time.perf_counter() - started
    inbound_cpu = time.process_time() - cpu_started
    _print_profile(profile)
    counting.close()
    if profile is not None and os.environ.get("BENCH_PROFILE") == "calls" and messages:
        events = sum(stat[2] for stat in pstats.Stats(profile).stats.values())  # type: ignore[attr-defined]
        print(
            f"inbound: {events * 1e6 / len(messages):,.0f} profiler events and "
            f"{next(statements) / len(messages):.1f} queries per message"
        )
    processed = (
        InboundMessage.objects.filter(status="processed", source="bench")
        .exclude(subject__startswith="warm-up")
        .count()
    )
    raw_bytes = sum(len(m) for m in messages)
    kept = set(InboundMessage.objects.values_list("sha256", flat=True))
    stored_bytes = sum(
        p.stat().st_size
        for p in (Path(settings.MEDIA_ROOT) / "mail" / "raw").rglob("*.eml")
        if p.stem in kept
    )
    OutboundEmail.objects.all().delete()  # acknowledgements queued above are not part of the outbound run
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()
    if messages:
        per_message.sort()
        print(
            f"inbound: {processed}/{len(messages)} processed in {inbound_seconds:.2f}s = "
            f"{len(messages) / inbound_seconds:.0f} msg/s wall, "
            f"{len(messages) / inbound_cpu:.0f} msg/s per CPU-second; per message median "
            f"{statistics.median(per_message) * 1000:.1f} ms, "
            f"p99 {per_message[int(len(per_message) * 0.99) - 1] * 1000:.1f} ms"
        )
        print(
            f"raw store: {stored_bytes} bytes on disk for {raw_bytes} bytes of messages "
            f"(overhead {stored_bytes - raw_bytes} bytes)"
        )
    if args.only != "inbound":
        bench_outbound(args.outbound)
    _drop_postgres(database)
    shutil.rmtree(data, ignore_errors=True)


def _fresh_postgres(url: str) -> str:
    """A new, empty database on the server of `url` (named after its database, plus _bench)."""
    import psycopg

    base, _, name = url.rpartition("/")
    bench_name = f"{name or 'tessera'}_bench"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{bench_name}"')
        conn.execute(f'CREATE DATABASE "{bench_name}"')
    return f"{base}/{bench_name}"


def _drop_postgres(url: str) -> None:
    if not url:
        return
    import psycopg
    from django.db import connections

    connections.close_all()
    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _send_burst(port: int, first: int, count: int, step: int, sent: Any, refused: Any) -> None:
    """One SMTP client connection sending messages first, first+step, … (run in its own process)."""
    import smtplib

    from tests.mail import corpus

    with smtplib.SMTP("127.0.0.1", port, timeout=120) as client:
        for i in range(first, count, step):
            # Half the senders are registered customers, half strangers; every sender is new, so the
            # acknowledgement of each message is due (no per-sender limit applies).
            sender = f"customer{i}@example.com" if i % 2 else f"stranger{i}@elsewhere.example"
            raw = corpus.plain(sender=sender, subject=f"burst {i}", body=f"Server {i} is down.\n" * 5)
            try:
                client.sendmail(sender, ["support@tessera.localhost"], raw)
                with sent.get_lock():
                    sent.value += 1
            except smtplib.SMTPResponseException:
                with refused.get_lock():
                    refused.value += 1


def bench_burst(count: int, connections: int, port: int) -> None:
    """`count` messages over `connections` SMTP connections to the listener, with the listener and the
    task workers arranged as `tessera serve` arranges them (one process); the acknowledgements go to a
    local SMTP sink in another process."""
    import resource

    from django.conf import settings
    from django.db import connection
    from django.db.models import Max, Min

    from tessera.accounts.models import User
    from tessera.core.worker import serve_workers
    from tessera.demo import ensure_reference_data
    from tessera.mail.inbound.smtp import start_listener
    from tessera.mail.models import InboundMessage, OutboundEmail

    ensure_reference_data()
    User.objects.bulk_create(
        [User(email=f"customer{i}@example.com", is_verified=True) for i in range(1, count, 2)], batch_size=500
    )
    sink, stop_sink, _received = _start_sink(port + 1)
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port + 1},
        }
    }
    listener = start_listener(f"smtp://127.0.0.1:{port}")
    workers = serve_workers()
    spawn = multiprocessing.get_context("spawn")
    sent, refused = spawn.Value("i", 0), spawn.Value("i", 0)
    clients = [
        spawn.Process(target=_send_burst, args=(port, n, count, connections, sent, refused))
        for n in range(connections)
    ]
    sampler = _Sampler() if os.environ.get("BENCH_PROFILE") == "sample" else None
    cpu_started = time.process_time()
    started = time.monotonic()
    for client in clients:
        client.start()
    for client in clients:
        client.join(timeout=900)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        pending = InboundMessage.objects.filter(status="pending").count()
        unsent = OutboundEmail.objects.filter(state__in=["queued", "sending"]).count()
        if not pending and not unsent:
            break
        time.sleep(0.5)
    wall = time.monotonic() - started
    cpu = time.process_time() - cpu_started
    if sampler is not None:
        sampler.report()
    for worker in workers:
        worker.stop(timeout=10)
    listener.stop()
    stop_sink.set()
    sink.join(timeout=30)
    rows = InboundMessage.objects.aggregate(first=Min("received_at"), last=Max("received_at"))
    stored = InboundMessage.objects.count()
    processed = InboundMessage.objects.filter(status="processed").count()
    arrival = (rows["last"] - rows["first"]).total_seconds()
    drained_at = InboundMessage.objects.aggregate(done=Max("processed_at"))["done"]
    during = InboundMessage.objects.filter(processed_at__lte=rows["last"]).count()
    accepted_at = dict(InboundMessage.objects.values_list("ticket_id", "received_at"))
    latencies = sorted(
        (sent_at - accepted_at[ticket_id]).total_seconds()
        for ticket_id, sent_at in OutboundEmail.objects.filter(
            state="sent", render__template="ticket/ticket_received"
        ).values_list("ticket_id", "sent_at")
        if ticket_id in accepted_at
    )
    waits = sorted(
        (done - received).total_seconds()
        for received, done in InboundMessage.objects.values_list("received_at", "processed_at")
        if done is not None
    )
    sends = sorted(
        (sent_at - created).total_seconds()
        for created, sent_at in OutboundEmail.objects.filter(state="sent").values_list(
            "created_at", "sent_at"
        )
    )
    memory_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    drained = (drained_at - rows["last"]).total_seconds()
    print(
        f"burst on {connection.vendor}: {sent.value} accepted ({refused.value} refused) over {connections} "
        f"connections, {stored} stored, {processed} processed (lost: {sent.value - stored})"
    )
    print(
        f"  acceptance {stored / arrival:.0f} msg/s over {arrival:.1f} s; processed while arriving "
        f"{during} ({during / arrival:.0f} msg/s); drained {drained:.1f} s after the last accept; "
        f"{stored / cpu:.0f} msg/s per CPU-second of the server process "
        f"(listener, workers, delivery; {wall:.1f} s wall)"
    )
    if latencies:
        print(
            f"  acknowledgements: {len(latencies)} sent; latency from acceptance median "
            f"{statistics.median(latencies):.1f} s, p99 {_p99(latencies):.1f} s, max {latencies[-1]:.1f} s"
        )
    if waits and sends:
        print(
            f"  acceptance → processed median {statistics.median(waits):.1f} s, p99 {_p99(waits):.1f} s; "
            f"queued → sent median {statistics.median(sends):.1f} s, p99 {_p99(sends):.1f} s"
        )
    print(f"  memory: peak resident {memory_mb:.0f} MB (server process)")


def _p99(values: list[float]) -> float:
    return values[max(int(len(values) * 0.99) - 1, 0)]


class _Sampler:
    """BENCH_PROFILE=sample: where each thread of the burst spends its time (stack samples every 10 ms)."""

    def __init__(self) -> None:
        import collections
        import threading

        self.counts: collections.Counter[tuple[str, str]] = collections.Counter()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import threading
        import traceback

        me = threading.get_ident()
        while not self.stopping.wait(0.01):
            names = {t.ident: t.name for t in threading.enumerate()}
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                stack = traceback.extract_stack(frame)
                ours = [f for f in stack if "/tessera/" in f.filename or "django_tasks_db" in f.filename]
                where = " < ".join(f"{Path(f.filename).name}:{f.name}" for f in reversed(stack[-3:]))
                if ours:
                    where += " | " + f"{Path(ours[-1].filename).name}:{ours[-1].name}"
                self.counts[(names.get(ident, "?")[:28], where)] += 1

    def report(self) -> None:
        self.stopping.set()
        self.thread.join()
        for (name, where), n in self.counts.most_common(40):
            print(f"{n:6d} {name:28s} {where}")


def _start_sink(port: int) -> tuple[Any, Any, Any]:
    spawn = multiprocessing.get_context("spawn")
    received, ready, stop = spawn.Value("i", 0), spawn.Event(), spawn.Event()
    sink = spawn.Process(target=_run_sink, args=(port, received, ready, stop), daemon=True)
    sink.start()
    ready.wait(timeout=60)
    return sink, stop, received


def _run_sink(port: int, received: Any, ready: Any, stop: Any) -> None:
    """The local SMTP server, in its own process so that its CPU is not counted as Tessera's."""
    from aiosmtpd.controller import Controller

    class Sink:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            with received.get_lock():
                received.value += 1
            return "250 OK"

    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait(timeout=3600)  # outlives the longest run (a burst on a busy machine took 16 min)
    controller.stop()


def bench_outbound(count: int) -> None:
    from django.conf import settings

    from tessera.core.worker import run_pending_tasks
    from tessera.mail.models import OutboundEmail
    from tessera.mail.outbound import EmailSpec, queue_emails

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    spawn = multiprocessing.get_context("spawn")
    received, ready, stop = spawn.Value("i", 0), spawn.Event(), spawn.Event()
    sink = spawn.Process(target=_run_sink, args=(port, received, ready, stop), daemon=True)
    sink.start()
    ready.wait(timeout=60)
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port},
        }
    }
    specs = [
        EmailSpec(
            to=f"r{i}@example.com",
            subject="Maintenance tonight",
            text="Short text.\n" * 20,
            html="<p>Short text.</p>" * 20,
            dedupe_key=f"bench:{i}",
        )
        for i in range(count)
    ]
    queue_emails([EmailSpec(to="warm@example.com", subject="w", text="w", dedupe_key="warm")])
    run_pending_tasks()
    queue_emails(specs)
    profile = _start_profile()
    started = time.perf_counter()
    cpu_started = time.process_time()
    run_pending_tasks()
    outbound_seconds = time.perf_counter() - started
    outbound_cpu = time.process_time() - cpu_started
    _print_profile(profile)
    stop.set()
    sink.join(timeout=30)
    sent = OutboundEmail.objects.filter(state="sent", dedupe_key__startswith="bench:").count()
    print(
        f"outbound: {sent}/{len(specs)} sent ({received.value - 1} received) in {outbound_seconds:.2f}s = "
        f"{len(specs) / outbound_seconds:.0f} msg/s wall, "
        f"{len(specs) / outbound_cpu:.0f} msg/s per CPU-second of Tessera's process "
        "(the SMTP server runs in its own process)"
    )


def _start_profile() -> cProfile.Profile | None:
    if not os.environ.get("BENCH_PROFILE"):
        return None
    if os.environ["BENCH_PROFILE"] == "calls":
        counter = itertools.count()
        profile = cProfile.Profile(lambda: next(counter), 1e-6)
    else:
        profile = cProfile.Profile()
    profile.enable()
    return profile


def _print_profile(profile: cProfile.Profile | None) -> None:
    if profile is not None:
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
