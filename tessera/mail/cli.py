"""`tessera mail …`: ingest (pipe from a mail server), listen (SMTP/LMTP), fetch (IMAP, IDLE loop),
rekey (re-encrypt stored secrets after a key rotation)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

# sysexits.h: what Postfix, Exim and Sendmail understand from a pipe command.
EX_OK = 0
EX_DATAERR = 65  # permanent: the message is refused and bounced
EX_TEMPFAIL = 75  # temporary: the server keeps the message and retries

logger = logging.getLogger("tessera.mail")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    mail = sub.add_parser("mail", help="email channel: ingest, listen, fetch")
    commands = mail.add_subparsers(dest="mail_command", required=True)
    ingest = commands.add_parser("ingest", help="store one message read from standard input (pipe)")
    ingest.add_argument("--recipient", action="append", default=[], help="envelope recipient")
    ingest.add_argument("--sender", default="", help="envelope sender")
    listen = commands.add_parser("listen", help="run an SMTP or LMTP listener")
    listen.add_argument(
        "url", nargs="?", default="", help="lmtp://127.0.0.1:2424 (default TESSERA_MAIL_LISTEN)"
    )
    fetch = commands.add_parser("fetch", help="fetch IMAP mailboxes (IDLE loop, or --once)")
    fetch.add_argument("--once", action="store_true")
    commands.add_parser(
        "rekey", help="re-encrypt stored mailbox secrets with the first key of TESSERA_ENCRYPTION_KEYS"
    )


def run(args: argparse.Namespace) -> int:
    if args.mail_command == "ingest":
        return ingest(sys.stdin.buffer.read(), recipients=args.recipient, sender=args.sender)
    if args.mail_command == "listen":
        return listen(args.url)
    if args.mail_command == "rekey":
        return rekey()
    return fetch(once=args.once)


def ingest(raw: bytes, *, recipients: list[str], sender: str) -> int:
    from tessera.mail.inbound.store import MessageRefused, store_raw

    try:
        row, created = store_raw(raw, source="pipe", envelope_from=sender, envelope_to=recipients)
    except MessageRefused as error:
        print(error.reason, file=sys.stderr)
        return EX_DATAERR
    except Exception as error:  # database down, disk full: the mail server must keep the message
        print(f"temporary failure: {error}", file=sys.stderr)
        return EX_TEMPFAIL
    print(f"stored as inbound message {row.pk}" + ("" if created else " (already received)"))
    return EX_OK


def _wait_for_signal() -> threading.Event:
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return stopping


def listen(url: str) -> int:
    from django.conf import settings

    from tessera.mail.inbound.smtp import start_listener

    url = url or settings.TESSERA_MAIL_LISTEN
    if not url:
        print("Give a URL (lmtp://127.0.0.1:2424) or set TESSERA_MAIL_LISTEN.", file=sys.stderr)
        return 2
    stopping = _wait_for_signal()
    controller = start_listener(url)
    print(f"Listening on {url}; Ctrl+C stops.", flush=True)
    stopping.wait()
    controller.stop()
    return 0


def fetch(*, once: bool) -> int:
    from tessera.mail.inbound.imap import fetch_all, idle_loop

    if once:
        print(f"{fetch_all()} new messages stored.")
        return 0
    stopping = _wait_for_signal()
    idle_loop(stopping)
    return 0


def rekey() -> int:
    from tessera.mail.crypto import rekey as rekey_secrets

    rewritten, unreadable = rekey_secrets()
    print(f"{rewritten} mailboxes re-encrypted with the first key.")
    if unreadable:
        print("No configured key reads the secrets of: " + ", ".join(unreadable), file=sys.stderr)
        return 1
    return 0


class Services:
    """What `tessera serve` started for mail, so it can stop it."""

    def __init__(self) -> None:
        self.controller: object | None = None
        self.stopping = threading.Event()

    def stop(self) -> None:
        self.stopping.set()
        if self.controller is not None:
            self.controller.stop()  # type: ignore[attr-defined]


def start_from_settings() -> Services:
    """Start the TESSERA_MAIL_LISTEN listener and the IMAP IDLE loop (if any mailbox fetches)."""
    from django.conf import settings

    from tessera.mail.inbound.imap import idle_loop
    from tessera.mail.models import Mailbox

    services = Services()
    if settings.TESSERA_MAIL_LISTEN:
        from tessera.mail.inbound.smtp import start_listener

        services.controller = start_listener(settings.TESSERA_MAIL_LISTEN)
        print(f"Mail listener on {settings.TESSERA_MAIL_LISTEN}", flush=True)
    if any(m.fetches for m in Mailbox.objects.filter(is_active=True)):
        threading.Thread(
            target=idle_loop, args=(services.stopping,), name="tessera-imap", daemon=True
        ).start()
    return services
