"""Setting up the email channel (admins): verified contacts, one or a CSV file (preview, then import, all
or nothing), receiving addresses routed to departments, trusted receiving servers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.responses import Status as HttpStatus
from pydantic import Field

from tessera.accounts.api import ContactOut
from tessera.accounts.models import Department, User
from tessera.api.problems import problem
from tessera.api.schemas import BodyId, Id, StrictSchema, request_actor, text
from tessera.catalog.services import ImportFailed
from tessera.core.errors import ValidationFailed
from tessera.mail import services
from tessera.mail.models import Mailbox, TrustedMailServer

router = Router(tags=["email setup"])


def _admin(request: HttpRequest) -> User:
    actor = request_actor(request)
    services.check_admin(actor)
    return actor


class VerifiedContactIn(StrictSchema):
    email: str = text(254)
    full_name: str = text(200, default="", required=False)
    phone: str = text(40, default="", required=False)
    language: Literal["", "en", "it", "pl", "fr"] = Field(
        "", description="Empty: keep (or en for a new one)."
    )
    time_zone: str = Field("", max_length=64, description="An IANA time zone name; empty: keep (or UTC).")
    organisation: str = text(200, default="", required=False)


class ContactImportIn(StrictSchema):
    csv: str = Field(
        ...,
        min_length=1,
        max_length=services.IMPORT_MAX_BYTES,
        description="UTF-8 CSV text; the first line names the columns: "
        + ", ".join(services.CONTACT_COLUMNS),
    )
    dry_run: bool = Field(False, description="Check and describe every row, write nothing.")


class RowErrorOut(Schema):
    field: str
    message: str


class ContactRowOut(Schema):
    line: int
    email: str
    action: Literal["create", "update"]
    new_organisation: bool
    errors: list[RowErrorOut]


class ContactImportOut(Schema):
    imported: bool = Field(description="False for a dry run.")
    created: int
    updated: int
    rows: list[ContactRowOut]


class AddressIn(StrictSchema):
    address: str = text(254)
    department_id: BodyId


class AddressOut(Schema):
    address: str
    department_id: int
    fetches: bool = Field(description="Fetched over IMAP (set up on the admin pages).")


class TrustedServerIn(StrictSchema):
    authserv_id: str = Field(
        ..., min_length=1, max_length=253, description="As written first in Authentication-Results."
    )
    note: str = text(200, default="", required=False)


class TrustedServerOut(Schema):
    id: int
    authserv_id: str
    note: str
    added_at: datetime


@router.post(
    "/mail/verified-contacts",
    response={200: ContactOut, 201: ContactOut},
    summary="Register a verified contact (admins): 201 created, 200 an existing customer marked verified",
)
def register_contact(request: HttpRequest, payload: VerifiedContactIn) -> HttpStatus[Any]:
    contact, created = services.register_contact(actor=_admin(request), **payload.model_dump())
    return HttpStatus(201 if created else 200, contact)


@router.post(
    "/mail/verified-contacts/import",
    response=ContactImportOut,
    summary="Import verified contacts from CSV (admins): dry_run previews; any bad row imports nothing (422)",
)
def import_contacts(request: HttpRequest, payload: ContactImportIn) -> Any:
    actor = _admin(request)
    try:
        if payload.dry_run:
            preview = services.preview_contacts_csv(actor=actor, data=payload.csv)
        else:
            preview = services.import_contacts_csv(actor=actor, data=payload.csv)
    except ImportFailed as failure:
        errors = [{"field": f"csv.line{e.row}.{e.field}", "message": e.message} for e in failure.errors]
        return _import_problem(request, str(failure.message), errors)
    return {
        "imported": not payload.dry_run,
        "created": preview.created,
        "updated": preview.updated,
        "rows": [
            {
                "line": row.line,
                "email": row.email,
                "action": row.action,
                "new_organisation": row.new_organisation,
                "errors": [{"field": e.field, "message": e.message} for e in row.errors],
            }
            for row in preview.rows
        ],
    }


def _import_problem(request: HttpRequest, detail: str, errors: list[dict[str, Any]]) -> HttpResponse:
    return problem(request, status=422, code="validation_failed", detail=detail, errors=errors)


@router.get("/mail/addresses", response=list[AddressOut], summary="Receiving addresses and their departments")
def list_addresses(request: HttpRequest) -> Any:
    _admin(request)
    return [
        {"address": m.address, "department_id": m.department_id, "fetches": m.fetches}
        for m in Mailbox.objects.order_by("address")
    ]


@router.put(
    "/mail/addresses",
    response={200: AddressOut, 201: AddressOut},
    summary="Route a receiving address to a department (admins): 201 new, 200 changed",
)
def route_address(request: HttpRequest, payload: AddressIn) -> HttpStatus[Any]:
    actor = _admin(request)
    department = Department.objects.filter(pk=payload.department_id).first()
    if department is None:
        raise ValidationFailed(_("No such department."), field="department_id")
    mailbox, created = services.route_address(actor=actor, address=payload.address, department=department)
    body = {"address": mailbox.address, "department_id": mailbox.department_id, "fetches": mailbox.fetches}
    return HttpStatus(201 if created else 200, body)


@router.delete("/mail/addresses/{address}", response={204: None}, summary="Stop receiving at an address")
def remove_address(request: HttpRequest, address: str) -> HttpStatus[None]:
    services.remove_address(actor=_admin(request), address=address)
    return HttpStatus(204, None)


@router.get("/mail/trusted-servers", response=list[TrustedServerOut], summary="Trusted receiving servers")
def list_trusted_servers(request: HttpRequest) -> Any:
    _admin(request)
    return TrustedMailServer.objects.all()


@router.post(
    "/mail/trusted-servers",
    response={201: TrustedServerOut},
    summary="Trust a receiving server's Authentication-Results (admins)",
)
def trust_server(request: HttpRequest, payload: TrustedServerIn) -> HttpStatus[Any]:
    server = services.trust_server(actor=_admin(request), authserv_id=payload.authserv_id, note=payload.note)
    return HttpStatus(201, server)


@router.delete(
    "/mail/trusted-servers/{server_id}", response={204: None}, summary="Stop trusting a receiving server"
)
def distrust_server(request: HttpRequest, server_id: Id) -> HttpStatus[None]:
    services.distrust_server(actor=_admin(request), server_id=server_id)
    return HttpStatus(204, None)
