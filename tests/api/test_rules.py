"""The rules the OpenAPI document cannot state (tests/api/test_contract.py RULES) hold: a schema-valid
request that breaks one gets a 422 naming the field, and changes nothing. Rules tested elsewhere are
in the app's own tests too (tests/api/test_tickets_api.py, tests/sla, tests/catalog)."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.accounts.models import Organisation, User
from tessera.catalog.models import CustomerService
from tessera.tickets.models import Ticket
from tests import factories as f

pytestmark = pytest.mark.django_db


def _refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.content
    problem = response.json()
    assert problem["type"] == "urn:tessera:problem:validation_failed"
    assert field in [error["field"] for error in problem["errors"]]


def test_a_service_belongs_to_a_customer_of_its_organisation(api_as: Any) -> None:
    api = api_as(f.agent("technical", name="anna"))
    carla = f.customer("carla", org=f.organisation("Carla Ltd"))
    other = f.organisation("Other Ltd")
    _refused(api.post("/services", {"name": "VPS", "customer_id": f.agent(name="ben").pk}), "customer_id")
    _refused(
        api.post("/services", {"name": "VPS", "customer_id": carla.pk, "organisation_id": other.pk}),
        "organisation",
    )
    assert not CustomerService.objects.exists()


def test_a_details_change_must_change_something(api_as: Any) -> None:
    anna = f.agent("technical", name="anna")
    ticket = f.ticket(f.customer("carla"))
    api = api_as(anna)
    assert api.patch(f"/tickets/{ticket.pk}/details", {"order_number": "A-1"}).status_code == 200
    version = Ticket.objects.get(pk=ticket.pk).version
    _refused(api.patch(f"/tickets/{ticket.pk}/details", {"order_number": "A-1"}), "order_number")
    assert Ticket.objects.get(pk=ticket.pk).version == version


def test_an_organisation_name_is_not_taken_twice(api_as: Any) -> None:
    api = api_as(f.agent("technical", name="anna"))
    assert api.post("/organisations", {"name": "Acme"}).status_code == 201
    _refused(api.post("/organisations", {"name": "Acme"}), "name")
    assert Organisation.objects.filter(name="Acme").count() == 1


def test_a_contact_address_is_one_django_accepts(api_as: Any) -> None:
    api = api_as(f.agent("technical", name="anna"))
    _refused(api.post("/contacts", {"email": "nobody@localhost-without-dot"}), "email")
    assert not User.objects.filter(email__startswith="nobody").exists()


def test_a_ticket_is_not_merged_into_itself(api_as: Any) -> None:
    ticket = f.ticket(f.customer("carla"))
    api = api_as(f.agent("technical", name="anna"))
    _refused(api.post(f"/tickets/{ticket.pk}/merge", {"target_id": ticket.pk}), "target")
    assert Ticket.objects.get(pk=ticket.pk).merged_into_id is None
