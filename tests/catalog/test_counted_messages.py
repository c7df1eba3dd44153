"""Messages with a counted number take the plural form that fits the number (ngettext), in the customer
services import and in the status page's incident management."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.catalog.admin import imported_message
from tessera.catalog.services import ImportFailed, import_services_csv
from tessera.status import services as status
from tests import factories
from tests.status.helpers import component

pytestmark = pytest.mark.django_db

HEADER = "customer_email,organisation,name,order_number,ip_addresses,component,active\n"


def _failure(*rows: str) -> str:
    with pytest.raises(ImportFailed) as failed:
        import_services_csv(actor=factories.admin(), data=(HEADER + "\n".join(rows)).encode())
    return str(failed.value.message)


def test_import_errors_count_rows_in_singular_and_plural() -> None:
    carla = factories.customer()
    one = _failure(f"{carla.email},,Bad IP,1,10.1.2.300,,", f"{carla.email},,Good,2,,,")
    assert one.startswith("1 row has errors; nothing was imported. Row 2, ip_addresses:")
    two = _failure(f"{carla.email},,Bad IP,1,10.1.2.300,,", "nobody@example.com,,X,2,,,")
    assert two.startswith("2 rows have errors; nothing was imported. Row 2,")


def test_import_summary_counts_each_number_separately() -> None:
    assert imported_message(1, 3) == "Imported: 1 new service, 3 services updated."
    assert imported_message(2, 1) == "Imported: 2 new services, 1 service updated."


def test_answering_linked_tickets_counts_the_ones_that_failed(client: Any) -> None:
    agent = factories.agent("technical")
    incident = status.post_incident(
        actor=agent, title="Down", body="b", components=[component()], notify=False
    )
    carla = factories.customer()
    # Tickets of another department: this agent cannot answer them, so each one fails.
    first = factories.ticket(carla, dept="billing", subject="Billing one")
    status.link_ticket(actor=factories.admin(), incident=incident, ticket=first)
    client.force_login(agent, backend="django.contrib.auth.backends.ModelBackend")
    url = f"/status/manage/incidents/{incident.pk}"
    answer = {"action": "answer", "body": "The outage is over.", "resolve": "on"}

    response = client.post(url, answer)
    assert "1 ticket could not be answered; see below." in response.content.decode()

    second = factories.ticket(carla, dept="billing", subject="Billing two")
    status.link_ticket(actor=factories.admin(), incident=incident, ticket=second)
    response = client.post(url, answer)
    assert "2 tickets could not be answered; see below." in response.content.decode()
