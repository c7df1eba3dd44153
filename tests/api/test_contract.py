"""The API against its own OpenAPI document, property-based (Schemathesis): every operation, as a customer,
an agent and an admin, with valid and invalid requests, every check on.

A bounded number of examples per operation and a fixed seed keep the run short and repeatable; set
TESSERA_CONTRACT_EXAMPLES for a longer local run (docs/testing.md)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import is_unexpected_http_status_case, positive_data_acceptance

from tests import factories as f

EXAMPLES = int(os.environ.get("TESSERA_CONTRACT_EXAMPLES", "10"))
ROLES = ("customer", "agent", "admin")

# Rules the OpenAPI document cannot state, so a schema-valid request may still get a 422 naming the field
# (problem type validation_failed: a service's DomainError, never the request parser's invalid_request).
# Keyed by operation, "*" for every operation; each value says why the schema cannot say it.
_DETAILS = "which details a ticket needs depends on its department and priority (reference data)"
RULES: dict[str, dict[str, str]] = {
    "*": {"cursor": "a cursor is opaque: only one the API handed out decodes"},
    "POST /tickets": {
        "department": "an active department the user may file in (reference data)",
        "priority": "a priority slug that exists (reference data)",
        "requester_id": "someone the user may file for (organisation membership)",
        "cc_ids": "contacts the user may copy",
        "customer_service_id": "one of the requester's services",
        "channel": "agents only (x-agent-only)",
        "tags": "agents only (x-agent-only)",
        "server_ip": _DETAILS,
        "details": _DETAILS,
    },
    "GET /tickets": {
        "department": "a department the user may see",
        "priority": "a priority slug that exists",
    },
    "POST /tickets/{ticket_id}/status": {"reason": "waiting on the customer needs the question in reason"},
    "POST /tickets/{ticket_id}/priority": {"priority": "a priority slug that exists"},
    "POST /tickets/{ticket_id}/assignee": {"assignee": "an agent of the ticket's department"},
    "POST /tickets/{ticket_id}/department": {"department": "another department the user may use"},
    "PATCH /tickets/{ticket_id}/details": {
        "server_ip": _DETAILS,
        "details": _DETAILS,
        "*": "at least one value must differ from the ticket's current one (data)",
    },
    "PUT /tickets/{ticket_id}/cc": {"contact_ids": "contacts the user may copy"},
    "POST /tickets/{ticket_id}/merge": {"target": "another open ticket"},
    "POST /tickets/{ticket_id}/attachments": {
        "files": "at least one file: multipart has no empty list",
        "attachments": "a file type we accept, told by its content (sniffed), matching its name's extension",
    },
    "POST /contacts": {
        "email": "an address Django's EmailValidator accepts (not JSON Schema's `email`), not taken",
        "organisation_id": "an organisation the user may see",
    },
    "POST /organisations": {"name": "not already an organisation's"},
    "POST /sla/calendars": {"name": "not already a calendar's", "definition": "a valid calendar definition"},
    "PUT /sla/calendars/{calendar_id}": {
        "name": "not already a calendar's",
        "definition": "a valid calendar definition",
    },
    "POST /sla/policies": {
        "name": "not already a policy's",
        "department": "a department slug that exists",
        "calendar_id": "a calendar that exists",
        "organisation_id": "an organisation that exists",
        "priority": "a priority slug that exists",
        "targets": "one row per priority slug that exists",
        "escalation_rules": "a department slug that exists to move to",
    },
    "PUT /sla/policies/{policy_id}": {
        "name": "not already a policy's",
        "department": "a department slug that exists",
        "calendar_id": "a calendar that exists",
        "organisation_id": "an organisation that exists",
        "priority": "a priority slug that exists",
        "targets": "one row per priority slug that exists",
        "escalation_rules": "a department slug that exists to move to",
    },
    "PUT /sla/matrix": {"priority": "a priority slug that exists"},
    "POST /sla/preview": {
        "calendar_id": "a calendar that exists",
        "definition": "a valid calendar definition",
        "end": "not before start",
        "pauses": "each pause ends after it starts",
        "start": "the answer must fall within the supported years",
    },
    "POST /services": {
        "organisation": "the customer's own organisation when both are given",
        "customer_id": "a customer (not an agent) that exists",
        "organisation_id": "an organisation that exists",
        "component_id": "a component that exists",
        "ip_addresses": "IPv4/IPv6 addresses or networks",
    },
    "PATCH /services/{service_id}": {
        "customer": "a customer or an organisation must remain; a customer, not an agent",
        "organisation": "the customer's own organisation when both are set",
        "customer_id": "a customer that exists",
        "organisation_id": "an organisation that exists",
        "component_id": "a component that exists",
        "ip_addresses": "IPv4/IPv6 addresses or networks",
    },
    "POST /status/incidents": {"components": "components that exist"},
    "POST /status/maintenance": {"components": "components that exist", "ends_at": "after starts_at"},
    "PUT /status/maintenance/{maintenance_id}/window": {"ends_at": "after starts_at"},
    "POST /mail/verified-contacts": {
        "email": "an address Django's EmailValidator accepts, not a staff account's",
        "time_zone": "an IANA time zone name",
        "full_name": "no control characters",
        "phone": "no control characters",
        "organisation": "no control characters",
    },
    "POST /mail/verified-contacts/import": {"*": "CSV text naming an email column; rows are checked"},
    "PUT /mail/addresses": {
        "address": "an address Django's EmailValidator accepts",
        "department_id": "an active department that exists",
    },
    "POST /mail/trusted-servers": {
        "authserv_id": "a host-name-like authserv-id (RFC 8601)",
        "note": "no control characters",
    },
}


def _rule_for(case: Any, field: str | None) -> str | None:
    rules = RULES.get(f"{case.method.upper()} {case.path.removeprefix('/api/v1')}", {})
    if field is None:
        return rules.get("*")
    return rules.get(field.split(".")[0]) or rules.get("*") or RULES["*"].get(field)


ACCEPTED = {401, 403, 404, 409, 429}


@schemathesis.check
def valid_requests_are_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schemathesis's positive_data_acceptance, with one documented exception: a 422 for a rule in RULES."""
    if (
        case.meta is None
        or not case.meta.generation.mode.is_positive
        # the coverage phase makes one part negative in an otherwise positive case
        or not all(part.mode.is_positive for part in case.meta.components.values())
        or is_unexpected_http_status_case(case)
        or response.status_code < 400
        or response.status_code in ACCEPTED
    ):
        return None
    if response.status_code != 422:
        raise AssertionError(f"Schema-valid request rejected with {response.status_code}")
    problem = json.loads(response.content)
    fields = [error.get("field") for error in problem.get("errors", [])] or [None]
    if problem.get("type") != "urn:tessera:problem:validation_failed" or any(
        _rule_for(case, field) is None for field in fields
    ):
        raise AssertionError(f"Schema-valid request rejected: {problem}")
    return True


def _schema() -> Any:
    from tessera.wsgi import application

    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    loaded.config.generation.update(modes=["positive", "negative"], max_examples=EXAMPLES, deterministic=True)
    return loaded


pytestmark = pytest.mark.django_db
schema = _schema()


@pytest.fixture(autouse=True)
def _keep_test_connection() -> Iterator[None]:
    # The WSGI handler closes the connection after each request (Django's test client unhooks this too):
    # here it would close the test's own transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(params=ROLES)
def token(request: pytest.FixtureRequest, db: Any) -> str:
    """A small world with something to find, and the bearer token of the role under test."""
    org = f.organisation("Contract Ltd")
    customer = f.customer("carla", org=org, manager=True)
    agent = f.agent("technical", name="alex")
    f.ticket(customer, subject="VPN down")
    user = {"customer": customer, "agent": agent, "admin": f.admin()}[request.param]
    return f.token_for(user)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_keeps_its_contract(case: Any, token: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"},
        excluded_checks=[positive_data_acceptance],
        additional_checks=[valid_requests_are_accepted],
    )
