"""SLA benchmarks on the 1,000,000-ticket PostgreSQL database (see docs/benchmarks.md).

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera_bench TESSERA_DEBUG=false
    .venv/bin/python bench/sla_bench.py prepare     # migrate sla, SLA rows for every open ticket
    .venv/bin/python bench/sla_bench.py recompute   # a calendar change over 100,000 open tickets
    .venv/bin/python bench/sla_bench.py queue       # "due soonest" queue pages, p50/p99
    .venv/bin/python bench/sla_bench.py compute     # due-time computations per second (one core)

`prepare` only adds rows to the sla tables (never touches tickets) and is idempotent. Due-time
computation on its own is also measured by bench/sla_calendar_bench.py.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from tessera.accounts.models import Department, Membership, User  # noqa: E402
from tessera.sla import queries, services  # noqa: E402
from tessera.sla.demo import OFFICE_CALENDAR, STANDARD_POLICY, TECHNICAL_POLICY, office_definition  # noqa: E402
from tessera.sla.models import BusinessCalendar, SlaPolicy, SlaTarget, TicketSla  # noqa: E402
from tessera.tickets.access import visible_tickets  # noqa: E402

BENCH_CALENDAR = "Bench office (sla_bench.py)"
BENCH_POLICY = "Bench (sla_bench.py, inactive)"
RECOMPUTE_ROWS = 100_000


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def prepare() -> None:
    call_command("migrate", "sla", verbosity=1)
    office = BusinessCalendar.objects.get(name=OFFICE_CALENDAR)
    bench_calendar, _ = BusinessCalendar.objects.get_or_create(
        name=BENCH_CALENDAR, defaults={"definition": office.definition}
    )
    standard = SlaPolicy.objects.get(name=STANDARD_POLICY)
    technical = SlaPolicy.objects.get(name=TECHNICAL_POLICY)
    bench, created = SlaPolicy.objects.get_or_create(
        name=BENCH_POLICY, defaults={"order": 100_000, "is_active": False, "calendar": bench_calendar}
    )
    if created:
        for target in SlaTarget.objects.filter(policy=standard):
            target.pk = None
            target.policy = bench
            target.save()
    technical_id = Department.objects.get(slug="technical").pk
    values = ", ".join(
        f"({t.policy_id}, {t.priority_id}, '{json.dumps(t.minutes())}'::jsonb)"
        for t in SlaTarget.objects.filter(policy__in=[standard, technical])
    )
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO sla_ticketsla (ticket_id, policy_id, targets, started_at, paused_since, pauses,
                next_response_cycle, first_response_breached, next_response_breached,
                resolution_breached, acknowledge_breached)
            SELECT t.id, tg.policy_id, tg.targets, t.created_at,
                   CASE WHEN t.status = 'waiting' THEN t.updated_at END, '[]'::jsonb, 0,
                   false, false, false, false
            FROM tickets_ticket t
            JOIN (VALUES {values}) AS tg(policy_id, priority_id, targets)
              ON tg.priority_id = t.priority_id
             AND tg.policy_id = CASE WHEN t.department_id = %s THEN %s ELSE %s END
            WHERE t.status IN ('new', 'open', 'waiting')
              AND NOT EXISTS (SELECT 1 FROM sla_ticketsla s WHERE s.ticket_id = t.id)
            """,  # noqa: S608 - the VALUES come from our own rows, not from input
            [technical_id, technical.pk, standard.pk],
        )
        inserted = cursor.rowcount
        cursor.execute(
            """
            UPDATE sla_ticketsla SET policy_id = %s WHERE id IN (
                SELECT id FROM sla_ticketsla WHERE paused_since IS NULL AND policy_id <> %s
                ORDER BY id LIMIT %s)
            """,
            [bench.pk, bench.pk, RECOMPUTE_ROWS - TicketSla.objects.filter(policy=bench).count()],
        )
    print(f"inserted {inserted} TicketSla rows in {time.perf_counter() - began:.1f} s")
    for policy in (standard, technical, bench):
        began = time.perf_counter()
        done = services.recompute_dues(policy_id=policy.pk)
        print(f"computed dues of {done} rows ({policy.name}) in {time.perf_counter() - began:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sla_ticketsla")


