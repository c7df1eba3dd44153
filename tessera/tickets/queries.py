"""The one way to fetch tickets and what is inside them: built on tessera.tickets.access, an invisible
object is NotFound (a 404), so its existence does not leak."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.accounts.queries import department_by_id
from tessera.core.errors import NotFound, ValidationFailed
from tessera.core.pagination import Page, decode_cursor, encode_cursor
from tessera.tickets.access import downloadable_attachments, visible_tickets
from tessera.tickets.models import Attachment, Ticket
from tessera.tickets.reference import priority_by_id

__all__ = ["get_attachment_for", "get_ticket_for", "ticket_page"]

BIGINT = range(-(2**63), 2**63)


def ticket_page(
    user: User,
    tickets: QuerySet[Ticket],
    *,
    cursor: str | None,
    limit: int,
) -> Page[Ticket]:
    """A page of `tickets` (a queryset built on visible_tickets(user)), newest first, after the ticket the
    cursor names, with the people the API shows in the same query."""
    if cursor:
        (last_id,) = decode_cursor(cursor, 1)
        if type(last_id) is not int or last_id not in BIGINT:
            raise ValidationFailed(_("The cursor is not valid."), field="cursor")
        tickets = tickets.filter(id__lt=last_id)
    found = list(tickets.select_related("requester", "submitted_by", "assignee").order_by("-id")[: limit + 1])
    for ticket in found:
        _reference_data(ticket)
    if len(found) <= limit:
        return Page(items=found, next_cursor=None)
    found = found[:limit]
    return Page(items=found, next_cursor=encode_cursor([found[-1].pk]))


def get_ticket_for(user: User, ticket_id: int) -> Ticket:
    """The ticket if `user` may see it, with its people, else NotFound."""
    if ticket_id not in BIGINT:
        raise NotFound(_("Ticket not found."))
    ticket = (
        visible_tickets(user)
        .filter(pk=ticket_id)
        .select_related("requester", "submitted_by", "assignee")
        .first()
    )
    if ticket is None:
        raise NotFound(_("Ticket not found."))
    return _reference_data(ticket)


def _reference_data(ticket: Ticket) -> Ticket:
    # Department and priority come from the per-process copy, not from a join or a query each.
    ticket.department = department_by_id(ticket.department_id)
    ticket.priority = priority_by_id(ticket.priority_id)
    return ticket


def get_attachment_for(user: User, attachment_id: int) -> Attachment:
    """The attachment if `user` may download it, else NotFound (a note's file is as absent as any)."""
    found = (
        downloadable_attachments(user).filter(pk=attachment_id).first() if attachment_id in BIGINT else None
    )
    if found is None:
        raise NotFound(_("Attachment not found."))
    return found
