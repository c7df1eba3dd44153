"""Whatever a client sends, the API answers an RFC 9457 problem document, never a traceback; the OpenAPI
document declares those answers and the fields only agents may set."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client

from tessera.accounts import queries as account_queries
from tessera.api.urls import api as ninja_api
from tessera.tickets.models import Ticket
from tests import factories as f

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"


def _client(user: Any) -> tuple[Client, dict[str, str]]:
    return Client(raise_request_exception=False), {"Authorization": f"Bearer {f.token_for(user)}"}


@pytest.mark.parametrize("debug", [True, False])
def test_an_unexpected_failure_is_a_problem_with_a_logged_request_id(
    monkeypatch: Any, settings: Any, caplog: Any, debug: bool
) -> None:
    settings.DEBUG = debug

    def boom(user: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(account_queries, "visible_departments", boom)
    client, headers = _client(f.customer())
    with caplog.at_level(logging.ERROR, logger="tessera.api"):
        response = client.get("/api/v1/departments", headers=headers)
    assert response.status_code == 500
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["request_id"] == response["X-Request-ID"]
    assert (
        "secret internals" not in response.content.decode() and "Traceback" not in response.content.decode()
    )
    assert any(body["request_id"] in record.getMessage() and record.exc_info for record in caplog.records)


def test_an_unavailable_database_is_a_503_to_retry(monkeypatch: Any) -> None:
    def down(user: Any) -> Any:
        raise OperationalError("connection refused")

    monkeypatch.setattr(account_queries, "visible_departments", down)
    client, headers = _client(f.customer())
    response = client.get("/api/v1/departments", headers=headers)
    assert response.status_code == 503
    assert response["Content-Type"] == PROBLEM
    assert int(response["Retry-After"]) > 0
    assert response.json()["request_id"]


@pytest.mark.parametrize("debug", [True, False])
def test_unknown_paths_and_methods_under_the_api_are_json_problems(settings: Any, debug: bool) -> None:
    settings.DEBUG = debug
    client, headers = _client(f.customer())
    missing = client.get("/api/v1/no-such-thing", headers=headers)
    assert (missing.status_code, missing["Content-Type"]) == (404, PROBLEM)
    assert missing.json()["status"] == 404
    wrong = client.delete("/api/v1/departments", headers=headers)
    assert (wrong.status_code, wrong["Content-Type"]) == (405, PROBLEM)
    assert "GET" in wrong["Allow"]


def test_multipart_without_a_boundary_is_a_400_problem() -> None:
    customer = f.customer()
    ticket = f.ticket(customer)
    client, headers = _client(customer)
    response = client.post(
        f"/api/v1/tickets/{ticket.pk}/attachments",
        data=b"--x\r\nnot a form",
        content_type="multipart/form-data",
        headers=headers,
    )
    assert (response.status_code, response["Content-Type"]) == (400, PROBLEM)


def test_a_body_that_is_not_json_is_a_400_problem() -> None:
    client, headers = _client(f.customer())
    response = client.post("/api/v1/tokens", data=b"{nope", content_type="application/json", headers=headers)
    assert (response.status_code, response["Content-Type"]) == (400, PROBLEM)


def test_a_body_in_another_media_type_is_a_415_problem() -> None:
    client, headers = _client(f.customer())
    response = client.post(
        "/api/v1/tokens", data=b'{"name": "x"}', content_type="text/plain", headers=headers
    )
    assert (response.status_code, response["Content-Type"]) == (415, PROBLEM)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/services", {"customer_id": str(2**64)}),
        ("/api/v1/services", {"organisation_id": str(-(2**64))}),
        ("/api/v1/services", {"component_id": "0"}),
        ("/api/v1/contacts", {"organisation_id": str(2**70)}),
        ("/api/v1/tickets", {"requester": "²"}),
        ("/api/v1/tickets", {"assignee": "١٢"}),
    ],
)
def test_ids_beyond_the_database_range_or_in_other_digits_are_422(path: str, params: dict[str, str]) -> None:
    client, headers = _client(f.agent())
    response = client.get(path, params, headers=headers)
    assert (response.status_code, response["Content-Type"]) == (422, PROBLEM)
    assert response.json()["errors"][0]["field"] == next(iter(params))


def test_components_beyond_the_database_range_are_422() -> None:
    client, headers = _client(f.agent())
    for components in ([2**64], ["²"], [True]):
        response = client.post(
            "/api/v1/status/incidents",
            {"title": "Down", "body": "All of it", "components": components},
            content_type="application/json",
            headers=headers,
        )
        assert (response.status_code, response["Content-Type"]) == (422, PROBLEM), components


def test_an_empty_priority_is_refused_before_anything_runs() -> None:
    customer = f.customer()
    ticket = f.ticket(customer)
    client, headers = _client(customer)
    response = client.post(
        f"/api/v1/tickets/{ticket.pk}/priority",
        {"priority": "", "reason": "now"},
        content_type="application/json",
        headers=headers,
    )
    assert (response.status_code, response.json()["errors"][0]["field"]) == (422, "priority")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("version", True),
        ("version", "1"),
        ("problem_started_at", 0),
        ("problem_started_at", "2026-01-01T10:00:00"),
    ],
)
def test_json_types_are_not_coerced(field: str, value: Any) -> None:
    agent = f.agent()
    ticket = f.ticket(f.customer())
    client, headers = _client(agent)
    path, body = (
        (f"/api/v1/tickets/{ticket.pk}/notes", {"body": "x", "version": value})
        if field == "version"
        else (f"/api/v1/tickets/{ticket.pk}/details", {field: value})
    )
    response = (
        client.post(path, body, content_type="application/json", headers=headers)
        if (field == "version")
        else client.patch(path, body, content_type="application/json", headers=headers)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


def test_every_operation_documents_its_problem_answers() -> None:
    document = ninja_api.get_openapi_schema()
    assert "Problem" in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert "503" in codes, (method, path)
            if operation.get("security"):
                assert {"401", "403", "429"} <= codes, (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "415", "422"} <= codes, (method, path)
            for code in (code for code in codes if int(code) >= 400):
                content = operation["responses"][code]["content"]
                assert content == {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}


# Agent-only fields ------------------------------------------------------------------------------------------

# A body each operation accepts from a customer, to which the agent-only field is added.
CUSTOMER_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/api/v1/tickets"): {"subject": "VPN", "description": "Down", "department": "technical"},
}


def _agent_only_fields(document: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    schemas = document["components"]["schemas"]
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is None:
                continue
            schema = schemas[body["schema"]["$ref"].rsplit("/", 1)[-1]]
            for name, spec in schema.get("properties", {}).items():
                if spec.get("x-agent-only"):
                    found.append((method, path, name, spec))
    return found


def _sample(spec: dict[str, Any], schemas: dict[str, Any]) -> Any:
    """A value the schema allows that differs from what a customer gets anyway (the `api` channel)."""
    options = [spec, *spec.get("anyOf", [])]
    for option in options:
        if "$ref" in option:
            option = schemas[option["$ref"].rsplit("/", 1)[-1]]
        if "enum" in option:
            return next(value for value in option["enum"] if value != "api")
        if option.get("type") == "array":
            return ["vip"]
    raise AssertionError(f"no sample for {spec}")


@pytest.mark.parametrize("role", ["customer", "agent", "admin"])
def test_fields_only_agents_may_set_are_refused_to_customers_by_name(role: str) -> None:
    document = ninja_api.get_openapi_schema()
    fields = _agent_only_fields(document)
    assert {name for _, _, name, _ in fields} >= {"tags", "channel"}
    user = {"customer": f.customer, "agent": f.agent, "admin": f.admin}[role]()
    client, headers = _client(user)
    for method, path, name, spec in fields:
        body = {**CUSTOMER_BODIES[(method, path)], name: _sample(spec, document["components"]["schemas"])}
        before = Ticket.objects.count()
        response = getattr(client, method)(path, body, content_type="application/json", headers=headers)
        if role == "customer":
            assert response.status_code == 422, (path, name, response.content)
            assert [e["field"] for e in response.json()["errors"]] == [name]
            assert Ticket.objects.count() == before
        else:
            assert response.status_code < 300, (path, name, response.content)
