"""StatusPageMiddleware: the anonymous status page answered from the cache before the session, auth and
message middlewares, byte for byte and header for header what the full stack answers; everyone else still
goes through the full stack."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse

from tessera.status import services, views
from tests import factories
from tests.status.helpers import component

pytestmark = pytest.mark.django_db

FAST_PATH = "tessera.status.middleware.StatusPageMiddleware"
VALID_CSRF_SECRET = "a" * 32


@pytest.fixture
def outage() -> Any:
    frankfurt = component()
    services.post_incident(
        actor=factories.agent(), title="Packet loss", body="Investigating", components=[frankfurt]
    )
    return frankfurt


def _request(
    settings: Any,
    *,
    fast: bool = True,
    method: str = "get",
    path: str = "/status/",
    cookies: dict[str, str] | None = None,
    **headers: str,
) -> Any:
    """One request through the project's middleware, or through it without the fast path."""
    middleware = settings.MIDDLEWARE
    if not fast:
        settings.MIDDLEWARE = [name for name in middleware if name != FAST_PATH]
    try:
        client = Client(**headers)
        for name, value in (cookies or {}).items():
            client.cookies[name] = value
        return getattr(client, method)(path)
    finally:
        settings.MIDDLEWARE = middleware


def _took_fast_path(response: Any) -> bool:
    # SessionMiddleware is the first one below the fast path: a request that reached it has a session.
    return not hasattr(response.wsgi_request, "session")


def _cookies(response: Any) -> dict[str, dict[str, Any]]:
    """Set-Cookie by name, with the attributes; a new CSRF secret is random, so only its length counts."""
    return {
        name: {**morsel, "value": len(morsel.value) if name == "csrftoken" else morsel.value}
        for name, morsel in response.cookies.items()
    }


def test_page_path_is_the_urlconfs() -> None:
    assert reverse("status:page") == views.PAGE_PATH


def test_fast_path_is_placed_right_below_the_security_middlewares(settings: Any) -> None:
    assert settings.MIDDLEWARE[:3] == [
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
        FAST_PATH,
    ]


@pytest.mark.parametrize(
    ("method", "path", "cookies", "headers", "language"),
    [
        ("get", "/status/", {}, {}, "en"),
        ("get", "/status/", {}, {"HTTP_ACCEPT_LANGUAGE": "it-IT,it;q=0.9"}, "it"),
        ("get", "/status/", {"django_language": "fr"}, {"HTTP_ACCEPT_LANGUAGE": "it"}, "fr"),
        ("get", "/status/", {"django_language": "xx"}, {"HTTP_ACCEPT_LANGUAGE": "pl"}, "pl"),
        ("get", "/status/", {"tessera_tz": "Asia/Tokyo"}, {}, "en"),
        ("get", "/status/", {"csrftoken": VALID_CSRF_SECRET}, {}, "en"),
        ("get", "/status/", {"csrftoken": "not-a-secret"}, {}, "en"),  # replaced by a new one, both ways
        ("get", "/status/?utm_source=mail&x=<b>", {}, {}, "en"),
        ("head", "/status/", {}, {"HTTP_ACCEPT_LANGUAGE": "pl"}, "pl"),
    ],
)
def test_fast_path_answers_exactly_what_the_full_stack_answers(
    settings: Any,
    outage: Any,
    method: str,
    path: str,
    cookies: dict[str, str],
    headers: dict[str, str],
    language: str,
) -> None:
    first = _request(settings, method=method, path=path, cookies=cookies, **headers)  # renders and caches
    full = _request(settings, fast=False, method=method, path=path, cookies=cookies, **headers)
    fast = _request(settings, method=method, path=path, cookies=cookies, **headers)
    assert not _took_fast_path(first) and not _took_fast_path(full) and _took_fast_path(fast)
    assert fast.status_code == full.status_code == 200
    assert dict(fast.headers) == dict(full.headers)
    assert _cookies(fast) == _cookies(full)
    assert fast.content == full.content
    assert fast["Content-Language"] == language
    assert fast["Vary"] == "Cookie, Accept-Language"
    assert fast["X-Frame-Options"] == "DENY" and fast["X-Content-Type-Options"] == "nosniff"
    assert fast["Referrer-Policy"] == "same-origin"
    get = _request(settings, path=path, cookies=cookies, **headers)
    assert int(fast["Content-Length"]) == len(get.content)
    if method == "get":
        assert f'<html lang="{language}">' in fast.content.decode()
    else:
        assert fast.content == b""


