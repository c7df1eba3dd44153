"""Email channel benchmark (bounded, 127.0.0.1 only): inbound messages parsed, threaded and stored per
second; outbound emails delivered per second to a local SMTP server; raw-store overhead.

    .venv/bin/python bench/mail_bench.py [--inbound 400] [--outbound 1000] [--only inbound|outbound]
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
    args = parser.parse_args()
    if args.only == "outbound":
        args.inbound = 0
    data = Path(tempfile.mkdtemp(prefix="tessera-mail-bench-"))
    os.environ["TESSERA_DATA_DIR"] = str(data)
    os.environ.pop("DATABASE_URL", None)
    os.environ["TESSERA_MAIL_SENDER_LIMIT"] = "1000000"
    os.environ["DJANGO_SETTINGS_MODULE"] = "tessera.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
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
    shutil.rmtree(data, ignore_errors=True)


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
    stop.wait(timeout=600)
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
