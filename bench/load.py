"""HTTP load benchmark of the ticket API against a bare-Django reference (issue 2).

For one database (PostgreSQL with --pg, else SQLite in TESSERA_DATA_DIR) and each gunicorn worker class,
it starts the reference app (bench/reference_app, one INSERT per request) and then Tessera, both with
`gunicorn --workers 2 --bind 127.0.0.1:PORT`, and drives them with wrk for a bounded time (warm-up, then
measurement) on 127.0.0.1 only:

  reference   POST /hit                                      rows/s (the reference figure)
  create      POST /api/v1/tickets (customer tokens)          tickets/s, median, p99
  queue-first GET /api/v1/tickets?department=technical&status=open&limit=25          (agent token)
  queue-deep  same, with a cursor ~90% down the ticket ids (900k down on 1M tickets)  (agent token)
  detail      GET /api/v1/tickets/{id}: ticket + messages + timeline, random ids      (agent token)

and reads VmHWM (peak RSS) of every gunicorn worker at the end. A task worker (`python -m tessera worker`)
runs beside Tessera's server, as in production, so creation is measured while the worker drains what it
queues (acknowledgements, notifications, their emails, delivered to a loopback SMTP server,
bench/smtp_sink.py; --no-task-worker leaves it out). Results are
printed as a table and written as JSON (--out). The data set must exist (bench/generate.py); this script
creates its tokens.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera_bench .venv/bin/python bench/load.py --pg
    TESSERA_DATA_DIR=/tmp/tessera-bench-sqlite .venv/bin/python bench/load.py
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = sys.executable
PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/tessera_bench"
PG_REFERENCE = "postgres://postgres@127.0.0.1:5432/tessera_bench_ref"
QUEUE = "/api/v1/tickets?department=technical&status=open&limit=25"


# --------------------------------------------------------------------------------------------------
# Preparation (runs inside Django, in a child process with the benchmark's environment)
# --------------------------------------------------------------------------------------------------


def prepare(deep_fraction: float, customers: int, sample: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings")
    import base64
    import random

    import django

    django.setup()
    from django.db import connection
    from django.db.models import Max, Min

    from tessera.accounts.models import Department, Membership, User
    from tessera.accounts.services import issue_api_token
    from tessera.tickets.models import Ticket

    technical = Department.objects.get(slug="technical")
    agent = (
        User.objects.filter(role=User.Role.AGENT, memberships__department=technical, is_active=True)
        .order_by("pk")
        .first()
    )
    if agent is None:
        raise SystemExit("No agent in the technical department: run bench/generate.py first.")
    customer_ids = list(
        User.objects.filter(role=User.Role.CUSTOMER, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:customers]
    )
    customer_tokens = [issue_api_token(actor=User.objects.get(pk=pk), name="bench")[1] for pk in customer_ids]
    agent_token = issue_api_token(actor=agent, name="bench")[1]

    bounds = Ticket.objects.aggregate(low=Min("id"), high=Max("id"))
    low, high = bounds["low"] or 0, bounds["high"] or 0
    total = Ticket.objects.count()
    rng = random.Random(7)

    def cursor(ticket_id: int) -> str:
        return base64.urlsafe_b64encode(json.dumps([ticket_id]).encode()).decode().rstrip("=")

    # Deep page: `deep_fraction` of the tickets are newer than the cursor (ids are dense after generate.py).
    deep_id = high - int(total * deep_fraction)
    spread = max(int(total * 0.01), 100)
    deep_paths = [
        f"{QUEUE}&cursor={cursor(rng.randint(deep_id - spread, deep_id + spread))}" for _ in range(500)
    ]

    departments = list(Membership.objects.filter(agent=agent).values_list("department_id", flat=True))
    with connection.cursor() as c:
        # Random ids visible to the agent (a member of these departments), spread over the whole range.
        probes = [rng.randint(low, high) for _ in range(sample * 3)]
        id_list, department_list = ",".join(map(str, probes)), ",".join(map(str, departments))
        c.execute(  # integers only
            f"SELECT id FROM tickets_ticket WHERE id IN ({id_list}) AND department_id IN ({department_list})"  # noqa: S608
        )
        detail_ids = [row[0] for row in c.fetchall()][:sample]
    pages = _pages(agent, detail_ids, rng)
    return {
        **pages,
        "agent": agent.email,
        "agent_token": agent_token,
        "customer_tokens": customer_tokens,
        "tickets": total,
        "low": low,
        "high": high,
        "deep_id": deep_id,
        "deep_paths": deep_paths,
        "detail_paths": [f"/api/v1/tickets/{i}" for i in detail_ids],
        "vendor": connection.vendor,
    }


def _pages(agent: Any, detail_ids: list[int], rng: Any) -> dict[str, Any]:
    """The agent's session cookie (made by Django's session machinery, as a sign-in would), the workspace
    pages and the search queries."""
    import re as re_
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from tessera.accounts.models import User
    from tessera.core.pagination import encode_cursor
    from tessera.tickets.access import visible_tickets
    from tessera.tickets.models import OPEN_STATUSES, Ticket

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(agent.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = agent.get_session_auth_hash()
    session.create()
    cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"

    # Deep workspace page: the "All open" queue, 90 % of its tickets down (newest first).
    open_ids = list(
        visible_tickets(agent)
        .filter(status__in=list(OPEN_STATUSES))
        .order_by("-id")
        .values_list("id", flat=True)
    )
    deep = open_ids[int(len(open_ids) * 0.9) : int(len(open_ids) * 0.9) + 200] or open_ids[-1:]
    deep_pages = [f"/agent/q/open/?cursor={encode_cursor([i])}" for i in deep]

    # Search: 1-3 consecutive words of a ticket's subject, per requester language; numbers, emails, IPs.
    queries: list[str] = []
    for language in ("en", "it", "pl", "fr"):
        subjects = list(
            Ticket.objects.filter(requester__language=language, pk__in=detail_ids).values_list(
                "subject", flat=True
            )
        ) or list(Ticket.objects.filter(requester__language=language).values_list("subject", flat=True)[:50])
        for subject in subjects[:50]:
            words = [w for w in re_.findall(r"\w+", subject) if len(w) > 2 and not w.isdigit()]
            if words:
                size = rng.randint(1, min(3, len(words)))
                start = rng.randint(0, len(words) - size)
                queries.append(" ".join(words[start : start + size]))
    lookups = [f"{settings.TESSERA_TICKET_PREFIX}-{i}" for i in detail_ids[:50]]
    lookups += list(
        User.objects.filter(role=User.Role.CUSTOMER).order_by("?").values_list("email", flat=True)[:50]
    )
    ips = Ticket.objects.filter(server_ip__isnull=False, pk__in=detail_ids).values_list(
        "server_ip", flat=True
    )
    lookups += [ip for ip in ips if ip][:50]
    from urllib.parse import quote

    return {
        "session_cookie": cookie,
        "page_queue_paths": ["/agent/"],
        "page_deep_paths": deep_pages,
        "page_ticket_paths": [f"/agent/tickets/{i}/" for i in detail_ids],
        "page_counts_paths": ["/agent/counts"],
        "search_words_paths": [f"/api/v1/search?q={quote(q)}" for q in queries],
        "search_lookups_paths": [f"/api/v1/search?q={quote(q)}" for q in lookups],
    }


# --------------------------------------------------------------------------------------------------
# Servers
# --------------------------------------------------------------------------------------------------


class Server:
    def __init__(
        self,
        name: str,
        app: str,
        port: int,
        env: dict[str, str],
        worker_class: str,
        workers: int,
        threads: int,
        cwd: Path,
    ) -> None:
        self.name, self.port = name, port
        args = [
            PYTHON,
            "-m",
            "gunicorn",
            app,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            worker_class,
            "--graceful-timeout",
            "10",
            "--timeout",
            "60",
        ]
        if worker_class == "gthread":
            args += ["--threads", str(threads)]
        self.log = tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log", delete=False)  # noqa: SIM115
        self.process = subprocess.Popen(args, env=env, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT)  # noqa: S603
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited; see {self.log.name}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/")
                conn.getresponse().read()
                conn.close()
                return
            except OSError:
                time.sleep(0.3)
        raise SystemExit(f"{self.name} did not start; see {self.log.name}")

    def workers(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.process.pid:
                    pids.append(int(entry.name))
        return sorted(pids)

    def memory(self) -> dict[str, Any]:
        result = {}
        for pid in self.workers():
            status = Path(f"/proc/{pid}/status").read_text()
            values = dict(re.findall(r"^(VmHWM|VmRSS):\s+(\d+) kB", status, re.M))
            result[pid] = {"peak_rss_mb": int(values["VmHWM"]) / 1024, "rss_mb": int(values["VmRSS"]) / 1024}
        return result

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # our own gunicorn master, by PID; it stops its workers
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


# --------------------------------------------------------------------------------------------------
# wrk
# --------------------------------------------------------------------------------------------------

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * UNITS[unit]


def wrk(url: str, script: Path, args: list[str], *, seconds: int, connections: int) -> dict[str, Any]:
    threads = min(2, connections)
    command = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    if args:
        command += ["--", *args]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout  # noqa: S603
    percentiles = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.M))
    if len(percentiles) < 4:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket = re.search(r"Socket errors: (.*)$", output, re.M)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),  # type: ignore[union-attr]
        "p50_ms": _ms(percentiles["50"]),
        "p90_ms": _ms(percentiles["90"]),
        "p99_ms": _ms(percentiles["99"]),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket.group(1) if socket else "",
        "connections": connections,
    }


def measure(
    name: str, url: str, script: Path, args: list[str], opts: argparse.Namespace, connections: int
) -> dict[str, Any]:
    if opts.warmup:
        wrk(url, script, args, seconds=opts.warmup, connections=connections)
    result = wrk(url, script, args, seconds=opts.duration, connections=connections)
    result["scenario"] = name
    print(
        f"    {name:<22} c={connections:<3} {result['rps']:9.1f} req/s  p50 {result['p50_ms']:7.2f} ms  "
        f"p99 {result['p99_ms']:7.2f} ms  non-2xx {result['non_2xx']}"
        + (f"  socket errors: {result['socket_errors']}" if result["socket_errors"] else ""),
        flush=True,
    )
    return result


def _check_signed_in(url: str, path: str, cookie: str) -> None:
    """wrk counts a redirect to the sign-in page as a success: make sure the cookie opens the page."""
    import http.client

    connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=30)
    connection.request("GET", path, headers={"Cookie": cookie})
    status = connection.getresponse().status
    connection.close()
    if status != 200:
        raise SystemExit(f"GET {path} with the agent's session cookie: HTTP {status}, expected 200")


# --------------------------------------------------------------------------------------------------
# Orchestration
# --------------------------------------------------------------------------------------------------


def base_env(opts: argparse.Namespace) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "PYTHONPATH"}}
    env.update(
        {
            "TESSERA_DEBUG": "false",
            "TESSERA_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "TESSERA_API_RATE": "1000000/s",
            "TESSERA_DATA_DIR": opts.data_dir,
        }
    )
    if opts.pg:
        env["DATABASE_URL"] = opts.database_url
        env["REFERENCE_DATABASE_URL"] = opts.reference_url
    else:
        env.pop("DATABASE_URL", None)
        env.pop("REFERENCE_DATABASE_URL", None)
    return env


def prepare_reference(opts: argparse.Namespace, env: dict[str, str]) -> None:
    if opts.pg:
        import psycopg

        name = opts.reference_url.rsplit("/", 1)[1]
        with psycopg.connect(opts.reference_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(  # noqa: S603 - fixed argument list
        [PYTHON, str(HERE / "reference_app" / "manage.py"), "migrate", "--verbosity", "0"],
        env=env,
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--pg", action="store_true", help="PostgreSQL (DATABASE_URL or the default bench URL)"
    )
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or PG_DEFAULT)
    parser.add_argument("--reference-url", default=os.environ.get("REFERENCE_DATABASE_URL") or PG_REFERENCE)
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("TESSERA_DATA_DIR") or "/tmp/tessera-bench-sqlite",  # noqa: S108
    )
    parser.add_argument("--worker-classes", default="gthread,sync")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--low-connections",
        type=int,
        default=1,
        help="also measure the read scenarios at this concurrency (0: skip)",
    )
    parser.add_argument("--duration", type=int, default=20, help="seconds measured per scenario")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of warm-up per scenario")
    parser.add_argument("--deep-fraction", type=float, default=0.9)
    parser.add_argument(
        "--scenarios",
        default="reference,create,queue-first,queue-deep,detail,page-queue,page-deep,page-ticket,page-counts,search",
    )
    parser.add_argument("--port", type=int, default=8740)
    parser.add_argument("--out", help="write results as JSON here")
    parser.add_argument(
        "--without-auto-assign",
        action="store_true",
        help="diagnostic: turn the departments' auto_assign off during the run (data only; restored)",
    )
    parser.add_argument(
        "--no-task-worker",
        dest="task_worker",
        action="store_false",
        help="diagnostic: no task worker beside the server (creation's queued work is not drained)",
    )
    parser.add_argument("--_prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--_auto-assign", dest="set_auto_assign", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts._prepare:
        print(json.dumps(prepare(opts.deep_fraction, customers=16, sample=500)))
        return
    if opts.set_auto_assign is not None:
        print(json.dumps(set_auto_assign(opts.set_auto_assign)))
        return

    env = base_env(opts)
    restore = None
    if opts.without_auto_assign:
        restore = _child(env, "--_auto-assign", "off")
        print(f"auto_assign turned off for {restore} (restored at the end)", flush=True)
    try:
        run(opts, env)
    finally:
        if restore:
            _child(env, "--_auto-assign", ",".join(restore))


def _child(env: dict[str, str], *args: str) -> Any:
    return json.loads(
        subprocess.run(  # noqa: S603
            [PYTHON, str(Path(__file__).resolve()), *args],
            env={**env, "DJANGO_SETTINGS_MODULE": "tessera.settings"},
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )


def set_auto_assign(value: str) -> list[str]:
    """'off': turn auto_assign off everywhere and return the slugs that had it on; else turn it on for the
    comma-separated slugs."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from tessera.accounts.models import Department

    if value == "off":
        slugs = list(Department.objects.filter(auto_assign=True).values_list("slug", flat=True))
        Department.objects.filter(slug__in=slugs).update(auto_assign=False)
        return slugs
    Department.objects.filter(slug__in=value.split(",")).update(auto_assign=True)
    return value.split(",")


