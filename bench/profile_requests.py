"""CPU per request, in-process (Django test client, no HTTP server): the workspace pages, the portal pages and
the API create, optionally under cProfile. CPU time of this process (time.process_time) is what a change of
Python code moves; wall time on the shared benchmark machine is not (other work shares the two cores).

    TESSERA_DATA_DIR=/work/benchdata/sqlite .venv/bin/python bench/profile_requests.py --repeat 30
    ... --profile page-queue            # cProfile of one case, top functions by cumulative time
    ... --instructions page-queue       # instructions per request, counted by valgrind (callgrind)

Instruction counts do not depend on what else runs on the machine: compare changes with them. valgrind
instruments only the measured requests (`callgrind_control -i on` from inside), not Django's start.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings")
os.environ.setdefault("TESSERA_DEBUG", "false")
os.environ["TESSERA_API_RATE"] = "1000000/s"

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from tessera.accounts.models import Department, User  # noqa: E402
from tessera.accounts.services import issue_api_token  # noqa: E402
from tessera.core.pagination import encode_cursor  # noqa: E402
from tessera.tickets import access  # noqa: E402
from tessera.tickets.models import Ticket  # noqa: E402


def cases() -> dict[str, tuple[Client, Callable[[Client], object]]]:
    technical = Department.objects.get(slug="technical")
    agent = User.objects.filter(role="agent", memberships__department=technical, is_active=True).order_by(
        "pk"
    )[0]
    customer = (
        User.objects.filter(role="customer", is_active=True, requested_tickets__isnull=False)
        .order_by("pk")
        .distinct()[0]
    )
    agents, customers = Client(HTTP_HOST="127.0.0.1"), Client(HTTP_HOST="127.0.0.1")
    agents.force_login(agent)
    customers.force_login(customer)
    visible = access.visible_tickets(agent)
    high = visible.order_by("-id").values_list("id", flat=True)[0]
    ticket = visible.filter(id__lt=high // 2).order_by("-id").values_list("id", flat=True)[0]
    own = Ticket.objects.filter(requester=customer).order_by("-id")[0].reference
    deep = visible.filter(status__in=["new", "open", "waiting"]).order_by("-id").values_list("id", flat=True)
    deep_id = deep[int(deep.count() * 0.9)] if deep.exists() else high
    token = issue_api_token(actor=customer, name="profile")[1]
    body = json.dumps(
        {"subject": "Profile", "description": "Profiling a ticket creation.", "department": "technical"}
    )
    return {
        "page-queue": (agents, lambda c: c.get("/agent/")),
        "page-deep": (agents, lambda c: c.get(f"/agent/q/open/?cursor={encode_cursor([deep_id])}")),
        "page-ticket": (agents, lambda c: c.get(f"/agent/tickets/{ticket}/")),
        "portal-list": (customers, lambda c: c.get("/")),
        "portal-ticket": (customers, lambda c: c.get(f"/tickets/{own}")),
        "api-create": (
            customers,
            lambda c: c.post(
                "/api/v1/tickets", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
            ),
        ),
    }


def instructions(name: str, repeat: int, extra: list[str]) -> float:
    """Run this script under callgrind for one case; its instructions per request (Python and, on SQLite,
    the database, which runs in the process)."""
    out = Path(tempfile.mkdtemp(prefix="callgrind-")) / "callgrind.out"
    subprocess.run(  # noqa: S603 - fixed argument list
        [  # noqa: S607 - valgrind from PATH
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            "--cases",
            name,
            "--repeat",
            str(repeat),
            "--_instrumented",
            *extra,
        ],
        check=True,
        capture_output=True,
    )
    totals = re.search(r"^totals:\s+(\d+)", out.read_text(), re.M)
    return int(totals[1]) / repeat if totals else float("nan")


def _instrument(on: bool) -> None:
    command = ["callgrind_control", "-i", "on" if on else "off", str(os.getpid())]
    subprocess.run(command, check=True, capture_output=True)  # noqa: S603 - fixed argument list


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--cases", default="page-queue,page-deep,page-ticket,portal-list,portal-ticket")
    parser.add_argument("--profile", help="one case to run under cProfile")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--instructions", help="cases to count instructions of, under valgrind")
    parser.add_argument(
        "--no-refcache", action="store_true", help="read the reference rows from the database on every use"
    )
    parser.add_argument("--_instrumented", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.instructions:
        extra = ["--no-refcache"] if args.no_refcache else []
        for name in args.instructions.split(","):
            count = instructions(name, args.repeat, extra)
            print(f"{name:<14} {count / 1e6:8.1f} M instructions per request", flush=True)
        return
    if args.no_refcache:  # what tessera.core.refcache saves: every get() loads the rows again
        from tessera.core.refcache import ReferenceTable

        ReferenceTable.get = lambda self: self._load()  # type: ignore[method-assign]
    all_cases = cases()
    for name in args.profile.split(",") if args.profile else args.cases.split(","):
        client, request = all_cases[name]
        for _ in range(3):  # warm-up: templates compiled, caches filled
            response = request(client)
        status = getattr(response, "status_code", 0)
        queries: list[str] = []

        def count(execute: Any, sql: str, *rest: Any, queries: list[str] = queries) -> Any:
            queries.append(sql)
            return execute(sql, *rest)

        with connection.execute_wrapper(count):
            request(client)
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.repeat):
                request(client)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)
            continue
        if args._instrumented:
            _instrument(True)
            for _ in range(args.repeat):
                request(client)
            _instrument(False)
            continue
        cpu = []
        for _ in range(args.repeat):
            began = time.process_time()
            request(client)
            cpu.append((time.process_time() - began) * 1000)
        cpu.sort()
        print(
            f"{name:<14} HTTP {status}  {len(queries):>3} queries  CPU per request: min {cpu[0]:.1f} ms, "
            f"median {statistics.median(cpu):.1f} ms, p90 {cpu[int(len(cpu) * 0.9)]:.1f} ms",
            flush=True,
        )


if __name__ == "__main__":
    main()
