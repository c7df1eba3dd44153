"""Customer service endpoints: agents and admins list, create and update; customers list their own."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.responses import Status as HttpStatus
from pydantic import ConfigDict, Field

from tessera.accounts.models import Organisation, User
from tessera.api.schemas import (
    UNCHANGED,
    BodyId,
    Cursor,
    Id,
    StrictBool,
    StrictSchema,
    at_least_one_given,
    omittable,
    request_actor,
    text,
)
from tessera.catalog import queries, services
from tessera.catalog.models import CustomerService
from tessera.core.errors import PermissionDenied, ValidationFailed
from tessera.core.pagination import paginate
from tessera.status.models import Component

router = Router(tags=["services"])


class ServiceOut(Schema):
    id: int
    name: str
    order_number: str
    ip_addresses: list[str]
    customer_id: int | None
    organisation_id: int | None
    component_id: int | None
    component: str | None = Field(description="'Group / Component' on the status page")
    component_state: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime


class ServicePage(Schema):
    items: list[ServiceOut]
    next_cursor: str | None


class ServiceFilter(Schema):
    customer_id: Id | None = None
    organisation_id: Id | None = None
    component_id: Id | None = None
    order_number: str | None = Field(None, max_length=64)
    cursor: str | None = Cursor
    limit: int = Field(50, ge=1, le=200)


IpAddress = Annotated[str, Field(max_length=64, description="An IPv4/IPv6 address or network.")]


class ServiceIn(StrictSchema):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra=at_least_one_given("customer_id", "organisation_id")
    )

    name: str = text(services.NAME_MAX)
    customer_id: BodyId | None = Field(None, description="The customer, or give organisation_id.")
    organisation_id: BodyId | None = None
    order_number: str = text(services.ORDER_MAX, default="", required=False)
    ip_addresses: list[IpAddress] = Field(default_factory=list, max_length=1_000)
    component_id: BodyId | None = None
    is_active: StrictBool = True


class ServicePatch(StrictSchema):
    """Fields left out stay as they are; only the three links may be set to null (to clear them)."""

    name: str = text(services.NAME_MAX, default=None, omit=True)
    customer_id: BodyId | None = None
    organisation_id: BodyId | None = None
    order_number: str = text(services.ORDER_MAX, default=None, required=False, omit=True)
    ip_addresses: list[IpAddress] = Field(UNCHANGED, max_length=1_000, json_schema_extra=omittable)
    component_id: BodyId | None = None
    is_active: StrictBool = Field(UNCHANGED, json_schema_extra=omittable)


def service_out(s: CustomerService) -> dict[str, Any]:
    component = s.component
    return {
        "id": s.pk,
        "name": s.name,
        "order_number": s.order_number,
        "ip_addresses": list(s.ip_addresses),
        "customer_id": s.user_id,
        "organisation_id": s.organisation_id,
        "component_id": s.component_id,
        "component": f"{component.group.name} / {component.name}" if component else None,
        "component_state": component.state if component else None,
        "is_active": s.is_active,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
    }


def _customer(customer_id: int | None) -> User | None:
    if customer_id is None:
        return None
    user = User.objects.filter(pk=customer_id, role=User.Role.CUSTOMER).first()
    if user is None:
        raise ValidationFailed(_("No customer with this id."), field="customer_id")
    return user


def _organisation(organisation_id: int | None) -> Organisation | None:
    if organisation_id is None:
        return None
    organisation = Organisation.objects.filter(pk=organisation_id).first()
    if organisation is None:
        raise ValidationFailed(_("No organisation with this id."), field="organisation_id")
    return organisation


def _component(component_id: int | None) -> Component | None:
    if component_id is None:
        return None
    component = Component.objects.select_related("group").filter(pk=component_id).first()
    if component is None:
        raise ValidationFailed(
            _("Unknown component %(value)s.") % {"value": component_id}, field="component_id"
        )
    return component


@router.get(
    "/services", response=ServicePage, summary="Customer services (all for agents; your own otherwise)"
)
def list_services(request: HttpRequest, filters: Query[ServiceFilter]) -> dict[str, Any]:
    actor = request_actor(request)
    services_qs = queries.visible_services(actor)
    if filters.customer_id is not None:
        services_qs = services_qs.filter(user_id=filters.customer_id)
    if filters.organisation_id is not None:
        services_qs = services_qs.filter(organisation_id=filters.organisation_id)
    if filters.component_id is not None:
        services_qs = services_qs.filter(component_id=filters.component_id)
    if filters.order_number:
        services_qs = services_qs.filter(order_number=filters.order_number)
    page = paginate(services_qs, ordering=("id",), cursor=filters.cursor, limit=filters.limit)
    return {"items": [service_out(s) for s in page.items], "next_cursor": page.next_cursor}


@router.get("/services/{service_id}", response=ServiceOut, summary="One customer service")
def get_service(request: HttpRequest, service_id: Id) -> dict[str, Any]:
    return service_out(queries.get_service_for(request_actor(request), service_id))


@router.post("/services", response={201: ServiceOut}, summary="Record a customer's service (agents)")
def create_service(request: HttpRequest, payload: ServiceIn) -> HttpStatus[dict[str, Any]]:
    actor = request_actor(request)
    if not actor.is_agent:
        raise PermissionDenied(_("Only agents and administrators can manage customer services."))
    service = services.create_service(
        actor=actor,
        data=services.ServiceData(
            name=payload.name,
            user=_customer(payload.customer_id),
            organisation=_organisation(payload.organisation_id),
            order_number=payload.order_number,
            ip_addresses=payload.ip_addresses,
            component=_component(payload.component_id),
            is_active=payload.is_active,
        ),
    )
    return HttpStatus(201, service_out(service))


@router.patch("/services/{service_id}", response=ServiceOut, summary="Change a customer's service (agents)")
def update_service(request: HttpRequest, service_id: Id, payload: ServicePatch) -> dict[str, Any]:
    actor = request_actor(request)
    service = queries.get_service_for(actor, service_id)  # 404 before 403: a customer's own is visible
    if not actor.is_agent:
        raise PermissionDenied(_("Only agents and administrators can manage customer services."))
    given = payload.model_dump(exclude_unset=True)
    changes: dict[str, Any] = {}
    for key, value in given.items():
        if key == "customer_id":
            changes["user"] = _customer(value)
        elif key == "organisation_id":
            changes["organisation"] = _organisation(value)
        elif key == "component_id":
            changes["component"] = _component(value)
        else:
            changes[key] = value
    return service_out(services.update_service(actor=actor, service=service, changes=changes))
