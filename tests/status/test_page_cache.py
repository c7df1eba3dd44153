"""The public status page: anonymous visitors share one cached copy per language and time zone, which a
change replaces at once; a browser that holds the current copy gets 304 Not Modified; signed-in visitors
and visitors with a message get their own page."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.test import Client, RequestFactory

from tessera.status import services
from tests import factories
from tests.status.helpers import component

pytestmark = pytest.mark.django_db

VALID_CSRF_SECRET = "a" * 32


@pytest.fixture
def outage() -> Any:
    frankfurt = component()
    services.post_incident(
        actor=factories.agent(), title="Packet loss", body="Investigating", components=[frankfurt]
    )
    return frankfurt


def _request(
    *, method: str = "get", path: str = "/status/", cookies: dict[str, str] | None = None, **headers: str
) -> Any:
    client = Client(**headers)
    for name, value in (cookies or {}).items():
        client.cookies[name] = value
    return getattr(client, method)(path)


def _rendered(response: Any) -> bool:
    """Whether the view rendered a template for this response (a copy from the cache renders none)."""
    return bool(response.templates)


def _cookies(response: Any) -> dict[str, dict[str, Any]]:
    """Set-Cookie by name, with the attributes; a new CSRF secret is random, so only its length counts."""
    return {
        name: {**morsel, "value": len(morsel.value) if name == "csrftoken" else morsel.value}
        for name, morsel in response.cookies.items()
    }


@pytest.mark.parametrize(
    ("method", "path", "cookies", "headers", "language"),
    [
        ("get", "/status/", {}, {}, "en"),
        ("get", "/status/", {}, {"HTTP_ACCEPT_LANGUAGE": "it-IT,it;q=0.9"}, "it"),
        ("get", "/status/", {"django_language": "fr"}, {"HTTP_ACCEPT_LANGUAGE": "it"}, "fr"),
        ("get", "/status/", {"django_language": "xx"}, {"HTTP_ACCEPT_LANGUAGE": "pl"}, "pl"),
        ("get", "/status/", {"tessera_tz": "Asia/Tokyo"}, {}, "en"),
        ("get", "/status/", {"csrftoken": VALID_CSRF_SECRET}, {}, "en"),
        ("get", "/status/", {"csrftoken": "not-a-secret"}, {}, "en"),  # replaced by a new one, both times
        ("get", "/status/?utm_source=mail&x=<b>", {}, {}, "en"),
        ("head", "/status/", {}, {"HTTP_ACCEPT_LANGUAGE": "pl"}, "pl"),
    ],
)
def test_the_cached_copy_is_what_the_first_visitor_got(
    outage: Any, method: str, path: str, cookies: dict[str, str], headers: dict[str, str], language: str
) -> None:
    first = _request(method=method, path=path, cookies=cookies, **headers)  # renders and caches
    cached = _request(method=method, path=path, cookies=cookies, **headers)
    assert _rendered(first) and not _rendered(cached)
    assert first.status_code == cached.status_code == 200
    assert dict(cached.headers) == dict(first.headers)
    assert _cookies(cached) == _cookies(first)
    assert cached.content == first.content
    assert cached["Content-Language"] == language
    assert cached["Vary"] == "Cookie, Accept-Language"
    assert cached["X-Frame-Options"] == "DENY" and cached["X-Content-Type-Options"] == "nosniff"
    assert cached["Referrer-Policy"] == "same-origin"
    get = _request(path=path, cookies=cookies, **headers)
    assert int(cached["Content-Length"]) == len(get.content)
    if method == "get":
        assert f'<html lang="{language}">' in cached.content.decode()
    else:
        assert cached.content == b""


def test_anonymous_page_holds_no_csrf_token_and_sets_no_cookie(outage: Any) -> None:
    _request()
    cached = _request()
    html = cached.content.decode()
    assert not _rendered(cached)
    assert "csrfmiddlewaretoken" not in html and not cached.cookies
    assert 'method="get" action="/status/language"' in html
    # Same zone and language, any query string: one cached copy, and nothing of the query in it.
    with_query = _request(path="/status/?next=//evil.example")
    assert not _rendered(with_query) and with_query.content == cached.content


def test_each_language_and_zone_is_rendered_once_then_served_from_the_cache(outage: Any) -> None:
    assert _rendered(_request())  # English
    italian = _request(HTTP_ACCEPT_LANGUAGE="it")
    assert _rendered(italian) and '<html lang="it">' in italian.content.decode()
    tokyo = _request(cookies={"tessera_tz": "Asia/Tokyo"})
    assert _rendered(tokyo) and "Asia/Tokyo" in tokyo.content.decode()
    assert not _rendered(_request(HTTP_ACCEPT_LANGUAGE="it"))
    assert not _rendered(_request())
    cache.clear()
    assert _rendered(_request())


def test_a_change_is_shown_at_once(outage: Any) -> None:
    _request()
    assert "Major outage" in _request().content.decode()
    services.set_component_state(actor=factories.agent(), component=outage, state="degraded")
    changed = _request()
    assert _rendered(changed) and "Degraded performance" in changed.content.decode()
    again = _request()
    assert not _rendered(again) and again.content == changed.content


def test_a_browser_holding_the_current_copy_gets_not_modified(outage: Any) -> None:
    page = _request()
    etag = page["ETag"]
    unchanged = _request(HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304 and unchanged.content == b"" and unchanged["ETag"] == etag
    # Another language is another copy, so the validator does not match it.
    italian = _request(HTTP_IF_NONE_MATCH=etag, HTTP_ACCEPT_LANGUAGE="it")
    assert italian.status_code == 200 and italian["ETag"] != etag
    services.set_component_state(actor=factories.agent(), component=outage, state="degraded")
    changed = _request(HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and "Degraded performance" in changed.content.decode()
    assert changed["ETag"] != etag


def test_signed_in_visitors_get_the_full_page(outage: Any, client: Any) -> None:
    anonymous = _request()
    customer = factories.customer()
    client.force_login(customer)
    response = client.get("/status/", HTTP_IF_NONE_MATCH=anonymous["ETag"])
    html = response.content.decode()
    assert response.status_code == 200 and response.wsgi_request.user == customer
    assert customer.display_name in html and "csrfmiddlewaretoken" in html and "Packet loss" in html
    assert 'action="/language"' in html  # the site's own POST switcher, which also saves the choice


def test_visitors_with_a_message_get_it(outage: Any) -> None:
    _request()
    storage = CookieStorage(RequestFactory().get("/"))
    cookie = storage._encode([Message(constants.SUCCESS, "You have signed out.")])
    response = _request(cookies={"messages": cookie})
    assert _rendered(response) and "You have signed out." in response.content.decode()


def test_requests_the_stack_refuses_are_refused(outage: Any) -> None:
    _request()
    assert _request(HTTP_HOST="evil.example").status_code == 400
    assert _request(method="post").status_code == 405
    assert _request(path="/status").status_code == 301


def test_language_switch_sets_the_cookie_as_djangos_switcher_does(outage: Any) -> None:
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
