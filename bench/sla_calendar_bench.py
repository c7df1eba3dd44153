"""Throughput and latency of ``add_business_minutes`` (target: >= 100k calls/s on one core), and with
``--worst`` the worst valid SLA preview request (target: < 100 ms, issue 19).

Run: ``.venv/bin/python bench/sla_calendar_bench.py [--calls N] [--batch B] [--pauses]``
     ``.venv/bin/python bench/sla_calendar_bench.py --worst [--requests N]``
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time as clock
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tessera.sla.calendar import Calendar, add_business_minutes, business_minutes_between


def worst(requests: int) -> None:
    """The preview of a draft definition as the API answers it (`services.preview_calendar`, no database
    read): the most intervals a day on every day, with holidays, asked (a) for more business minutes than
    the search horizon holds, which builds the whole horizon before refusing, and (b) for the business
    minutes across the whole horizon. Every request brings a fresh draft (a new timeline), the worst case."""
    import os
    import tracemalloc

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings")
    django.setup()
    from tessera.accounts.models import User
    from tessera.core.errors import ValidationFailed
    from tessera.sla.calendar import MAX_INTERVALS_PER_DAY, SEARCH_HORIZON
    from tessera.sla.services import preview_calendar

    agent = User(role=User.Role.AGENT)
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    start = datetime(2026, 1, 1, tzinfo=ZoneInfo("UTC"))

    def definition(n: int) -> dict[str, object]:
        # One-minute intervals, 2 hours apart; a different closed date per request defeats every cache.
        intervals = [[f"{2 * h:02d}:00", f"{2 * h:02d}:01"] for h in range(MAX_INTERVALS_PER_DAY)]
        closed = (date(2000, 1, 1) + timedelta(days=n)).isoformat()
        return {
            "tz": "Europe/Rome",
            "weekly": dict.fromkeys(days, intervals),
            "holiday_country": "IT",
            "closed_dates": [closed],
        }

    def beyond(n: int) -> None:
        try:
            preview_calendar(actor=agent, start=start, definition=definition(n), minutes=10_000_000)
        except ValidationFailed:
            return
        raise AssertionError("the horizon should refuse this")

    def across(n: int) -> None:
        preview_calendar(actor=agent, start=start, definition=definition(n), end=start + SEARCH_HORIZON)

    beyond(-1)  # imports and the holiday tables, once per process
    for name, request in (
        ("minutes beyond the horizon (refused)", beyond),
        ("minutes across the horizon", across),
    ):
        wall: list[float] = []
        cpu: list[float] = []
        for n in range(requests):
            w, c = clock.perf_counter(), clock.process_time()
            request(n)
            wall.append((clock.perf_counter() - w) * 1e3)
            cpu.append((clock.process_time() - c) * 1e3)
        wall.sort()
        cpu.sort()
        tracemalloc.start()
        request(requests)
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        print(
            f"{name}: {requests} requests, wall median {statistics.median(wall):.1f} ms, "
            f"p99 {wall[min(len(wall) - 1, int(0.99 * len(wall)))]:.1f} ms; CPU median "
            f"{statistics.median(cpu):.1f} ms, p99 {cpu[min(len(cpu) - 1, int(0.99 * len(cpu)))]:.1f} ms; "
            f"peak traced memory {peak:.1f} MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--pauses", action="store_true", help="give every call two pauses")
    parser.add_argument("--worst", action="store_true", help="the worst valid preview request instead")
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    if args.worst:
        worst(args.requests)
        return

    rome = ZoneInfo("Europe/Rome")
    calendar = Calendar(
        tz="Europe/Rome",
        weekly={day: ((time(9), time(18)),) for day in range(5)},
        holiday_country="IT",
    )
    rng = random.Random(42)
    base = datetime(2026, 1, 1, tzinfo=rome)
    inputs = []
    for _ in range(args.calls):
        start = base + timedelta(minutes=rng.randrange(365 * 24 * 60))
        pauses = (
            (
                (start + timedelta(hours=1), start + timedelta(hours=3)),
                (start + timedelta(days=1), start + timedelta(days=1, hours=2)),
            )
            if args.pauses
            else ()
        )
        inputs.append((start, rng.randint(240, 4320), pauses))

    began = clock.perf_counter()
    add_business_minutes(calendar, base, 1)  # builds the cached timeline once
    print(f"first call (timeline build): {(clock.perf_counter() - began) * 1e3:.1f} ms")
    for start, minutes, pauses in inputs[:10_000]:  # warm-up, also covers the whole year
        add_business_minutes(calendar, start, minutes, pauses)

    per_call_us: list[float] = []
    total = 0.0
    for offset in range(0, len(inputs), args.batch):
        batch = inputs[offset : offset + args.batch]
        t0 = clock.perf_counter()
        for start, minutes, pauses in batch:
            add_business_minutes(calendar, start, minutes, pauses)
        elapsed = clock.perf_counter() - t0
        total += elapsed
        per_call_us.append(elapsed / len(batch) * 1e6)

    single: list[int] = []
    for start, minutes, pauses in inputs[:50_000]:
        t0 = clock.perf_counter_ns()
        add_business_minutes(calendar, start, minutes, pauses)
        single.append(clock.perf_counter_ns() - t0)
    single.sort()

    def pct(values: list[int], q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))] / 1e3

    print(f"calls: {len(inputs)} in batches of {args.batch}{' with 2 pauses each' if args.pauses else ''}")
    print(f"throughput: {len(inputs) / total:,.0f} calls/s")
    print(
        f"per-call over batches: median {statistics.median(per_call_us):.2f} us, "
        f"p99 {statistics.quantiles(per_call_us, n=100)[98]:.2f} us"
    )
    print(f"single calls (with timer): median {pct(single, 0.5):.2f} us, p99 {pct(single, 0.99):.2f} us")

    t0 = clock.perf_counter()
    for start, minutes, pauses in inputs[:50_000]:
        business_minutes_between(calendar, start, start + timedelta(minutes=minutes), pauses)
    print(f"business_minutes_between: {50_000 / (clock.perf_counter() - t0):,.0f} calls/s")


if __name__ == "__main__":
    main()
