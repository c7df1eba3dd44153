"""The one way to fetch tickets: everything visible to an actor, or one ticket as 404 if not."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from tessera.accounts.models import Membership, User
from tessera.core.errors import NotFound
from tessera.tickets.models import Ticket
from tessera.tickets.permissions import customer_visibility


def visible_tickets(user: User) -> QuerySet[Ticket]:
    tickets = Ticket.objects.all()
    if user.is_admin:
        return tickets
    if user.is_agent:
        # EXISTS instead of a join keeps one row per ticket and lets the planner use the queue index.
        member = Membership.objects.filter(agent=user, department_id=OuterRef("department_id"))
        return tickets.filter(Exists(member) | Q(assignee=user))
    return tickets.filter(customer_visibility(user))


def get_ticket_for(user: User, ticket_id: int) -> Ticket:
    ticket = (
        visible_tickets(user)
        .select_related("requester", "submitted_by", "department", "priority", "assignee")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None:
        raise NotFound(_("Ticket not found."))
    return ticket
