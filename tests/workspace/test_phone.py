"""Logging a phone call from someone who is not a contact yet: the new-contact form inside the phone call
page, created through accounts.services.create_contact and chosen as the caller."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tessera.accounts.models import User
from tessera.accounts.services import create_contact
from tessera.core.errors import PermissionDenied
from tessera.tickets.models import Channel, Ticket
from tests import factories

pytestmark = pytest.mark.django_db

CALLER = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "caller"}  # htmx swapping the caller box alone


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def new_contact(**fields: str) -> dict[str, str]:
    return {
        "caller": "create",
        "new_full_name": "Lucia Bianchi",
        "new_email": "lucia@example.org",
        "new_phone": "+39 02 1234567",
        "new_organisation": "",
        "new_language": "it",
        "new_time_zone": "Europe/Rome",
        **fields,
    }


@pytest.mark.parametrize(
    ("typed", "field"),
    [("lucia@example.org", "email"), ("+39 02 123", "phone"), ("Lucia Bianchi", "full_name")],
)
def test_the_new_contact_form_starts_from_what_was_searched(typed: str, field: str) -> None:
    agent = factories.agent("technical")
    response = client_for(agent).get("/agent/phone", {"caller": "new", "contact_q": typed}, **CALLER)
    assert response.status_code == 200
    assert response.templates[0].name == "workspace/_caller.html"  # the caller box alone
    new = response.context["new"]
    assert new[field] == typed
    assert all(new[other] == "" for other in ("full_name", "email", "phone") if other != field)
    body = response.content.decode()
    assert 'id="caller"' in body and "<html" not in body and 'name="new_email"' in body


def test_no_match_offers_to_create_the_contact() -> None:
    agent = factories.agent("technical")
    factories.customer("carla")
    body = client_for(agent).get("/agent/contacts", {"contact_q": "<b>nobody</b>"}).content.decode()
    assert "No contact matches." in body
    assert "Create “&lt;b&gt;nobody&lt;/b&gt;” as a new contact" in body and "<b>nobody" not in body
    assert 'value="new"' in body
    found = client_for(agent).get("/agent/contacts", {"contact_q": "carla"}).content.decode()
    assert "new contact" not in found


def test_agent_creates_the_contact_and_it_becomes_the_caller() -> None:
    acme = factories.organisation("ACME")
    agent = factories.agent("technical")
    client = client_for(agent)
    response = client.post("/agent/phone", new_contact(new_organisation=str(acme.pk)), **CALLER)
    assert response.status_code == 200
    lucia = User.objects.get(email="lucia@example.org")
    assert lucia.role == User.Role.CUSTOMER and not lucia.has_usable_password()
    assert (lucia.full_name, lucia.phone, lucia.language, lucia.time_zone) == (
        "Lucia Bianchi",
        "+39 02 1234567",
        "it",
        "Europe/Rome",
    )
    assert lucia.organisation == acme
    body = response.content.decode()
    assert "<html" not in body and "New contact created." in body
    assert f'<input type="hidden" name="contact" value="{lucia.pk}">' in body

    # The hidden input now in the form makes her the caller of the ticket.
    response = client.post(
        "/agent/phone",
        {
            "contact": lucia.pk,
            "department": "technical",
            "subject": "Router down",
            "description": "Lucia called.",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.PHONE and ticket.requester == lucia and ticket.submitted_by == agent


def test_without_javascript_the_whole_page_comes_back_with_the_call_details_kept() -> None:
    agent = factories.agent("technical")
    response = client_for(agent).post(
        "/agent/phone",
        new_contact(subject="Mail <b>bounces</b>", description="She said it fails.", department="technical"),
    )
    assert response.status_code == 200
    lucia = User.objects.get(email="lucia@example.org")
    body = response.content.decode()
    assert "<html" in body
    assert f'name="contact" value="{lucia.pk}"' in body
    assert 'value="Mail &lt;b&gt;bounces&lt;/b&gt;"' in body and ">She said it fails.</textarea>" in body
    assert not Ticket.objects.exists()


def test_a_taken_email_offers_the_existing_contact_and_changes_nothing() -> None:
    marta = factories.customer("marta")
    agent = factories.agent("technical")
    client = client_for(agent)
    people = User.objects.count()
    response = client.post("/agent/phone", new_contact(new_email=marta.email.upper()), **CALLER)
    assert response.status_code == 422
    assert User.objects.count() == people
    taken = "A contact with this email address already exists."
    assert response.context["contact_errors"] == {"email": taken}
    assert response.context["existing"] == marta
    body = response.content.decode()
    assert 'aria-describedby="new-email-error"' in body
    assert f'name="contact" value="{marta.pk}"' in body and "Choose Marta as the caller" in body
    assert 'value="Lucia Bianchi"' in body  # what was typed stays

    # Choosing her puts her in the caller box.
    chosen = client.get("/agent/phone", {"contact": marta.pk}, **CALLER)
    assert chosen.context["caller_mode"] == "chosen" and chosen.context["contact"] == marta

    # An agent's address is refused too, but an agent is never offered as the caller.
    other = factories.agent("billing")
    response = client.post("/agent/phone", new_contact(new_email=other.email), **CALLER)
    assert response.status_code == 422 and response.context["existing"] is None
    assert "Choose" not in response.content.decode()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"new_email": ""}, "email"),
        ({"new_email": "not-an-address"}, "email"),
        ({"new_email": "a\x00b@example.org"}, "email"),
        ({"new_full_name": "x" * 201}, "full_name"),
        ({"new_phone": "123\n456"}, "phone"),
        ({"new_language": "de"}, "language"),
        ({"new_language": ""}, "language"),
        ({"new_time_zone": "Mars/Olympus"}, "time_zone"),
        ({"new_organisation": "abc"}, "organisation"),
        ({"new_organisation": "999999"}, "organisation"),
        ({"new_organisation": "9" * 30}, "organisation"),
    ],
)
def test_bad_contact_input_is_shown_next_to_the_field_and_changes_nothing(
    fields: dict[str, str], field: str
) -> None:
    agent = factories.agent("technical")
    people = User.objects.count()
    response = client_for(agent).post("/agent/phone", new_contact(subject="Kept subject", **fields), **CALLER)
    assert response.status_code == 422
    assert list(response.context["contact_errors"]) == [field]
    assert User.objects.count() == people and not Ticket.objects.exists()
    assert response.context["caller_mode"] == "new"
    field_id = "new-" + field.replace("_", "-")
    assert f'aria-describedby="{field_id}-error"' in response.content.decode()

    # The whole page too (no JavaScript): the error, and the call details as typed.
    page = client_for(agent).post("/agent/phone", new_contact(subject="Kept subject", **fields))
    assert page.status_code == 422 and 'value="Kept subject"' in page.content.decode()
    assert User.objects.count() == people


def test_only_agents_create_contacts() -> None:
    carla = factories.customer("carla")
    people = User.objects.count()
    assert client_for(carla).post("/agent/phone", new_contact(), **CALLER).status_code == 403
    assert Client().post("/agent/phone", new_contact()).status_code == 302  # to sign in
    assert User.objects.count() == people
    with pytest.raises(PermissionDenied):
        create_contact(actor=carla, email="sneaky@example.org")
    assert not User.objects.filter(email="sneaky@example.org").exists()


def test_changing_the_caller_goes_back_to_the_search() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    client = client_for(agent)
    response = client.get("/agent/phone", {"contact": carla.pk, "caller": "search"}, **CALLER)
    assert response.context["caller_mode"] == "search" and response.context["contact"] is None
    body = response.content.decode()
    assert 'id="contact-q"' in body and "autofocus" in body
    # A contact number that is not a contact, or is out of any integer range, is simply no caller.
    for value in (str(agent.pk), "9" * 30):
        response = client.post(
            "/agent/phone",
            {"contact": value, "department": "technical", "subject": "s", "description": "d"},
        )
        assert response.status_code == 422 and response.context["errors"] == {"contact": "Choose the caller."}
    assert not Ticket.objects.exists()


def test_a_search_with_control_characters_finds_nobody_instead_of_failing() -> None:
    agent = factories.agent("technical")
    factories.customer("carla")
    response = client_for(agent).get("/agent/contacts", {"contact_q": "car\x00la"})
    assert response.status_code == 200 and response.context["matches"] == []
    page = client_for(agent).get("/agent/phone", {"contact_q": "car\x00la"})
    assert page.status_code == 200 and page.context["matches"] == []


def test_the_agents_department_is_preselected_and_a_call_for_another_department_says_where_it_went() -> None:
    carla = factories.customer("carla")
    agent = factories.agent("technical")
    client = client_for(agent)
    page = client.get("/agent/phone")
    assert page.context["default_department"].slug == "technical"
    assert '<option value="technical" selected>' in page.content.decode()

    response = client.post(
        "/agent/phone",
        {
            "contact": carla.pk,
            "department": "billing",
            "subject": "Invoice",
            "description": "Asked by phone.",
        },
        follow=True,
    )
    ticket = Ticket.objects.get()
    assert ticket.department.slug == "billing" and ticket.requester == carla
    assert response.redirect_chain == [("/agent/phone", 302)]  # not a 404 on a ticket the agent cannot see
    assert f"Ticket {ticket.reference} was created in {ticket.department.name}." in response.content.decode()
