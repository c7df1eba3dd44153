"""The queue's rows carry their labels in the agent's language (translated once per page, not per row)."""

from __future__ import annotations

import pytest
from django.test import Client

from tessera.tickets.models import Channel
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        ("en", ["Status", "Priority", "Assignee", "SLA", "Updated", "Unassigned", "Phone"]),
        ("it", ["Stato", "Priorità", "Assegnatario", "SLA", "Aggiornato", "Non assegnato", "Telefono"]),
    ],
)
def test_every_row_shows_its_labels_in_the_agents_language(language: str, labels: list[str]) -> None:
    carla = factories.customer("carla")
    made = [factories.ticket(carla, subject=f"Row {n:02d}") for n in range(3)]
    made[1].channel = Channel.PHONE
    made[1].save(update_fields=["channel"])
    agent = factories.agent("technical")
    agent.language = language
    agent.save(update_fields=["language"])
    client = Client()
    client.force_login(agent)
    body = client.get("/agent/q/open/").content.decode()
    status, priority, assignee, sla, updated, unassigned, phone = labels
    for label in (status, priority, assignee, sla, updated):
        assert body.count(f'data-label="{label}"') == len(made)
    assert body.count(f'<span class="muted">{unassigned}</span>') == len(made)
    assert body.count(f" · {phone}</div>") == 1
    for ticket in made:  # each row links to its own ticket, from the row and from its subject
        assert body.count(f'href="/agent/tickets/{ticket.pk}/"') == 2
