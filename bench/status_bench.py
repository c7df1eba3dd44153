"""Status page benchmarks (issue 6), bounded and on 127.0.0.1 only.

1. announce: N customers (default 100,000) hold a service on one component; an agent posts an incident.
   Measured: the post itself (announcement + fan-out task written in its transaction), the fan-out task
   (recipients computed, one delivery task per 500 written): "fully enqueued"; then, bounded by
   --deliver-seconds, the delivery tasks (in-app notifications + email copies queued).
2. cpu: CPU time of one cached anonymous /status/ hit in-process, through Django's WSGI handler (no server, no
   network), over --cpu-hits hits: without cookies (as wrk sends it) and with a browser's cookies.
3. page: the public /status/ page served by gunicorn (2 gthread workers), driven by wrk for --seconds after a
   warm-up; median and p99 from wrk's latency distribution.

    TESSERA_DATA_DIR=/tmp/tessera-status-bench .venv/bin/python bench/status_bench.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tessera_status_bench \
        .venv/bin/python bench/status_bench.py
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

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def announce(customers: int, deliver_seconds: float) -> dict[str, Any]:
    from django.db import connection

    from tessera.accounts.models import User
    from tessera.catalog.models import CustomerService
    from tessera.demo import ensure_reference_data
    from tessera.notifications.models import Notification
    from tessera.status import services
    from tessera.status.models import Announcement, Component
    from tessera.status.tasks import deliver_announcement_chunk, fan_out_announcement

    ensure_reference_data()
    admin = User.objects.filter(email="status-bench-admin@example.com").first() or User.objects.create_user(
        "status-bench-admin@example.com", role=User.Role.ADMIN
    )
    component = Component.objects.filter(
        group__name="Bench", name="Frankfurt"
    ).first() or services.create_component(actor=admin, group="Bench", name="Frankfurt")
    have = CustomerService.objects.filter(component=component).count()
    started = time.perf_counter()
    languages = ("en", "it", "pl", "fr")
    batch = 5000
    for offset in range(have, customers, batch):
        users = User.objects.bulk_create(
            [
                User(email=f"status-bench-{i}@example.com", password="!", language=languages[i % 4])  # noqa: S106 - "!" is an unusable password
                for i in range(offset, min(offset + batch, customers))
            ]
        )
        CustomerService.objects.bulk_create(
            [CustomerService(user=u, name=f"Server {u.pk}", component=component) for u in users]
        )
    print(f"data: {customers} customers with a service ({time.perf_counter() - started:.1f} s to create)")

    from django_tasks_db.models import DBTaskResult

    # Leftovers of an interrupted earlier run would be delivered (and timed) instead of this one.
    DBTaskResult.objects.ready().filter(task_path__contains="announcement").delete()
    t0 = time.perf_counter()
    incident = services.post_incident(
        actor=admin, title="Bench outage", body="Investigating.", components=[component]
    )
    post_seconds = time.perf_counter() - t0
    announcement = Announcement.objects.get(incident=incident)
    t1 = time.perf_counter()
    recipients = fan_out_announcement.call(announcement.pk)
    fan_out_seconds = time.perf_counter() - t1
    announcement.refresh_from_db()
    result: dict[str, Any] = {
        "customers": customers,
        "post_seconds": round(post_seconds, 3),
        "fan_out_seconds": round(fan_out_seconds, 3),
        "enqueued_seconds": round(post_seconds + fan_out_seconds, 3),
        "recipients": recipients,
        "chunks": announcement.chunks,
        "vendor": connection.vendor,
    }
    # Delivery, bounded: run the chunk tasks in this process until done or out of time.
    pending = list(
        DBTaskResult.objects.ready()
        .filter(task_path__endswith="deliver_announcement_chunk")
        .order_by("enqueued_at")
    )
    t2 = time.perf_counter()
    delivered_chunks = 0
    for row in pending:
        if time.perf_counter() - t2 > deliver_seconds:
            break
        announcement_id, user_ids = row.args_kwargs["args"]
        deliver_announcement_chunk.call(announcement_id, user_ids)
        row.delete()
        delivered_chunks += 1
    deliver_seconds_used = time.perf_counter() - t2
    notified = Notification.objects.filter(dedupe_key=f"status:announcement:{announcement.pk}").count()
    result.update(
        {
            "delivered_chunks": delivered_chunks,
            "notified": notified,
            "deliver_seconds": round(deliver_seconds_used, 1),
            "notifications_per_second": round(notified / deliver_seconds_used, 1)
            if deliver_seconds_used
            else None,
        }
    )
    return result


def cpu_per_hit(hits: int) -> dict[str, Any]:
    import io

    from django.core.handlers.wsgi import WSGIHandler

    handler = WSGIHandler()
    statuses: list[str] = []

    def hit(cookie: str) -> None:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/status/",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9",
            "HTTP_COOKIE": cookie,
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr,
        }
        body = handler(environ, lambda status, headers, exc_info=None: statuses.append(status))
        b"".join(body)
        body.close()

    result: dict[str, Any] = {"hits": hits}
    cookies = {"no_cookies": "", "browser_cookies": f"csrftoken={'a' * 32}; tessera_tz=Europe/Rome"}
    for label, cookie in cookies.items():
        for _ in range(100):  # the first renders and caches the page
            hit(cookie)
        started = time.process_time()
        for _ in range(hits):
            hit(cookie)
        result[f"{label}_ms"] = round((time.process_time() - started) / hits * 1000, 3)
    if set(statuses) != {"200 OK"}:
        raise SystemExit(f"unexpected responses: {set(statuses)}")
    return result


def page(seconds: int, connections: int, port: int, threads: int = 1) -> dict[str, Any]:
    env = {**os.environ, "TESSERA_ALLOWED_HOSTS": "127.0.0.1", "PYTHONPATH": str(ROOT)}
    log = tempfile.NamedTemporaryFile(prefix="status-bench-", suffix=".log", delete=False)  # noqa: SIM115
    server = subprocess.Popen(  # noqa: S603 - our own gunicorn on loopback
        [
            PYTHON,
            "-m",
            "gunicorn",
            "tessera.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/status/")
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"gunicorn did not start; see {log.name}")
            time.sleep(0.3)
        url = f"http://127.0.0.1:{port}/status/"
        subprocess.run(["wrk", "-t2", f"-c{connections}", "-d5s", url], check=True, capture_output=True)  # noqa: S603, S607
        out = subprocess.run(  # noqa: S603
            ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],  # noqa: S607
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        server.terminate()  # our own gunicorn master, by PID
        server.wait(timeout=20)

    def ms(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", out, re.M)
        if not match:
            raise SystemExit(out)
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "connections": connections,
        "seconds": seconds,
        "median_ms": ms("50"),
        "p99_ms": ms("99"),
        "requests_per_second": float(rps.group(1)) if rps else None,
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--deliver-seconds", type=float, default=120)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (serve: 1)")
    parser.add_argument("--cpu-hits", type=int, default=5000, help="in-process hits timed; 0: skip")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--skip-announce", action="store_true")
    args = parser.parse_args()
    setup_django()
    results: dict[str, Any] = {}
    if not args.skip_announce:
        results["announce"] = announce(args.customers, args.deliver_seconds)
        print(json.dumps(results["announce"], indent=2))
    if args.cpu_hits:
        results["cpu"] = cpu_per_hit(args.cpu_hits)
        print(json.dumps(results["cpu"], indent=2))
    from django.db import connections

    connections.close_all()
    results["page"] = page(args.seconds, args.connections, args.port, args.threads)
    print(json.dumps(results["page"], indent=2))


if __name__ == "__main__":
    main()
