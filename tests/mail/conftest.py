from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class Sink:
    """An SMTP server on loopback that keeps what it receives; `refuse` makes it answer an error code."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.refuse: dict[str, str] = {}  # recipient -> SMTP reply
        self.lock = threading.Lock()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for rcpt, m in self.messages if address in rcpt]

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()


@pytest.fixture(scope="session")
def smtp_sink_server() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


@pytest.fixture
def smtp_sink(smtp_sink_server: tuple[Sink, int], settings: Any) -> Iterator[Sink]:
    """Outbound mail goes over real SMTP to the loopback sink."""
    sink, port = smtp_sink_server
    sink.clear()
    sink.refuse.clear()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
        }
    }
    yield sink
    sink.clear()


@pytest.fixture(autouse=True)
def _mail_settings(settings: Any) -> None:
    settings.TESSERA_MAIL_AUTHSERV_ID = "mx.tessera.test"
    settings.DEFAULT_FROM_EMAIL = "support@tessera.localhost"


@pytest.fixture(scope="session")
def oauth_server_session() -> Iterator[Any]:
    from tests.mail.dovecot import USER
    from tests.mail.oauth import OAuthServer

    server = OAuthServer(USER)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def oauth_server(oauth_server_session: Any) -> Any:
    """The loopback OAuth2 token and introspection endpoint Dovecot's XOAUTH2 login is checked against."""
    oauth_server_session.reset()
    return oauth_server_session


@pytest.fixture(scope="session")
def dovecot(oauth_server_session: Any) -> Iterator[Any]:
    import tempfile
    from pathlib import Path

    from tests.mail.dovecot import Dovecot, available

    if not available():
        pytest.skip("Dovecot is not installed (scripts/_system.sh installs it) or we are not root")
    # Not under pytest's tmp folder: its 0700 parents keep Dovecot's unprivileged processes out.
    server = Dovecot(
        Path(tempfile.mkdtemp(prefix="tessera-dovecot-")),
        free_port(),
        introspection_url=oauth_server_session.introspection_url,
    )
    server.start()
    yield server
    server.stop()


def subprocess_env() -> dict[str, str]:
    """Environment for a child `python -m tessera …` that uses this test's (committed) database."""
    import os
    from pathlib import Path

    from django.conf import settings
    from django.db import connection

    # Same database and same media folder (raw messages) as the test.
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tessera.settings",
        "TESSERA_DATA_DIR": str(Path(settings.MEDIA_ROOT).parent),
    }
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    else:
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    return env
