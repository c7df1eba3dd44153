"""Setting up the email channel without a shell: verified contacts (one, or a CSV file previewed and
imported all or nothing), receiving addresses routed to departments, trusted receiving servers — through
the API and the admin pages, checked with mail delivered to the real SMTP listener."""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tessera.accounts.models import Organisation, User
from tessera.core.worker import run_pending_tasks
from tessera.mail.inbound.smtp import start_listener
from tessera.mail.models import InboundMessage, Mailbox, TrustedMailServer
from tests import factories
from tests.mail import corpus
from tests.mail.conftest import free_port

pytestmark = pytest.mark.django_db(transaction=True)

GOOD = (
    "email,full_name,language,time_zone,organisation\n"
    "anna@example.com,Anna Rossi,it,Europe/Rome,Rossi SRL\n"
    "piotr@example.com,Piotr Nowak,pl,,\n"
)


@pytest.fixture
def listener() -> Iterator[int]:
    port = free_port()
    controller = start_listener(f"smtp://127.0.0.1:{port}")
    yield port
    controller.stop()


def _deliver(port: int, raw: bytes, sender: str, to: str) -> InboundMessage:
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        client.sendmail(sender, [to], raw)
    run_pending_tasks()
    return InboundMessage.objects.order_by("-pk").first()  # type: ignore[return-value]


# Verified contacts ---------------------------------------------------------------------------------------


def test_an_admin_registers_a_verified_contact_and_an_existing_customer_becomes_verified(
    api_as: Callable[[Any], Any],
) -> None:
    api = api_as(factories.admin())
    created = api.post("/mail/verified-contacts", {"email": "Carla@Example.com", "full_name": "Carla"})
    assert created.status_code == 201, created.content
    carla = User.objects.get(email="carla@example.com")
    assert carla.is_verified and carla.full_name == "Carla"
    assert EmailAddress.objects.get(user=carla, email="carla@example.com").verified
    unverified = User.objects.create_user("dario@example.com")
    again = api.post("/mail/verified-contacts", {"email": "dario@example.com", "language": "fr"})
    assert again.status_code == 200
    unverified.refresh_from_db()
    assert unverified.is_verified and unverified.language == "fr"


def test_agents_and_customers_cannot_register_contacts_or_change_mail_setup(
    api_as: Callable[[Any], Any],
) -> None:
    for person in (factories.agent(), factories.customer()):
        api = api_as(person)
        assert api.post("/mail/verified-contacts", {"email": "x@example.com"}).status_code == 403
        assert api.post("/mail/trusted-servers", {"authserv_id": "mx.example.com"}).status_code == 403
        department = factories.department("billing")
        body = {"address": "b@tessera.localhost", "department_id": department.pk}
        assert api.put("/mail/addresses", body).status_code == 403
    assert not User.objects.filter(email="x@example.com").exists()
    assert not TrustedMailServer.objects.exists() and not Mailbox.objects.exists()


def test_a_staff_address_is_refused_as_a_contact(api_as: Callable[[Any], Any]) -> None:
    agent = factories.agent()
    response = api_as(factories.admin()).post("/mail/verified-contacts", {"email": agent.email})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "email"
    agent.refresh_from_db()
    assert agent.role == User.Role.AGENT


