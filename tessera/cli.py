"""`tessera` / `python -m tessera`: serve, worker, migrate, demo, createadmin, and any manage.py command."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from types import FrameType


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings")
    import django

    django.setup()


def _prepare_data_dir() -> None:
    from django.conf import settings

    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)


def cmd_migrate(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    _prepare_data_dir()
    call_command("migrate", interactive=False, verbosity=args.verbosity)
    from tessera.demo import ensure_reference_data

    ensure_reference_data()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from tessera.demo import DEMO_LOGINS, DEMO_PASSWORD, load_demo

    created = load_demo()
    print("Demo data loaded." if created else "Demo data already present.")
    print(f"Demo logins (password: {DEMO_PASSWORD}):")
    for email, name, role in DEMO_LOGINS:
        print(f"  {role:<9} {email:<28} {name}")
    return 0


def cmd_createadmin(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    call_command("createsuperuser", email=args.email, interactive=args.email is None)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    from tessera.core.worker import TaskWorker

    call_command("check")
    try:
        worker = TaskWorker(interval=args.interval, queues=args.queue, exclude=args.exclude_queue)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2

    def stop(signum: int, frame: FrameType | None) -> None:
        worker.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    queues = ", ".join(worker.queues) + (f" except {', '.join(worker.exclude)}" if worker.exclude else "")
    print(f"Worker {worker.worker_id} running (queues: {queues}); Ctrl+C to stop.", flush=True)
    worker.run()
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Everything in one command: migrate, demo data on first run, the WSGI server for pages and API, the
    ASGI server for websockets, and the task worker in this process."""
    from django.conf import settings
    from django.core.management import call_command

    from tessera.core.worker import serve_workers

    call_command("check")  # refuses insecure production settings before anything starts
    cmd_migrate(argparse.Namespace(verbosity=0))
    if args.demo:
        cmd_demo(args)
    call_command("collectstatic", interactive=False, verbosity=0)
    workers = str(args.workers or settings.TESSERA_SERVE_WORKERS)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tessera.settings",
        "TESSERA_WEBSOCKET_PORT": str(args.port + 1),  # the pages connect their websockets there
    }
    children = [
        subprocess.Popen(  # noqa: S603 - fixed argument list, no shell
            [
                sys.executable,
                "-m",
                "gunicorn",
                "tessera.wsgi:application",
                "--bind",
                f"{args.host}:{args.port}",
                "--workers",
                workers,
                "--worker-class",
                "gthread",
                "--threads",
                str(settings.TESSERA_SERVE_THREADS),
                "--access-logfile",
                "-" if args.access_log else "/dev/null",
                "--graceful-timeout",
                "10",
            ],
            env=env,
        ),
        subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "uvicorn",
                "tessera.asgi:application",
                "--host",
                args.host,
                "--port",
                str(args.port + 1),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
        ),
    ]
    from tessera.mail.cli import start_from_settings

    mail_services = start_from_settings()  # the inbound listener and IMAP fetcher, when configured
    task_workers = serve_workers()
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(
        f"Tessera is running on http://{args.host}:{args.port}/ (websockets on port {args.port + 1}); "
        "Ctrl+C stops it.",
        flush=True,
    )
    exit_code = 0
    while not stopping.is_set():
        if any(child.poll() is not None for child in children):
            print("A server process exited; stopping.", file=sys.stderr)
            exit_code = 1
            break
        for worker in task_workers:
            worker.ensure_running()
        stopping.wait(1)
    for worker in task_workers:
        worker.stop(timeout=0)
    mail_services.stop()
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + 15
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    for worker in task_workers:
        worker.thread.join(timeout=5)
    return exit_code


def default_base_url(host: str, port: int) -> str:
    """Unless TESSERA_BASE_URL is set, links in emails point where `serve` listens (--host/--port), so the
    demo's emails open the running server; a wildcard address is not one a browser can open, so it
    becomes localhost. Set before the settings load, for this process and the servers it starts."""
    if not os.environ.get("TESSERA_BASE_URL"):
        name = "localhost" if host in ("", "0.0.0.0", "::") else host  # noqa: S104 - compared, not bound
        if ":" in name:  # an IPv6 address
            name = f"[{name}]"
        os.environ["TESSERA_BASE_URL"] = f"http://{name}:{port}"
    return os.environ["TESSERA_BASE_URL"]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="tessera", description="Tessera help desk")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run web, websockets and worker together")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers", type=int, default=0, help="WSGI processes (default TESSERA_SERVE_WORKERS)"
    )
    serve.add_argument("--no-demo", dest="demo", action="store_false", help="do not load demo data")
    serve.add_argument("--access-log", action="store_true")
    worker = sub.add_parser("worker", help="run a task worker")
    worker.add_argument("--interval", type=float, default=0.5)
    worker.add_argument(
        "--queue",
        action="append",
        default=[],
        help="take only this queue (repeatable): default, mail-in, mail-out; default: all",
    )
    worker.add_argument(
        "--exclude-queue", action="append", default=[], help="leave this queue to other workers (repeatable)"
    )
    migrate = sub.add_parser("migrate", help="create or update the database")
    migrate.add_argument("--verbosity", type=int, default=1)
    sub.add_parser("demo", help="load demo data and print the demo logins")
    admin = sub.add_parser("createadmin", help="create an administrator")
    admin.add_argument("--email")
    from tessera.mail import cli as mail_cli  # the `mail` command group (ingest, listen, fetch)

    mail_cli.add_parser(sub)
    sub.add_parser("manage", help="run a Django management command", add_help=False)
    if argv and argv[0] == "manage":
        _setup()
        from django.core.management import execute_from_command_line

        execute_from_command_line(["tessera manage", *argv[1:]])
        return 0
    args = parser.parse_args(argv)
    if args.command == "serve":
        default_base_url(args.host, args.port)
    _setup()
    handlers = {
        "serve": cmd_serve,
        "worker": cmd_worker,
        "migrate": cmd_migrate,
        "demo": cmd_demo,
        "createadmin": cmd_createadmin,
        "mail": mail_cli.run,
    }
    return handlers[args.command](args)
