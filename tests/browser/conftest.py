"""Browser tests: Playwright for Python driving Debian's chromium against pytest-django's live server.

Fixtures:
- ``browser``: one headless chromium for the browser tests (closed when they are done).
- ``page``: a fresh context (own cookies) and page per test, at desktop width, English unless
  ``locale`` is passed through the ``page_for`` factory.
- ``page_for(user=None, locale="en-GB", width=1280)``: more pages, e.g. an agent and a customer side by side;
  a given user is signed in by a session cookie (no login form round trip).
- ``shoot(page, name)``: screenshots at desktop and phone width into ``artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the test itself are
# still plain synchronous code, so Django's async-safety guard must not refuse them.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PHONE_WIDTH = 390


# Package scope, not session: Playwright's sync API keeps an event loop running in this thread, and
# later tests that call async_to_sync (websocket consumers) must not find it still there.
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: scripts/_system.sh installs it (apt-get install chromium)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
            ],
        )
        yield instance
        instance.close()


@pytest.fixture
def page_for(browser: Any, live_server: Any, settings: Any) -> Iterator[Callable[..., Any]]:
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    contexts: list[Any] = []

    def make(user: Any = None, locale: str = "en-GB", width: int = 1280) -> Any:
        context = browser.new_context(
            base_url=live_server.url,
            locale=locale,
            viewport={"width": width, "height": 900},
            timezone_id="Europe/Rome",
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        if user is not None:
            client = Client()
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
            session = client.cookies[settings.SESSION_COOKIE_NAME].value
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
            )
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(page_for: Callable[..., Any]) -> Any:
    return page_for()


@pytest.fixture
def shoot() -> Callable[[Any, str], None]:
    """Saves full-page screenshots of the page as it is, at desktop and phone width."""

    def take(page: Any, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        original = page.viewport_size
        page.screenshot(path=str(SCREENSHOTS / f"{name}-desktop.png"), full_page=True)
        page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
        page.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=True)
        page.set_viewport_size(original)

    return take


@dataclass
class AsgiServer:
    host: str
    server: Any
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def asgi_server(live_server: Any, settings: Any) -> Iterator[AsgiServer]:
    """The websocket side as `tessera serve` runs it: a separate ASGI server (uvicorn) next to the live
    HTTP server, which speaks only WSGI. Cookies are per host, not port, so the session works on both."""
    import uvicorn
    from channels.auth import AuthMiddlewareStack
    from channels.routing import ProtocolTypeRouter, URLRouter
    from channels.security.websocket import AllowedHostsOriginValidator

    from tessera.routing import websocket_urlpatterns

    application = ProtocolTypeRouter(
        {"websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))}
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Each database call of a consumer closes its connection again, as a request does: a connection kept in
    # asgiref's executor thread would stop PostgreSQL from dropping the test database at the end.
    database = connection.settings_dict
    kept_for = database["CONN_MAX_AGE"]
    database["CONN_MAX_AGE"] = 0
    server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    running = AsgiServer(f"localhost:{port}", server, thread)
    # The pages' Content-Security-Policy lets them connect to this server, as it does for the websocket
    # port `tessera serve` uses.
    csp = dict(settings.SECURE_CSP)
    csp["connect-src"] = [*csp["connect-src"], f"ws://{running.host}"]
    settings.SECURE_CSP = csp
    yield running
    running.stop()
    database["CONN_MAX_AGE"] = kept_for


def wait_until(page: Any, expression: str, timeout: float = 10.0) -> None:
    """Wait until a JavaScript expression is true in the page. Playwright's wait_for_function polls by
    evaluating a string inside the page, which the Content-Security-Policy (no eval) forbids; evaluating from
    the test's side is allowed, so this polls from here."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"Still false after {timeout} s: {expression}")
        page.wait_for_timeout(50)
