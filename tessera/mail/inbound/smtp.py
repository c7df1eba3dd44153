"""The SMTP/LMTP listener a mail server delivers to (aiosmtpd). A message is acknowledged only after it
is stored; a database problem answers 451 so the sending server keeps it and retries."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP
from django.conf import settings
from django.db import close_old_connections, connection

from tessera.core import clock
from tessera.mail import ids
from tessera.mail.inbound.store import MessageRefused, store_raw
from tessera.mail.models import InboundMessage, OutboundEmail

logger = logging.getLogger("tessera.mail.smtp")


# Backpressure: while this much mail waits to be processed or sent, the listener holds its answer to the
# next message (the sending server simply waits; SMTP allows minutes) instead of storing faster than
# Tessera can work. Intake then never crowds processing and delivery out of the database, and the
# acknowledgement of the last message of a burst waits behind at most this backlog.
BACKLOG_LIMIT = 50
BACKLOG_WAIT_SECONDS = 60.0  # at most this long per message; then it is stored anyway, nothing refused
BACKLOG_POLL_SECONDS = 0.05


def wait_for_backlog(limit: int = BACKLOG_LIMIT, timeout: float = BACKLOG_WAIT_SECONDS) -> float:
    """Wait while the backlog (inbound pending + outbound queued) is at `limit` or more; returns how long
    it waited. Reads only, so it takes no write lock."""
    started = time.monotonic()
    while time.monotonic() - started < timeout and backlog() >= limit:
        time.sleep(BACKLOG_POLL_SECONDS)
    return time.monotonic() - started


def backlog() -> int:
    """Inbound messages waiting to be processed, plus ticket emails (acknowledgements, replies) due and
    not yet sent; announcements to many subscribers are not counted, they must not hold up intake."""
    pending = InboundMessage.objects.filter(status=InboundMessage.Status.PENDING).count()
    unsent = OutboundEmail.objects.filter(
        state=OutboundEmail.State.QUEUED, next_attempt_at__lte=clock.now(), ticket__isnull=False
    ).count()
    return pending + unsent


def _store(raw: bytes, source: str, mail_from: str, rcpt_tos: list[str]) -> None:
    close_old_connections()
    try:
        wait_for_backlog()
        store_raw(raw, source=source, envelope_from=mail_from, envelope_to=rcpt_tos)
    finally:
        close_old_connections()


def _storers() -> int:
    """Threads storing messages. SQLite has one writer at a time, and threads that wait for its lock
    sleep in growing steps and lose it to whoever asks next: stores from several connections then crowd
    out the task workers that process mail and send acknowledgements (a burst measured 8 messages/s
    processed while arriving). One storing thread queues the connections' messages in order instead,
    so intake takes the lock one message at a time. PostgreSQL stores concurrently."""
    return 1 if connection.vendor == "sqlite" else 4


class InboundHandler:
    def __init__(self, *, lmtp: bool) -> None:
        self.lmtp = lmtp
        self.executor = ThreadPoolExecutor(max_workers=_storers(), thread_name_prefix="tessera-mail-store")

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or b""
        source = "lmtp" if self.lmtp else "smtp"
        try:
            await asyncio.get_running_loop().run_in_executor(
                self.executor, _store, raw, source, envelope.mail_from or "", list(envelope.rcpt_tos)
            )
            reply = "250 2.0.0 Message stored"
        except MessageRefused as error:
            reply = f"{error.smtp_code} 5.3.4 {error.reason}"
        except Exception:
            logger.exception("storing an inbound message failed")
            reply = "451 4.3.0 Temporary failure, try again later"
        if self.lmtp:
            # LMTP answers once per recipient (RFC 2033); the message is stored once for all of them.
            return "\r\n".join([reply] * max(len(envelope.rcpt_tos), 1))
        return reply


class _Controller(Controller):
    def __init__(self, handler: InboundHandler, **kwargs: Any) -> None:
        self.lmtp = handler.lmtp
        super().__init__(handler, **kwargs)

    def factory(self) -> SMTP:
        cls = LMTP if self.lmtp else SMTP
        return cls(
            self.handler,
            data_size_limit=settings.TESSERA_MAIL_MAX_BYTES,
            hostname=ids.mail_domain(),
            ident="Tessera",
            **self.SMTP_kwargs,
        )


def start_listener(url: str) -> Controller:
    """Start a listener from lmtp://host:port or smtp://host:port in a background thread."""
    scheme, _, rest = url.partition("://")
    host, _, port = rest.rstrip("/").rpartition(":")
    if scheme not in ("lmtp", "smtp") or not (port.isascii() and port.isdigit()):
        raise ValueError(f"Listener must be lmtp://host:port or smtp://host:port, not {url!r}")
    controller = _Controller(
        InboundHandler(lmtp=scheme == "lmtp"), hostname=host or "127.0.0.1", port=int(port)
    )
    controller.start()
    return controller
