"""Live connections follow the sign-in: a user's websockets close the moment the account is disabled or
the session that opened them ends (sign-out, deletion, expiry, a password change), not at the next timer
re-check. Driven with a real websocket client against the ASGI application served by uvicorn."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import uvicorn
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tessera.accounts.models import User
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ws_url(settings: Any) -> Iterator[str]:
    """tessera.asgi served by uvicorn in this process. The timers re-check only every 10 minutes here, so
    a socket that closes within the wait below was closed by the sign-in ending, not by its timer."""
    from tessera.asgi import application

    settings.TESSERA_LIVE_POLL_SECONDS = 600
    settings.NOTIFICATIONS_POLL_SECONDS = 600
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    database = connection.settings_dict
    kept_for = database["CONN_MAX_AGE"]
    database["CONN_MAX_AGE"] = 0  # consumers' connections close after each call (see tests/browser)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"ws://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    database["CONN_MAX_AGE"] = kept_for


@pytest.fixture
def sockets() -> Iterator[ExitStack]:
    """Closes the test's sockets at its end (websockets' client is a context manager)."""
    with ExitStack() as stack:
        yield stack


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _open(stack: ExitStack, url: str, client: Client, path: str = "/ws/notifications/") -> ClientConnection:
    origin = url.replace("ws://", "http://")
    sock = stack.enter_context(
        connect(
            url + path,
            additional_headers={"Cookie": f"sessionid={client.cookies['sessionid'].value}", "Origin": origin},
            open_timeout=10,
        )
    )
    if path == "/ws/notifications/":
        assert json.loads(sock.recv(timeout=10))["type"] == "unread"  # open, and serving its user
    return sock


def _close_code(sock: ClientConnection, timeout: float = 15) -> int | None:
    """Read until the server closes the socket; the close code (None if it stayed open)."""
    try:
        while True:
            sock.recv(timeout=timeout)
    except TimeoutError:
        sock.close()
        return None
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


def _disable(user: User) -> None:
    user.is_active = False
    user.save()


ENDINGS: dict[str, Callable[[User, Client], Any]] = {
    "account disabled": lambda user, client: _disable(user),
    "sign-out": lambda user, client: client.post("/accounts/logout/"),
    "session deleted": lambda user, client: Session.objects.filter(
        session_key=client.cookies["sessionid"].value
    ).delete(),
    "password changed elsewhere": lambda user, client: _signed_in(user).post(
        "/accounts/password/change/",
        {
            "oldpassword": "pw-123456789",
            "password1": "A-new-long-passphrase-9",
            "password2": "A-new-long-passphrase-9",
        },
    ),
}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_sockets_close_when_the_sign_in_ends(ws_url: str, sockets: ExitStack, ending: str) -> None:
    anna = factories.agent("technical", name="anna")
    ticket = factories.ticket(factories.customer("carla"))
    client = _signed_in(anna)
    bell = _open(sockets, ws_url, client)
    watch = _open(sockets, ws_url, client, f"/ws/agent/tickets/{ticket.pk}/")
    bystander = _open(sockets, ws_url, _signed_in(factories.agent("technical", name="ben")))
    ENDINGS[ending](User.objects.get(pk=anna.pk), client)
    assert _close_code(bell) == 4403
    assert _close_code(watch) == 4403
    assert _close_code(bystander, timeout=1) is None  # another person's socket stays open


def test_the_socket_of_the_session_that_changed_the_password_stays_open(
    ws_url: str, sockets: ExitStack
) -> None:
    carla = factories.customer("carla")
    client = _signed_in(carla)
    client.post(
        "/accounts/password/change/",
        {
            "oldpassword": "pw-123456789",
            "password1": "A-new-long-passphrase-9",
            "password2": "A-new-long-passphrase-9",
        },
    )
    assert not User.objects.get(pk=carla.pk).check_password("pw-123456789")
    assert _close_code(_open(sockets, ws_url, client), timeout=1) is None  # the page keeps its sign-in


def test_a_socket_closes_when_its_session_expires(ws_url: str, sockets: ExitStack) -> None:
    client = _signed_in(factories.customer("carla"))
    session = SessionStore(client.cookies["sessionid"].value)
    session.set_expiry(3)
    session.save()
    assert _close_code(_open(sockets, ws_url, client)) == 4403


def test_a_signed_out_browser_cannot_open_a_socket(ws_url: str, sockets: ExitStack) -> None:
    client = _signed_in(factories.customer("carla"))
    client.post("/accounts/logout/")
    with pytest.raises(InvalidStatus) as refused:
        _open(sockets, ws_url, client)
    assert refused.value.response.status_code == 403
