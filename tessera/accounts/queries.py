"""The one way to fetch people, organisations and departments."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from tessera.accounts.models import Department, Organisation, User
from tessera.core.errors import NotFound
from tessera.core.refcache import ReferenceTable

_departments = ReferenceTable(lambda: {d.pk: d for d in Department.objects.all()}, Department)


def visible_contacts(actor: User) -> QuerySet[User]:
    """Agents see every contact; a customer sees themselves and, as a member, their organisation's people."""
    contacts = User.objects.filter(role=User.Role.CUSTOMER)
    if actor.is_agent:
        return contacts
    if actor.organisation_id:
        return contacts.filter(Q(pk=actor.pk) | Q(organisation_id=actor.organisation_id))
    return contacts.filter(pk=actor.pk)


def get_contact_for(actor: User, contact_id: int) -> User:
    contact = visible_contacts(actor).filter(pk=contact_id).first()
    if contact is None:
        raise NotFound(_("Contact not found."))
    return contact


def visible_organisations(actor: User) -> QuerySet[Organisation]:
    if actor.is_agent:
        return Organisation.objects.all()
    return (
        Organisation.objects.filter(pk=actor.organisation_id)
        if actor.organisation_id
        else Organisation.objects.none()
    )


def get_organisation_for(actor: User, organisation_id: int) -> Organisation:
    organisation = visible_organisations(actor).filter(pk=organisation_id).first()
    if organisation is None:
        raise NotFound(_("Organisation not found."))
    return organisation


def visible_departments(actor: User) -> QuerySet[Department]:
    """Every active department accepts tickets, so everyone may list them."""
    return Department.objects.filter(is_active=True)


def get_department_for(actor: User, department_id: int | str) -> Department:
    """An active department by id or slug (from the per-process copy: read-only)."""
    departments = _departments.get().values()
    key = str(department_id)
    for department in departments:
        if department.is_active and (str(department.pk) == key or department.slug == key):
            return department
    raise NotFound(_("Department not found."), field="department")


def department_by_id(department_id: int) -> Department:
    """Any department, active or not, by id: for showing the department of existing tickets."""
    department = _departments.get().get(department_id)
    if department is None:  # created in another process since our copy was taken
        _departments.clear()
        department = _departments.get()[department_id]
    return department
