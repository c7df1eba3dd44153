"""Contacts, organisations, departments, priorities and personal API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.responses import Status as HttpStatus
from pydantic import Field

from tessera.accounts import queries, services
from tessera.accounts.models import User
from tessera.api.schemas import BodyId, Cursor, Id, StrictSchema, TimeZone, request_actor, text
from tessera.core.pagination import paginate
from tessera.tickets.models import Priority

router = Router(tags=["people"])


class ContactOut(Schema):
    id: int
    email: str
    full_name: str
    phone: str
    language: str
    time_zone: str
    organisation_id: int | None
    is_verified: bool


class ContactIn(StrictSchema):
    email: str = text(254)
    full_name: str = text(200, default="", required=False)
    phone: str = text(40, default="", required=False)
    language: Literal["en", "it", "pl", "fr"] = "en"
    time_zone: TimeZone = "UTC"
    organisation_id: BodyId | None = None


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None


class ContactFilters(Schema):
    q: str | None = Field(None, max_length=200, description="Search email, name or phone.")
    organisation_id: Id | None = None
    cursor: str | None = Cursor
    limit: int = Field(25, ge=1, le=100)


class OrganisationOut(Schema):
    id: int
    name: str


class OrganisationIn(StrictSchema):
    name: str = text(200)


class DepartmentOut(Schema):
    id: int
    slug: str
    name: str
    description: str


class PriorityOut(Schema):
    slug: str
    name: str
    rank: int
    is_default: bool


class TokenIn(StrictSchema):
    name: str = text(100)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(description="Shown once: store it now.")


@router.get("/contacts", response=ContactPage, summary="List or search contacts")
def list_contacts(request: HttpRequest, filters: Query[ContactFilters]) -> dict[str, Any]:
    contacts = queries.visible_contacts(request_actor(request))
    if filters.q:
        term = filters.q.strip()
        contacts = contacts.filter(
            Q(email__icontains=term) | Q(full_name__icontains=term) | Q(phone__icontains=term)
        )
    if filters.organisation_id:
        contacts = contacts.filter(organisation_id=filters.organisation_id)
    page = paginate(contacts, ordering=("id",), cursor=filters.cursor, limit=filters.limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/contacts", response={201: ContactOut}, summary="Create a contact (agents)")
def create_contact(request: HttpRequest, payload: ContactIn) -> HttpStatus[User]:
    user = request_actor(request)
    organisation = (
        queries.get_organisation_for(user, payload.organisation_id) if payload.organisation_id else None
    )
    contact = services.create_contact(
        actor=user,
        email=payload.email,
        full_name=payload.full_name,
        phone=payload.phone,
        language=payload.language,
        time_zone=payload.time_zone,
        organisation=organisation,
    )
    return HttpStatus(201, contact)


@router.get("/contacts/{contact_id}", response=ContactOut, summary="A contact")
def get_contact(request: HttpRequest, contact_id: Id) -> User:
    return queries.get_contact_for(request_actor(request), contact_id)


@router.get("/organisations", response=list[OrganisationOut], summary="Organisations you can see")
def list_organisations(request: HttpRequest) -> Any:
    return queries.visible_organisations(request_actor(request))[:500]


@router.post("/organisations", response={201: OrganisationOut}, summary="Create an organisation (agents)")
def create_organisation(request: HttpRequest, payload: OrganisationIn) -> HttpStatus[Any]:
    return HttpStatus(201, services.create_organisation(actor=request_actor(request), name=payload.name))


@router.get("/organisations/{organisation_id}", response=OrganisationOut, summary="An organisation")
def get_organisation(request: HttpRequest, organisation_id: Id) -> Any:
    return queries.get_organisation_for(request_actor(request), organisation_id)


@router.get("/departments", response=list[DepartmentOut], summary="Departments that accept tickets")
def list_departments(request: HttpRequest) -> Any:
    return queries.visible_departments(request_actor(request))


@router.get("/priorities", response=list[PriorityOut], summary="Priorities, least urgent first")
def list_priorities(request: HttpRequest) -> Any:
    return Priority.objects.all()


@router.get("/tokens", response=list[TokenOut], summary="Your API tokens")
def list_tokens(request: HttpRequest) -> Any:
    return request_actor(request).api_tokens.all()


@router.post("/tokens", response={201: NewTokenOut}, summary="Create an API token")
def create_token(request: HttpRequest, payload: TokenIn) -> HttpStatus[dict[str, Any]]:
    token, secret = services.issue_api_token(actor=request_actor(request), name=payload.name)
    return HttpStatus(
        201,
        {
            "id": token.pk,
            "name": token.name,
            "prefix": token.prefix,
            "created_at": token.created_at,
            "last_used_at": None,
            "revoked_at": None,
            "token": secret,
        },
    )


@router.delete("/tokens/{token_id}", response=TokenOut, summary="Revoke an API token")
def revoke_token(request: HttpRequest, token_id: Id) -> Any:
    return services.revoke_api_token(actor=request_actor(request), token_id=token_id)
