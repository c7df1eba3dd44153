"""Latency of full-text ticket search (first page, permission-filtered) and of the workspace's bounded
queue counts, on whatever database DATABASE_URL / TESSERA_DATA_DIR points at.

Target (issue 16): 1-3 words in any of the four languages and lookups by ticket number, email address or
IP address, p99 < 100 ms at one connection. The word queries are 1-3 consecutive words of real subjects
(as bench/load.py), per requester language; the lookups are random ticket numbers, customer emails and
server IPs of the data set.

Run (read-only, except --build-index):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera_bench TESSERA_DEBUG=false \\
        .venv/bin/python bench/search_bench.py --rounds 200
Tickets loaded without the services (bench/generate.py's bulk load) have no search documents yet: run
once with --build-index (tessera.search.services.reindex, then ANALYZE on PostgreSQL). --kinds / --people
re-run some rows only (substrings of their labels).

Besides wall time, each row reports the median CPU time of a search: this process plus, on PostgreSQL on
the same machine, the server backend (from /proc/<pid>/schedstat), which varies less than wall time on a
shared machine.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from tessera.accounts.models import User  # noqa: E402
from tessera.search.models import SearchDocument  # noqa: E402
from tessera.search.services import reindex, search_tickets  # noqa: E402
from tessera.tickets.models import Ticket  # noqa: E402
from tessera.workspace.queries import queue_counts  # noqa: E402

LANGUAGES = ("en", "it", "pl", "fr")
SAMPLE = 60  # tickets per language whose subjects give the word queries


def subject_queries(rng: random.Random, language: str) -> list[str]:
    """1-3 consecutive words (three letters or more) of real subjects in `language`, as bench/load.py."""
    pks = list(Ticket.objects.filter(requester__language=language).values_list("pk", flat=True)[:20000])
    queries = []
    for subject in Ticket.objects.filter(pk__in=rng.sample(pks, min(SAMPLE, len(pks)))).values_list(
        "subject", flat=True
    ):
        words = [w for w in re.findall(r"\w+", subject) if len(w) > 2 and not w.isdigit()]
        if words:
            size = rng.randint(1, min(3, len(words)))
            start = rng.randint(0, len(words) - size)
            queries.append(" ".join(words[start : start + size]))
    return queries


def backend_cpu() -> Callable[[], float]:
    """CPU seconds used so far by this process and, if it runs on this machine, its PostgreSQL backend."""
    stat = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            path = Path(f"/proc/{cursor.fetchone()[0]}/schedstat")
        stat = path if path.exists() else None

    def used() -> float:
        server = int(stat.read_text().split()[0]) / 1e9 if stat else 0.0
        return time.process_time() + server

    return used


def timed(call: Callable[[], Any], rounds: int, cpu: Callable[[], float]) -> tuple[list[float], list[float]]:
    call()  # warm the connection and the caches once
    samples, cpu_samples = [], []
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), cpu()
        call()
        samples.append((time.perf_counter() - start) * 1000)
        cpu_samples.append((cpu() - start_cpu) * 1000)
    return samples, cpu_samples


def report(name: str, samples: list[float], cpu_samples: list[float]) -> dict[str, float]:
    samples.sort()
    p99 = samples[min(len(samples) - 1, round(len(samples) * 0.99) - 1)]
    median = statistics.median(samples)
    line = f"{name:<52} n={len(samples):<5} median={median:7.1f} ms  p99={p99:7.1f} ms"
    print(f"{line}  max={samples[-1]:7.1f} ms  cpu median={statistics.median(cpu_samples):7.1f} ms")
    return {"median": median, "p99": p99}


def build_index() -> None:
    """Write the search documents of the tickets that have none (a bulk load skips the services)."""
    started = time.monotonic()
    written = reindex(Ticket.objects.filter(search_document__isnull=True), batch_size=2000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {SearchDocument._meta.db_table}")
    print(f"{written} search documents written in {time.monotonic() - started:.0f} s")


def search_sql(search: Callable[[User, str], Any], user: User, query: str) -> list[str]:
    """The statements of one search."""
    with CaptureQueriesContext(connection) as captured:
        search(user, query)
    return [q["sql"] for q in captured.captured_queries]


def explain(name: str, searches: list[list[str]]) -> None:
    """Buffers (shared hit + read) and execution time of each search, all its statements summed."""
    buffers, times = [], []
    for statements in searches:
        touched = spent = 0.0
        for sql in statements:
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")
                (plan,) = cursor.fetchone()[0]
            touched += plan["Plan"].get("Shared Hit Blocks", 0) + plan["Plan"].get("Shared Read Blocks", 0)
            spent += plan["Execution Time"]
        buffers.append(touched)
        times.append(spent)
    print(
        f"{name:<52} n={len(buffers):<4} buffers median={statistics.median(buffers):8.0f} "
        f"max={max(buffers):8.0f}  exec median={statistics.median(times):7.1f} ms max={max(times):7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200, help="queries per kind")
    parser.add_argument("--kinds", default="", help="comma-separated substrings of the query kinds to run")
    parser.add_argument("--people", default="", help="comma-separated substrings of the roles to run")
    parser.add_argument(
        "--explain",
        type=int,
        default=0,
        help="PostgreSQL: instead of timing, EXPLAIN (ANALYZE, BUFFERS) the slowest statement of N searches "
        "per kind and report the buffers they touched (robust on a shared machine)",
    )
    parser.add_argument("--build-index", action="store_true", help="write missing search documents first")
    args = parser.parse_args()
    rng = random.Random(7)
    if args.build_index:
        build_index()

    def chosen(label: str, filters: str) -> bool:
        return not filters or any(part in label for part in filters.split(","))

    tickets = Ticket.objects.order_by("-id").values_list("id", flat=True).first() or 0
    print(f"database: {connection.vendor}, newest ticket id {tickets}")
    # An unsaved admin when the data set has none: search only reads its role (admins see everything).
    admin = User.objects.filter(role="admin").first() or User(pk=0, role=User.Role.ADMIN)
    agents = User.objects.filter(role="agent").annotate(n=Count("memberships")).filter(n__gt=0)
    agent = agents.order_by("n", "id").first()  # one department: permission filter in the search
    agent_all = agents.order_by("-n", "id").first()
    customer = Ticket.objects.order_by("-id").values_list("requester", flat=True).first()
    customer_user = User.objects.get(pk=customer)
    people = [("agent, 1 dept", agent), ("agent, all depts", agent_all), ("admin", admin)]
    people += [("customer", customer_user)]
    for label, person in people[:2]:
        if person is not None:
            print(f"{label}: member of {person.memberships.count()} department(s)")
    print(f"customer: {Ticket.objects.filter(requester=customer_user).count()} tickets")

    phrases = {language: subject_queries(rng, language) for language in LANGUAGES}
    common = {  # the subject words most tickets share, per language
        language: [w for q in queries for w in q.split()] for language, queries in phrases.items()
    }
    ips = [str(ip) for ip in Ticket.objects.exclude(server_ip=None).values_list("server_ip", flat=True)[:500]]
    emails = list(
        User.objects.filter(role=User.Role.CUSTOMER).values_list("email", flat=True).order_by("?")[:200]
    )

    def query_kinds() -> dict[str, Callable[[], str]]:
        kinds: dict[str, Callable[[], str]] = {
            f"1-3 subject words ({language})": partial(rng.choice, phrases[language])
            for language in LANGUAGES
        }
        kinds |= {
            "most frequent subject word": lambda: max(set(common["en"]), key=common["en"].count),
            "word prefix (5 letters)": lambda: rng.choice([w for w in common["en"] if len(w) > 5])[:5],
            "ticket number (TS-n)": lambda: f"TS-{rng.randrange(1, tickets + 1)}",
            "email address": lambda: rng.choice(emails),
            "IP address (v4 or v6)": lambda: rng.choice(ips),
            "no match": lambda: f"zqx{rng.randrange(10**6)}",
        }
        return kinds

    search: Callable[[User, str], Any] = search_tickets
    cpu = backend_cpu()
    results: dict[str, dict[str, float]] = {}
    everything: tuple[list[float], list[float]] = ([], [])
    for label, user in people:
        if user is None or not chosen(label, args.people):
            continue
        for kind, make in query_kinds().items():
            if not chosen(kind, args.kinds):
                continue
            if args.explain:
                statements = [search_sql(search, user, make()) for _ in range(args.explain)]
                explain(f"search {label}: {kind}", statements)
                continue
            samples = timed(partial(lambda u, m: search(u, m()), user, make), args.rounds, cpu)
            everything[0].extend(samples[0])
            everything[1].extend(samples[1])
            results[f"search {label}: {kind}"] = report(f"search {label}: {kind}", *samples)
    if everything[0]:
        report("search, all kinds together", *everything)
    if agent is not None and not args.kinds and not args.people:
        report("queue counts (every sidebar queue), agent", *timed(lambda: queue_counts(agent), 20, cpu))


if __name__ == "__main__":
    main()
