"""Customer services: who sees which, the ticket form's check, CSV import (all or nothing) and the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tessera.catalog.models import CustomerService
from tessera.catalog.queries import services_for
from tessera.catalog.services import (
    ImportFailed,
    ServiceData,
    check_service_for,
    create_service,
    import_services_csv,
)
from tessera.core.errors import PermissionDenied, ValidationFailed
from tests import factories
from tests.status.helpers import component

pytestmark = pytest.mark.django_db


def test_customer_sees_own_and_organisation_services_only() -> None:
    admin = factories.admin()
    org = factories.organisation("ACME")
    carla = factories.customer("carla", org=org)
    colleague = factories.customer("colleague", org=org)
    outsider = factories.customer("outsider")
    own = create_service(actor=admin, data=ServiceData(name="VPS 1", user=carla))
    shared = create_service(actor=admin, data=ServiceData(name="Rack", organisation=org))
    create_service(actor=admin, data=ServiceData(name="Old", user=carla, is_active=False))
    theirs = create_service(actor=admin, data=ServiceData(name="Other", user=outsider))
    assert set(services_for(carla)) == {own, shared}
    assert set(services_for(colleague)) == {shared}
    assert check_service_for(carla, own.pk) == own
    with pytest.raises(ValidationFailed) as refused:
        check_service_for(carla, theirs.pk)
    assert refused.value.field == "customer_service"


def test_bad_service_data_is_refused() -> None:
    admin = factories.admin()
    carla = factories.customer()
    with pytest.raises(ValidationFailed) as bad_ip:
        create_service(actor=admin, data=ServiceData(name="VPS", user=carla, ip_addresses=["10.0.0.300"]))
    assert bad_ip.value.field == "ip_addresses"
    with pytest.raises(ValidationFailed):
        create_service(actor=admin, data=ServiceData(name="VPS"))
    with pytest.raises(PermissionDenied):
        create_service(actor=carla, data=ServiceData(name="VPS", user=carla))
    assert not CustomerService.objects.exists()


def _csv(*rows: str) -> bytes:
    return (
        "customer_email,organisation,name,order_number,ip_addresses,component,active\n" + "\n".join(rows)
    ).encode()


def test_csv_import_creates_and_updates_by_order_number() -> None:
    admin = factories.admin()
    frankfurt = component()
    org = factories.organisation("ACME")
    carla = factories.customer("carla", org=org)
    result = import_services_csv(
        actor=admin,
        data=_csv(
            f"{carla.email.upper()},,VPS Milano 2,123456,203.0.113.10 2001:db8::1,"
            "Dedicated servers / Frankfurt,yes",
            ",ACME,=HYPERLINK(x),123457,,,",
        ),
    )
    assert (result.created, result.updated) == (2, 0)
    vps = CustomerService.objects.get(order_number="123456")
    assert vps.user == carla and vps.component == frankfurt
    assert vps.ip_addresses == ["203.0.113.10", "2001:db8::1"]
    assert CustomerService.objects.get(order_number="123457").name == "=HYPERLINK(x)"  # stored as given
    again = import_services_csv(actor=admin, data=_csv(f"{carla.email},,VPS Milano 3,123456,,,no"))
    assert (again.created, again.updated) == (0, 1)
    vps.refresh_from_db()
    assert vps.name == "VPS Milano 3" and not vps.is_active


def test_csv_with_broken_rows_imports_nothing_and_names_each_row() -> None:
    admin = factories.admin()
    component()
    carla = factories.customer()
    before = CustomerService.objects.count()
    with pytest.raises(ImportFailed) as failed:
        import_services_csv(
            actor=admin,
            data=_csv(
                f"{carla.email},,Good,1,,,",
                "nobody@example.com,,No customer,2,,,",
                f"{carla.email},,Bad IP,3,10.1.2.300,,",
                f"{carla.email},,Unknown component,4,,Dedicated servers / Tokyo,",
                f"{carla.email},,Duplicate,1,,,",
                ",,No customer at all,5,,,",
                f"{carla.email},NoSuchOrg,Unknown org,6,,,",
            ),
        )
    errors = {(e.row, e.field) for e in failed.value.errors}
    assert errors == {
        (3, "customer_email"),
        (4, "ip_addresses"),
        (5, "component"),
        (6, "order_number"),
        (7, "customer"),
        (8, "organisation"),
    }
    assert CustomerService.objects.count() == before


def test_csv_header_must_name_known_columns() -> None:
    admin = factories.admin()
    with pytest.raises(ValidationFailed) as failed:
        import_services_csv(actor=admin, data=b"email,service\nx,y\n")
    assert failed.value.field == "file"
    with pytest.raises(ValidationFailed):
        import_services_csv(actor=admin, data=b"\xff\xfe broken")


def test_import_command_reports_rows_and_writes_nothing(tmp_path: Any) -> None:
    admin = factories.admin()
    carla = factories.customer()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv(f"{carla.email},,Good,1,,,", f"{carla.email},,Bad,2,not-an-ip,,"))
    with pytest.raises(CommandError):
        call_command("import_services", str(bad), "--as", admin.email)
    assert not CustomerService.objects.exists()
    good = tmp_path / "good.csv"
    good.write_bytes(_csv(f"{carla.email},,Good,1,,,"))
    call_command("import_services", str(good), "--as", admin.email)
    assert CustomerService.objects.get().name == "Good"


def test_admin_import_page_shows_row_errors(client: Any) -> None:
    admin = factories.admin()
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    carla = factories.customer()
    client.force_login(admin, backend="django.contrib.auth.backends.ModelBackend")
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        "/admin/catalog/customerservice/import/",
        {"file": SimpleUploadedFile("s.csv", _csv(f"{carla.email},,X,1,999.1.1.1,,"))},
    )
    assert response.status_code == 422
    assert "999.1.1.1" in response.content.decode()
    assert not CustomerService.objects.exists()
    response = client.post(
        "/admin/catalog/customerservice/import/",
        {"file": SimpleUploadedFile("s.csv", _csv(f"{carla.email},,X,1,10.0.0.1,,"))},
    )
    assert response.status_code == 302
    assert CustomerService.objects.get().ip_addresses == ["10.0.0.1"]


def test_api_agents_manage_customers_list_their_own(api_as: Callable[[Any], Any]) -> None:
    agent = factories.agent()
    frankfurt = component()
    carla = factories.customer()
    outsider = factories.customer("outsider")
    created = api_as(agent).post(
        "/services",
        {
            "name": "VPS",
            "customer_id": carla.pk,
            "order_number": "42",
            "ip_addresses": ["192.0.2.1"],
            "component_id": frankfurt.pk,
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["component"] == "Dedicated servers / Frankfurt"
    service_id = body["id"]
    assert api_as(carla).get("/services").json()["items"][0]["id"] == service_id
    assert api_as(outsider).get("/services").json()["items"] == []
    assert api_as(outsider).get(f"/services/{service_id}").status_code == 404
    assert api_as(carla).post("/services", {"name": "Mine", "customer_id": carla.pk}).status_code == 403
    assert api_as(carla).patch(f"/services/{service_id}", {"name": "Hack"}).status_code == 403
    patched = api_as(agent).patch(
        f"/services/{service_id}", {"ip_addresses": ["192.0.2.9"], "component_id": None}
    )
    assert patched.status_code == 200
    assert patched.json()["ip_addresses"] == ["192.0.2.9"] and patched.json()["component"] is None
    bad = api_as(agent).post("/services", {"name": "X", "customer_id": carla.pk, "component_id": 999999})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "component_id"
    bad_ip = api_as(agent).patch(f"/services/{service_id}", {"ip_addresses": ["nope"]})
    assert bad_ip.status_code == 422
    assert CustomerService.objects.get().ip_addresses == ["192.0.2.9"]
    assert api_as(None).get("/services").status_code == 401
