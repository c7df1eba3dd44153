"""Who may see and do what with a ticket. Used only by queries.py and services.py."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from tessera.accounts.models import Membership, User
from tessera.tickets.models import Ticket


def agent_visibility(agent_id: int) -> Q:
    """The tickets an agent sees: their departments' and those assigned to them."""
    # EXISTS instead of a join keeps one row per ticket and lets the planner use the queue index.
    member = Membership.objects.filter(agent_id=agent_id, department_id=OuterRef("department_id"))
    return Q(Exists(member)) | Q(assignee_id=agent_id)


def customer_visibility(user_id: int, organisation_id: int | None = None) -> Q:
    """The tickets a customer sees: their own, filed by them, CC'd to them, and with `organisation_id`
    (an organisation manager's) their organisation's."""
    # A UNION of the indexed paths (requester, submitted_by, CC, organisation), as `id IN (…)`: with an OR
    # of the same conditions PostgreSQL walked the whole ticket table instead of the customer's few rows.
    own = Ticket.objects.filter(requester_id=user_id).values("pk")
    paths = [
        Ticket.objects.filter(submitted_by_id=user_id).values("pk"),
        Ticket.cc.through.objects.filter(user_id=user_id).values("ticket_id"),
    ]
    if organisation_id is not None:
        paths.append(Ticket.objects.filter(requester__organisation_id=organisation_id).values("pk"))
    return Q(pk__in=own.union(*paths))


def can_view(user: User, ticket: Ticket) -> bool:
    if user.is_admin:
        return True
    if user.is_agent:
        return ticket.assignee_id == user.pk or ticket.department.memberships.filter(agent=user).exists()
    if user.pk in (ticket.requester_id, ticket.submitted_by_id):
        return True
    if (
        user.is_org_manager
        and user.organisation_id
        and ticket.requester.organisation_id == user.organisation_id
    ):
        return True
    return ticket.cc.filter(pk=user.pk).exists()


def can_work_on(user: User, ticket: Ticket) -> bool:
    """Agent actions: internal notes, assignment, priority, department, status beyond close/reopen."""
    return user.is_agent and can_view(user, ticket)


def can_work_in_department(user: User, department_id: int) -> bool:
    return user.is_admin or (user.is_agent and user.memberships.filter(department_id=department_id).exists())
