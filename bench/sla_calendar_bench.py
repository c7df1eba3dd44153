"""Throughput and latency of ``add_business_minutes`` (target: >= 100k calls/s on one core).

Run: ``.venv/bin/python bench/sla_calendar_bench.py [--calls N] [--batch B] [--pauses]``
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time as clock
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tessera.sla.calendar import Calendar, add_business_minutes, business_minutes_between


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--pauses", action="store_true", help="give every call two pauses")
    args = parser.parse_args()

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
