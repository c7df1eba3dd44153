"""A request without credentials is told to authenticate: 401 with a problem body and
`WWW-Authenticate: Bearer`, for every method of every protected operation, never a 403 "CSRF check
failed". A signed-in browser session still needs its CSRF token to change anything."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from tessera.api.urls import api as ninja_api
from tests import factories as f

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"


def _protected_operations() -> list[tuple[str, str]]:
    schema = ninja_api.get_openapi_schema()
    operations = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if operation.get("security"):
                # Any number for path parameters: authentication is checked before anything is looked up.
                operations.append((method.upper(), re.sub(r"\{[^}]+\}", "1", path)))
    return operations


OPERATIONS = _protected_operations()


def test_every_method_is_among_the_protected_operations() -> None:
    assert {method for method, _path in OPERATIONS} >= {"GET", "POST", "PUT", "PATCH", "DELETE"}


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_a_request_without_a_token_gets_401_with_a_problem_body(method: str, path: str) -> None:
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    response = client.generic(method, path, data=b"{}", content_type="application/json")
    assert response.status_code == 401, (method, path, response.content[:200])
    assert response["Content-Type"] == PROBLEM
    assert response["WWW-Authenticate"] == "Bearer"
    body = response.json()
    assert body["status"] == 401 and body["type"] == "urn:tessera:problem:unauthenticated"
    assert "CSRF" not in body["detail"]


def test_a_wrong_token_is_401_too() -> None:
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    response = client.post(
        "/api/v1/tickets",
        data=b"{}",
        content_type="application/json",
        headers={"Authorization": "Bearer tsr_no"},
    )
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM


def test_a_signed_in_session_still_needs_the_csrf_token_to_write(settings: Any) -> None:
    user = f.customer()
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(user)
    assert client.get("/api/v1/departments").status_code == 200
    refused = client.post("/api/v1/tickets", data=b"{}", content_type="application/json")
    assert refused.status_code == 403
    assert refused["Content-Type"] == PROBLEM
    # With the token (as the pages send it) the request reaches validation.
    client.get("/tickets/new")  # a page with a form sets the CSRF cookie
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    accepted = client.post(
        "/api/v1/tickets", data=b"{}", content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert accepted.status_code == 422