def test_a_csv_dry_run_describes_every_row_and_writes_nothing(api_as: Callable[[Any], Any]) -> None:
    factories.customer("piotr")  # another address: both rows are new
    response = api_as(factories.admin()).post(
        "/mail/verified-contacts/import", {"csv": GOOD, "dry_run": True}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["imported"] is False and body["created"] == 2 and body["updated"] == 0
    assert [(r["line"], r["email"], r["action"]) for r in body["rows"]] == [
        (2, "anna@example.com", "create"),
        (3, "piotr@example.com", "create"),
    ]
    assert body["rows"][0]["new_organisation"] is True
    assert not User.objects.filter(email__in=["anna@example.com", "piotr@example.com"]).exists()
    assert not Organisation.objects.filter(name="Rossi SRL").exists()


def test_a_csv_import_registers_every_contact_verified(api_as: Callable[[Any], Any]) -> None:
    existing = User.objects.create_user("piotr@example.com", full_name="P.", language="en")
    response = api_as(factories.admin()).post("/mail/verified-contacts/import", {"csv": GOOD})
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 1 and response.json()["updated"] == 1
    anna = User.objects.get(email="anna@example.com")
    assert anna.is_verified and anna.language == "it" and anna.time_zone == "Europe/Rome"
    assert anna.organisation is not None and anna.organisation.name == "Rossi SRL"
    existing.refresh_from_db()
    assert existing.is_verified and existing.full_name == "Piotr Nowak" and existing.language == "pl"
    assert (
        EmailAddress.objects.filter(
            email__in=["anna@example.com", "piotr@example.com"], verified=True
        ).count()
        == 2
    )


def test_a_csv_with_bad_rows_names_each_one_and_imports_nothing(api_as: Callable[[Any], Any]) -> None:
    agent = factories.agent()
    bad = (
        "email,full_name,language,time_zone,organisation\n"
        "good@example.com,Good,en,,New Org\n"
        "not-an-address,Bad,en,,\n"
        f"{agent.email},Staff,en,,\n"
        "good@example.com,Twice,xx,Mars/Olympus,\n"
    )
    response = api_as(factories.admin()).post("/mail/verified-contacts/import", {"csv": bad})
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "urn:tessera:problem:validation_failed"
    fields = {error["field"] for error in problem["errors"]}
    assert fields == {
        "csv.line3.email",
        "csv.line4.email",
        "csv.line5.email",
        "csv.line5.language",
        "csv.line5.time_zone",
    }
    assert not User.objects.filter(email="good@example.com").exists()
    assert not Organisation.objects.filter(name="New Org").exists()


def test_a_file_that_is_not_a_contacts_csv_is_refused_clearly(api_as: Callable[[Any], Any]) -> None:
    api = api_as(factories.admin())
    response = api.post("/mail/verified-contacts/import", {"csv": "name,phone\nAnna,123\n"})
    assert response.status_code == 422
    assert "email" in response.json()["detail"]
    response = api.post("/mail/verified-contacts/import", {"csv": "email,shoe_size\na@example.com,42\n"})
    assert response.status_code == 422 and "shoe_size" in response.json()["detail"]


# Receiving addresses ---------------------------------------------------------------------------------------


def test_a_support_address_routed_through_the_api_takes_mail_to_its_department(
    api_as: Callable[[Any], Any], listener: int
) -> None:
    billing = factories.department("billing")
    api = api_as(factories.admin())
    body = {"address": "Invoices@Tessera.localhost", "department_id": billing.pk}
    response = api.put("/mail/addresses", body)
    assert response.status_code == 201, response.content
    assert api.put("/mail/addresses", body).status_code == 200  # the same route again: unchanged
    assert [a["address"] for a in api.get("/mail/addresses").json()] == ["invoices@tessera.localhost"]
    customer = factories.customer("carla")
    row = _deliver(
        listener,
        corpus.plain(sender=customer.email, to="invoices@tessera.localhost", subject="Invoice 42"),
        customer.email,
        "invoices@tessera.localhost",
    )
    assert row.ticket is not None and row.ticket.department_id == billing.pk, (row.status, row.error)
    assert api.delete("/mail/addresses/invoices@tessera.localhost").status_code == 204
    assert not Mailbox.objects.exists()


def test_routing_to_a_missing_department_is_a_clear_error(api_as: Callable[[Any], Any]) -> None:
    response = api_as(factories.admin()).put(
        "/mail/addresses", {"address": "x@tessera.localhost", "department_id": 999999}
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "department_id"
    assert not Mailbox.objects.exists()


# Trusted receiving servers ----------------------------------------------------------------------------


def test_a_server_trusted_through_the_api_has_its_authentication_results_believed(
    api_as: Callable[[Any], Any], listener: int, settings: Any
) -> None:
    settings.TESSERA_MAIL_AUTHSERV_ID = ""  # only what the admin sets up
    api = api_as(factories.admin())
    response = api.post("/mail/trusted-servers", {"authserv_id": "MX.Example.NET", "note": "our relay"})
    assert response.status_code == 201, response.content
    assert response.json()["authserv_id"] == "mx.example.net"
    assert api.post("/mail/trusted-servers", {"authserv_id": "mx.example.net"}).status_code == 409
    customer = factories.customer("carla")
    forged = {"Authentication-Results": "mx.example.net; spf=fail smtp.mailfrom=example.com; dmarc=fail"}
    row = _deliver(
        listener,
        corpus.plain(sender=customer.email, subject="Forged", extra=forged),
        customer.email,
        "support@tessera.localhost",
    )
    assert row.status == InboundMessage.Status.QUARANTINED and "mx.example.net" in row.error
    server_id = response.json()["id"]
    assert api.delete(f"/mail/trusted-servers/{server_id}").status_code == 204
    assert api.get("/mail/trusted-servers").json() == []


def test_an_authserv_id_that_is_not_a_host_name_is_refused(api_as: Callable[[Any], Any]) -> None:
    response = api_as(factories.admin()).post("/mail/trusted-servers", {"authserv_id": "mx; dmarc=pass"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "authserv_id"
    assert not TrustedMailServer.objects.exists()


# Admin pages ------------------------------------------------------------------------------------------


def _admin_client() -> Client:
    client = Client()
    client.force_login(factories.admin())
    return client


def test_the_admin_import_page_previews_then_imports_exactly_what_was_shown() -> None:
    client = _admin_client()
    url = "/admin/mail/verifiedcontact/import/"
    page = client.post(url, {"file": SimpleUploadedFile("contacts.csv", GOOD.encode())})
    assert page.status_code == 200
    html = page.content.decode()
    assert "anna@example.com" in html and "New verified contact" in html
    assert not User.objects.filter(email="anna@example.com").exists()  # a preview writes nothing
    csv_text = page.context["form"].initial["csv_text"]
    done = client.post(url, {"csv_text": csv_text, "import": "Import"})
    assert done.status_code == 302
    assert (
        User.objects.filter(email__in=["anna@example.com", "piotr@example.com"], is_verified=True).count()
        == 2
    )
    listed = client.get("/admin/mail/verifiedcontact/")
    assert "anna@example.com" in listed.content.decode()


def test_the_admin_import_page_shows_each_bad_row_and_offers_no_import() -> None:
    client = _admin_client()
    bad = "email,language\nok@example.com,en\nbroken,en\n"
    page = client.post(
        "/admin/mail/verifiedcontact/import/", {"file": SimpleUploadedFile("c.csv", bad.encode())}
    )
    assert page.status_code == 422
    html = page.content.decode()
    assert "Enter a valid email address." in html and 'name="import"' not in html
    assert not User.objects.filter(email="ok@example.com").exists()


def test_the_admin_trusts_a_server_on_its_page() -> None:
    client = _admin_client()
    refused = client.post("/admin/mail/trustedmailserver/add/", {"authserv_id": "not a host", "note": ""})
    assert refused.status_code == 200 and not TrustedMailServer.objects.exists()
    client.post("/admin/mail/trustedmailserver/add/", {"authserv_id": "MX.Example.com", "note": "relay"})
    server = TrustedMailServer.objects.get()
    assert server.authserv_id == "mx.example.com" and server.added_by is not None


def test_customers_and_agents_do_not_reach_the_setup_pages() -> None:
    for person in (factories.customer(), factories.agent()):
        client = Client()
        client.force_login(person)
        response = client.get("/admin/mail/verifiedcontact/import/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
