"""The one way to fetch tickets: everything visible to an actor, or one ticket as 404 if not."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from tessera.accounts.models import Membership, User
from tessera.accounts.queries import department_by_id
from tessera.core.errors import NotFound
from tessera.tickets.models import Ticket
from tessera.tickets.permissions import customer_visibility
from tessera.tickets.reference import priority_by_id


def visible_tickets(user: User) -> QuerySet[Ticket]:
    tickets = Ticket.objects.all()
    if user.is_admin:
        return tickets
    if user.is_agent:
        # EXISTS instead of a join keeps one row per ticket and lets the planner use the queue index.
        member = Membership.objects.filter(agent=user, department_id=OuterRef("department_id"))
        return tickets.filter(Exists(member) | Q(assignee=user))
    return tickets.filter(customer_visibility(user))


def get_ticket_for(user: User, ticket_id: int, *, related: bool = True) -> Ticket:
    """The ticket if `user` may see it, else NotFound. With `related`, its people come in the same query
    (the services use them); department and priority always come from the per-process copy."""
    tickets = visible_tickets(user).filter(pk=ticket_id)
    if related:
        tickets = tickets.select_related("requester", "submitted_by", "assignee")
    ticket = tickets.first()
    if ticket is None:
        raise NotFound(_("Ticket not found."))
    ticket.department = department_by_id(ticket.department_id)
    ticket.priority = priority_by_id(ticket.priority_id)
    return ticket
