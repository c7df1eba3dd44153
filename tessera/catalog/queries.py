"""The one way to fetch customer services."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.catalog.models import CustomerService
from tessera.core.errors import NotFound


def _own(user: User) -> Q:
    condition = Q(user_id=user.pk)
    if user.organisation_id:
        condition |= Q(organisation_id=user.organisation_id)
    return condition


def services_for(user: User) -> QuerySet[CustomerService]:
    """The active services a customer holds: their own and their organisation's (the ticket form's list)."""
    return CustomerService.objects.filter(_own(user), is_active=True).select_related("component__group")


def visible_services(user: User) -> QuerySet[CustomerService]:
    """Everything for agents and admins; a customer's own active services otherwise."""
    if user.is_agent:
        return CustomerService.objects.select_related("component__group", "user", "organisation")
    return services_for(user).select_related("user", "organisation")


def get_service_for(user: User, service_id: int) -> CustomerService:
    service = visible_services(user).filter(pk=service_id).first()
    if service is None:
        raise NotFound(_("Service not found."))
    return service
