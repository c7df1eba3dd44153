"""Where does a ticket API request spend its time? Queries per request, time per query, EXPLAIN ANALYZE.

Runs the four benchmarked endpoints in-process (Django test client, no HTTP server), a few times each,
and prints for the last run of each: the number of queries, their total time, the slowest queries, and
(PostgreSQL) EXPLAIN ANALYZE of every query slower than --explain-ms. Read-only except for the tickets
it creates through the API, like the load test.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera_bench .venv/bin/python bench/diagnose.py
    TESSERA_DATA_DIR=/tmp/tessera-bench-sqlite .venv/bin/python bench/diagnose.py
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings")
os.environ.setdefault("TESSERA_DEBUG", "false")
os.environ["TESSERA_API_RATE"] = "1000000/s"

import django

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Max  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from tessera.accounts.models import Department, User  # noqa: E402
from tessera.accounts.services import issue_api_token  # noqa: E402
from tessera.tickets.models import Ticket  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--explain-ms", type=float, default=2.0)
    parser.add_argument("--deep-fraction", type=float, default=0.9)
    args = parser.parse_args()

    technical = Department.objects.get(slug="technical")
    agent = User.objects.filter(role="agent", memberships__department=technical).order_by("pk").first()
    customer = User.objects.filter(role="customer").order_by("pk").first()
    assert agent is not None and customer is not None  # noqa: S101
    agent_auth = {"HTTP_AUTHORIZATION": "Bearer " + issue_api_token(actor=agent, name="diagnose")[1]}
    customer_auth = {"HTTP_AUTHORIZATION": "Bearer " + issue_api_token(actor=customer, name="diagnose")[1]}
    high = Ticket.objects.aggregate(m=Max("id"))["m"]
    deep_id = high - int(Ticket.objects.count() * args.deep_fraction)
    cursor = base64.urlsafe_b64encode(json.dumps([deep_id]).encode()).decode().rstrip("=")
    detail_id = (
        Ticket.objects.filter(department=technical, id__lt=high // 2)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    queue = "/api/v1/tickets?department=technical&status=open&limit=25"
    body = json.dumps(
        {
            "subject": "Diagnose",
            "description": "Profiling a ticket creation.",
            "department": "technical",
            "priority": "medium",
        }
    )
    client = Client(HTTP_HOST="127.0.0.1")
    cases = [
        (
            "create ticket",
            lambda: client.post("/api/v1/tickets", body, content_type="application/json", **customer_auth),
            201,
        ),
        ("queue first page", lambda: client.get(queue, **agent_auth), 200),
        ("queue deep page", lambda: client.get(f"{queue}&cursor={cursor}", **agent_auth), 200),
        ("ticket detail", lambda: client.get(f"/api/v1/tickets/{detail_id}", **agent_auth), 200),
    ]
    print(
        f"{connection.vendor}: {Ticket.objects.count():,} tickets; agent {agent.email}; "
        f"deep cursor id {deep_id}; "
        f"detail ticket {detail_id}\n"
    )
    for name, call, expected in cases:
        timings = []
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response = call()
                timings.append((time.perf_counter() - began) * 1000)
            assert response.status_code == expected, (name, response.status_code, response.content[:300])  # noqa: S101
        queries = captured.captured_queries
        db_ms = sum(float(q["time"]) for q in queries) * 1000
        print(
            f"== {name}: {len(queries)} queries, {db_ms:.1f} ms in the database, request "
            f"{sorted(timings)[len(timings) // 2]:.1f} ms (median of {args.repeat}, in-process)"
        )
        for q in sorted(queries, key=lambda q: -float(q["time"]))[:5]:
            print(f"   {float(q['time']) * 1000:7.2f} ms  {q['sql'][:160]}")
        if connection.vendor == "postgresql":
            for q in queries:
                if float(q["time"]) * 1000 >= args.explain_ms and q["sql"].lstrip().upper().startswith(
                    "SELECT"
                ):
                    with connection.cursor() as c:
                        c.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"])
                        print("   --- EXPLAIN ANALYZE " + q["sql"][:300])
                        for (line,) in c.fetchall():
                            print("      " + line)
        print()


if __name__ == "__main__":
    main()