def run(opts: argparse.Namespace, env: dict[str, str]) -> None:
    scenarios = opts.scenarios.split(",")
    prepared = _child(env, "--_prepare", "--deep-fraction", str(opts.deep_fraction))
    print(
        f"Database: {prepared['vendor']}, {prepared['tickets']:,} tickets "
        f"(ids {prepared['low']}..{prepared['high']}); "
        f"deep cursor around id {prepared['deep_id']}; agent {prepared['agent']}",
        flush=True,
    )
    workdir = Path(tempfile.mkdtemp(prefix="tessera-load-"))
    (workdir / "deep.txt").write_text("\n".join(prepared["deep_paths"]) + "\n")
    (workdir / "first.txt").write_text(QUEUE + "\n")
    (workdir / "detail.txt").write_text("\n".join(prepared["detail_paths"]) + "\n")
    for page in ("page_queue", "page_deep", "page_ticket", "page_counts", "search_words", "search_lookups"):
        (workdir / f"{page}.txt").write_text("\n".join(prepared[f"{page}_paths"]) + "\n")
    if "reference" in scenarios:
        prepare_reference(opts, env)

    results: list[dict[str, Any]] = []
    for worker_class in opts.worker_classes.split(","):
        print(
            f"  gunicorn --workers {opts.workers} --worker-class {worker_class}"
            + (f" --threads {opts.threads}" if worker_class == "gthread" else ""),
            flush=True,
        )
        if "reference" in scenarios:
            ref_env = {**env, "DJANGO_SETTINGS_MODULE": "reference_app.settings", "PYTHONPATH": str(HERE)}
            server = Server(
                "reference",
                "reference_app.wsgi:application",
                opts.port + 1,
                ref_env,
                worker_class,
                opts.workers,
                opts.threads,
                HERE,
            )
            try:
                result = measure(
                    "reference insert",
                    f"http://127.0.0.1:{server.port}",
                    HERE / "wrk" / "reference_hit.lua",
                    [],
                    opts,
                    opts.connections,
                )
                results.append(
                    {**result, "server": "reference", "worker_class": worker_class, "memory": server.memory()}
                )
            finally:
                server.stop()
        tessera_env = {**env, "DJANGO_SETTINGS_MODULE": "tessera.settings"}
        server = Server(
            "tessera",
            "tessera.wsgi:application",
            opts.port,
            tessera_env,
            worker_class,
            opts.workers,
            opts.threads,
            ROOT,
        )
        url = f"http://127.0.0.1:{server.port}"
        task_worker = smtp_sink = None
        if opts.task_worker:
            log = tempfile.NamedTemporaryFile(prefix="bench-task-worker-", suffix=".log", delete=False)  # noqa: SIM115
            smtp_port = opts.port + 2
            smtp_sink = subprocess.Popen(  # noqa: S603 - fixed argument list
                [PYTHON, str(HERE / "smtp_sink.py"), str(smtp_port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            task_worker = subprocess.Popen(  # noqa: S603 - fixed argument list
                [PYTHON, "-m", "tessera", "worker"],
                env={**tessera_env, "TESSERA_EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}"},
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            print(f"    task worker and SMTP sink log: {log.name}", flush=True)
        try:
            plan = []
            if "create" in scenarios:
                plan.append(
                    ("create ticket", HERE / "wrk" / "create_ticket.lua", prepared["customer_tokens"], False)
                )
            get = HERE / "wrk" / "get_paths.lua"
            if "queue-first" in scenarios:
                plan.append(
                    ("queue first page", get, [str(workdir / "first.txt"), prepared["agent_token"]], True)
                )
            if "queue-deep" in scenarios:
                plan.append(
                    ("queue deep page", get, [str(workdir / "deep.txt"), prepared["agent_token"]], True)
                )
            if "detail" in scenarios:
                plan.append(
                    ("ticket detail", get, [str(workdir / "detail.txt"), prepared["agent_token"]], True)
                )
            cookie = prepared["session_cookie"]
            _check_signed_in(url, prepared["page_ticket_paths"][0], cookie)
            for scenario, label in (
                ("page-queue", "page: queue /agent/"),
                ("page-deep", "page: queue deep"),
                ("page-ticket", "page: agent ticket"),
                ("page-counts", "page: sidebar counts"),
            ):
                if scenario in scenarios:
                    page = scenario.replace("-", "_")
                    plan.append((label, get, [str(workdir / f"{page}.txt"), "", cookie], True))
            if "search" in scenarios:
                for kind in ("words", "lookups"):
                    search = [str(workdir / f"search_{kind}.txt"), prepared["agent_token"]]
                    results.append(
                        {
                            **measure(f"search ({kind})", url, get, search, opts, 1),
                            "server": "tessera",
                            "worker_class": worker_class,
                        }
                    )
            for name, script, args, is_read in plan:
                levels = [opts.connections] + (
                    [opts.low_connections] if is_read and opts.low_connections else []
                )
                for connections in levels:
                    result = measure(name, url, script, args, opts, connections)
                    results.append({**result, "server": "tessera", "worker_class": worker_class})
            memory = server.memory()
            results.append(
                {
                    "scenario": "worker memory",
                    "server": "tessera",
                    "worker_class": worker_class,
                    "memory": memory,
                }
            )
            peak = max((m["peak_rss_mb"] for m in memory.values()), default=0)
            print(
                "    worker peak RSS (VmHWM): "
                + ", ".join(f"{pid}: {m['peak_rss_mb']:.0f} MB" for pid, m in memory.items())
                + f"  (max {peak:.0f} MB)",
                flush=True,
            )
        finally:
            server.stop()
            for process in (task_worker, smtp_sink):
                if process is not None:
                    process.terminate()  # our own worker and SMTP sink, by PID
                    process.wait(timeout=30)
    summary = {
        "database": prepared["vendor"],
        "tickets": prepared["tickets"],
        "deep_id": prepared["deep_id"],
        "auto_assign": not opts.without_auto_assign,
        "task_worker": opts.task_worker,
        "duration": opts.duration,
        "warmup": opts.warmup,
        "results": results,
    }
    if opts.out:
        Path(opts.out).write_text(json.dumps(summary, indent=2))
        print(f"Results written to {opts.out}")


if __name__ == "__main__":
    main()
