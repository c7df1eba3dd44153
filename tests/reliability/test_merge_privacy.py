"""Merging must not leak another customer's files: tickets of two requesters merge only when confirmed
(naming both), and each customer keeps seeing exactly what they saw before, until an agent publishes."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from tessera.core.errors import ValidationFailed
from tessera.search.services import search_tickets
from tessera.tickets import access, services
from tessera.tickets.models import Attachment, Message, Ticket, TimelineEvent
from tests import factories

pytestmark = pytest.mark.django_db


def _world() -> tuple[Any, Any, Any, Ticket, Ticket, Attachment]:
    carla, bruno = factories.customer("carla"), factories.customer("bruno")
    anna = factories.agent("technical", name="anna")
    target = factories.ticket(carla, subject="Carla's printer")
    source = factories.ticket(bruno, subject="Bruno's printer")
    services.add_reply(
        actor=bruno,
        ticket=source,
        body="My contract",
        files=[ContentFile(factories.PNG, name="contract.png")],
    )
    return carla, bruno, anna, target, source, Attachment.objects.get(filename="contract.png")


def _download(user: Any, attachment: Attachment) -> int:
    client = Client()
    client.force_login(user)
    return client.get(f"/files/{attachment.pk}").status_code


def test_merging_two_peoples_tickets_needs_a_confirmation_naming_both() -> None:
    _, _, anna, target, source, _ = _world()
    with pytest.raises(ValidationFailed) as refused:
        services.merge_tickets(actor=anna, source=source, target=target)
    assert "Bruno" in str(refused.value.message) and "Carla" in str(refused.value.message)
    assert Ticket.objects.get(pk=source.pk).merged_into_id is None
    api = factories.token_for(anna)
    response = Client().post(
        f"/api/v1/tickets/{source.pk}/merge",
        {"target_id": target.pk},
        content_type="application/json",
        headers={"Authorization": f"Bearer {api}"},
    )
    assert response.status_code == 422 and "Bruno" in response.content.decode()
    desk = Client()
    desk.force_login(anna)
    page = desk.post(f"/agent/tickets/{source.pk}/merge", {"target": target.reference})
    assert page.status_code == 422 and 'name="confirm_different_requesters"' in page.content.decode()
    assert Ticket.objects.get(pk=source.pk).merged_into_id is None
    response = Client().post(
        f"/api/v1/tickets/{source.pk}/merge",
        {"target_id": target.pk, "confirm_different_requesters": True},
        content_type="application/json",
        headers={"Authorization": f"Bearer {api}"},
    )
    assert response.status_code == 200
    assert Ticket.objects.get(pk=source.pk).merged_into_id == target.pk


def test_after_a_merge_each_customer_sees_what_they_saw_before() -> None:
    carla, bruno, anna, target, source, contract = _world()
    services.merge_tickets(actor=anna, source=source, target=target, confirm_different_requesters=True)
    target, source = Ticket.objects.get(pk=target.pk), Ticket.objects.get(pk=source.pk)
    assert _download(bruno, contract) == 200  # the owner still gets their file
    assert _download(carla, contract) == 404  # the other customer never sees it
    assert _download(anna, contract) == 200
    assert not access.visible_messages(carla, target).filter(body="My contract").exists()
    assert access.visible_messages(bruno, source).filter(body="My contract").exists()
    assert access.visible_messages(anna, target).filter(body="My contract").exists()
    portal = Client()
    portal.force_login(bruno)
    assert "My contract" in portal.get(f"/tickets/{source.reference}").content.decode()
    portal.force_login(carla)
    assert "My contract" not in portal.get(f"/tickets/{target.reference}").content.decode()
    # An agent decides to show it on the merged ticket: now its customer sees it too.
    services.publish_merged_message(actor=anna, message=Message.objects.get(body="My contract"), confirm=True)
    assert _download(carla, contract) == 200
    assert access.visible_messages(carla, target).filter(body="My contract").exists()


def test_merging_tickets_of_the_same_requester_needs_no_confirmation() -> None:
    carla = factories.customer("carla")
    anna = factories.agent("technical", name="anna")
    first, second = factories.ticket(carla), factories.ticket(carla)
    services.add_reply(
        actor=carla, ticket=second, body="More", files=[ContentFile(factories.PNG, name="a.png")]
    )
    services.merge_tickets(actor=anna, source=second, target=first)
    assert access.visible_messages(carla, first).filter(body="More").exists()
    assert _download(carla, Attachment.objects.get(filename="a.png")) == 200


def _found(user: Any, words: str) -> set[int]:
    return {ticket.pk for ticket in search_tickets(user, words).items}


def test_an_agent_makes_a_moved_message_public_in_the_workspace_after_confirming_who_will_see_it() -> None:
    carla, _bruno, anna, target, source, contract = _world()
    services.merge_tickets(actor=anna, source=source, target=target, confirm_different_requesters=True)
    moved = Message.objects.get(body="My contract")
    assert target.pk not in _found(carla, "contract")
    desk = Client()
    desk.force_login(anna)
    page = desk.get(f"/agent/tickets/{target.pk}/").content.decode()
    assert "Show it to Carla" in page and 'name="confirm"' in page
    refused = desk.post(f"/agent/tickets/{target.pk}/publish", {"message": moved.pk})
    assert refused.status_code == 422 and "Carla" in refused.content.decode()
    assert Message.objects.get(pk=moved.pk).merged_from_id == source.pk
    assert _download(carla, contract) == 404
    done = desk.post(f"/agent/tickets/{target.pk}/publish", {"message": moved.pk, "confirm": "yes"})
    assert done.status_code == 302
    assert Message.objects.get(pk=moved.pk).merged_from_id is None
    assert _download(carla, contract) == 200
    assert target.pk in _found(carla, "contract")  # the search document followed at once
    audit = TimelineEvent.objects.get(ticket=target, kind=TimelineEvent.Kind.MESSAGE_PUBLISHED)
    assert (audit.actor, audit.message_id, audit.old) == (anna, moved.pk, {"from": source.pk})
    assert not access.visible_events(carla, target).filter(pk=audit.pk).exists()
    page = desk.get(f"/agent/tickets/{target.pk}/").content.decode()
    assert "My contract" in page and "Show it to Carla" not in page


def test_the_api_makes_a_moved_message_public_only_for_an_agent_of_the_ticket_who_confirms() -> None:
    carla, bruno, anna, target, source, contract = _world()
    services.merge_tickets(actor=anna, source=source, target=target, confirm_different_requesters=True)
    moved = Message.objects.get(body="My contract")
    url = f"/api/v1/tickets/{target.pk}/messages/{moved.pk}/publish"

    def post(user: Any, body: dict[str, Any]) -> Any:
        return Client().post(
            url,
            body,
            content_type="application/json",
            headers={"Authorization": f"Bearer {factories.token_for(user)}"},
        )

    listed = (
        Client()
        .get(f"/api/v1/tickets/{target.pk}", headers={"Authorization": f"Bearer {factories.token_for(anna)}"})
        .json()["messages"]
    )
    assert [m["merged_from"] for m in listed if m["id"] == moved.pk] == [source.pk]
    assert post(carla, {"confirm": True}).status_code == 404  # she cannot see the message
    assert post(bruno, {"confirm": True}).status_code == 404  # nor he the ticket
    assert post(factories.agent("billing", name="bea"), {"confirm": True}).status_code == 404
    refused = post(anna, {"confirm": False})
    assert refused.status_code == 422 and "Carla" in refused.json()["detail"]
    assert post(anna, {}).status_code == 422
    assert Message.objects.get(pk=moved.pk).merged_from_id == source.pk
    published = post(anna, {"confirm": True})
    assert published.status_code == 200 and published.json()["merged_from"] is None
    assert _download(carla, contract) == 200 and target.pk in _found(carla, "contract")
    again = post(anna, {"confirm": True})
    assert again.status_code == 422