def recompute(runs: int) -> None:
    calendar = BusinessCalendar.objects.get(name=BENCH_CALENDAR)
    admin = User.objects.filter(role=User.Role.ADMIN).first() or User(role=User.Role.ADMIN)
    lunch = office_definition()
    lunch["weekly"] = {day: [["09:00", "13:00"], ["14:00", "18:00"]] for day in lunch["weekly"]}
    definitions = [services.parse_calendar(d).to_dict() for d in (lunch, office_definition())]
    if calendar.definition == definitions[0]:
        definitions.reverse()  # every run must really change the calendar (unchanged rows are skipped)
    timings = []
    for run in range(runs):
        # What the API does (one row, task enqueued), then the task's work, timed.
        calendar.definition = definitions[run % 2]
        calendar.save(update_fields=["definition"])
        began = time.perf_counter()
        done = services.recompute_dues(calendar_id=calendar.pk)
        timings.append(time.perf_counter() - began)
        print(f"run {run + 1}: recomputed {done} open tickets in {timings[-1]:.2f} s")
    del admin
    print(f"median {statistics.median(timings):.2f} s, max {max(timings):.2f} s (target < 10 s)")


def queue(requests: int) -> None:
    department = Department.objects.get(slug="technical")
    member = Membership.objects.filter(department=department).select_related("agent").first()
    assert member is not None, "the bench data has agents in every department"  # noqa: S101
    agent = member.agent
    from tessera.core import clock

    def page(state: str) -> int:
        now = clock.now()
        tickets = visible_tickets(agent).select_related("sla", "priority", "department")
        tickets = tickets.filter(department=department, sla__due_at__isnull=False)
        if state == "breached":
            tickets = queries.breached(tickets, now)
        elif state == "breaching":
            tickets = queries.breaching_within(tickets, now, 60)
        rows = list(queries.order_by_due(tickets)[:25])
        queries.time_left(rows, now)  # what the page shows per ticket
        return len(rows)

    for state in ("running", "breached", "breaching"):
        for _ in range(20):
            page(state)  # warm-up
        timings = []
        for _ in range(requests):
            began = time.perf_counter()
            page(state)
            timings.append((time.perf_counter() - began) * 1000)
        print(
            f"queue state={state}: {requests} pages, median {statistics.median(timings):.1f} ms, "
            f"p99 {_pct(timings, 99):.1f} ms, max {max(timings):.1f} ms (target p99 < 50 ms)"
        )
    with connection.cursor() as cursor:
        sql, params = queries.order_by_due(
            visible_tickets(agent).filter(department=department, sla__due_at__isnull=False)
        )[:25].query.sql_with_params()
        cursor.execute("EXPLAIN ANALYZE " + sql, params)
        print("\n".join(row[0] for row in cursor.fetchall()))


def compute(calls: int) -> None:
    """Due-time computations as `_recompute` does them: add_business_minutes from each ticket's
    start on the office calendar, for random starts and targets."""
    from datetime import UTC, datetime, timedelta

    from tessera.sla.calendar import Calendar, add_business_minutes

    calendar = Calendar.from_dict(office_definition())
    rng = random.Random(4)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    inputs = [
        (base + timedelta(minutes=rng.randrange(525_600)), rng.choice([60, 480, 1440, 4320]))
        for _ in range(calls)
    ]
    add_business_minutes(calendar, base, 1)
    began = time.perf_counter()
    for start, minutes in inputs:
        add_business_minutes(calendar, start, minutes)
    elapsed = time.perf_counter() - began
    print(f"{calls} due times in {elapsed:.2f} s: {calls / elapsed:,.0f}/s (target >= 100,000/s)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["prepare", "recompute", "queue", "compute"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--calls", type=int, default=200_000)
    args = parser.parse_args()
    if args.command == "prepare":
        prepare()
    elif args.command == "recompute":
        recompute(args.runs)
    elif args.command == "queue":
        queue(args.requests)
    else:
        compute(args.calls)


if __name__ == "__main__":
    main()