def test_anonymous_page_holds_no_csrf_token_and_sets_no_cookie(settings: Any, outage: Any) -> None:
    _request(settings)
    fast = _request(settings)
    html = fast.content.decode()
    assert _took_fast_path(fast)
    assert "csrfmiddlewaretoken" not in html and not fast.cookies
    assert 'method="get" action="/status/language"' in html
    # Same zone and language, any query string: one cached copy, and nothing of the query in it.
    with_query = _request(settings, path="/status/?next=//evil.example")
    assert _took_fast_path(with_query) and with_query.content == fast.content


def test_a_cache_miss_goes_down_the_full_stack_which_fills_the_cache(settings: Any, outage: Any) -> None:
    _request(settings)  # English cached
    italian = _request(settings, HTTP_ACCEPT_LANGUAGE="it")
    assert not _took_fast_path(italian) and '<html lang="it">' in italian.content.decode()
    tokyo = _request(settings, cookies={"tessera_tz": "Asia/Tokyo"})
    assert not _took_fast_path(tokyo) and "Asia/Tokyo" in tokyo.content.decode()
    assert _took_fast_path(_request(settings, HTTP_ACCEPT_LANGUAGE="it"))
    cache.clear()
    assert not _took_fast_path(_request(settings))


def test_a_change_is_shown_at_once(settings: Any, outage: Any) -> None:
    _request(settings)
    assert "Major outage" in _request(settings).content.decode()
    services.set_component_state(actor=factories.agent(), component=outage, state="degraded")
    changed = _request(settings)
    assert not _took_fast_path(changed) and "Degraded performance" in changed.content.decode()
    again = _request(settings)
    assert _took_fast_path(again) and again.content == changed.content


def test_signed_in_visitors_get_the_full_page(settings: Any, outage: Any, client: Any) -> None:
    _request(settings)
    customer = factories.customer()
    client.force_login(customer)
    response = client.get("/status/")
    html = response.content.decode()
    assert not _took_fast_path(response) and response.wsgi_request.user == customer
    assert customer.display_name in html and "csrfmiddlewaretoken" in html and "Packet loss" in html
    assert 'action="/language"' in html  # the site's own POST switcher, which also saves the choice


def test_visitors_with_a_message_get_it(settings: Any, outage: Any) -> None:
    _request(settings)
    storage = CookieStorage(RequestFactory().get("/"))
    cookie = storage._encode([Message(constants.SUCCESS, "You have signed out.")])
    response = _request(settings, cookies={"messages": cookie})
    assert not _took_fast_path(response) and "You have signed out." in response.content.decode()


def test_requests_the_full_stack_refuses_are_refused(settings: Any, outage: Any) -> None:
    _request(settings)
    assert _request(settings, HTTP_HOST="evil.example").status_code == 400
    assert _request(settings, method="post").status_code == 405
    assert _request(settings, path="/status").status_code == 301


def test_language_switch_sets_the_cookie_as_djangos_switcher_does(settings: Any, outage: Any) -> None:
    client = Client()
    response = client.get("/status/language?language=it")
    assert response.status_code == 302 and response["Location"] == "/status/"
    django = Client().post("/i18n/setlang/", {"language": "it", "next": "/status/"})
    assert _cookies(response) == _cookies(django)
    page = client.get("/status/")
    assert '<html lang="it">' in page.content.decode() and page["Content-Language"] == "it"
    # Unknown languages change nothing; only GET and HEAD are answered.
    assert not Client().get("/status/language?language=xx").cookies
    assert Client().post("/status/language", {"language": "it"}).status_code == 405


def test_head_of_an_incident_page(outage: Any, client: Any) -> None:
    incident = services.post_incident(
        actor=factories.agent(), title="Power", body="Investigating", components=[outage]
    )
    response = client.head(f"/status/incidents/{incident.pk}")
    assert response.status_code == 200 and response.content == b""
