"""The one way to fetch tickets: everything visible to an actor, or one ticket as 404 if not."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import Any

from django.db import router
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.accounts.queries import department_by_id
from tessera.core import rows
from tessera.core.errors import NotFound, ValidationFailed
from tessera.core.pagination import Page, decode_cursor, encode_cursor
from tessera.tickets.models import Ticket
from tessera.tickets.permissions import agent_visibility, customer_visibility
from tessera.tickets.reference import priority_by_id

# Who sees which tickets, by kind of user: rule(*values) is the condition (None: every ticket).
_RULES: dict[str, Callable[..., Q] | None] = {
    "admin": None,
    "agent": agent_visibility,
    "customer": customer_visibility,
    "manager": customer_visibility,  # with the organisation's tickets
}


def _visibility(user: User) -> tuple[str, tuple[int, ...]]:
    """The user's kind (a key of _RULES) and the values its rule takes."""
    if user.is_admin:
        return "admin", ()
    if user.is_agent:
        return "agent", (user.pk,)
    if user.is_org_manager and user.organisation_id:
        return "manager", (user.pk, user.organisation_id)
    return "customer", (user.pk,)


def _visible(kind: str, values: tuple[Any, ...]) -> QuerySet[Ticket]:
    rule = _RULES[kind]
    return Ticket.objects.all() if rule is None else Ticket.objects.filter(rule(*values))


def visible_tickets(user: User) -> QuerySet[Ticket]:
    return _visible(*_visibility(user))


TICKET_COLUMNS = tuple(field.attname for field in Ticket._meta.concrete_fields)


def ticket_page(
    user: User,
    conditions: dict[str, rows.Argument],
    *,
    fixed: tuple[tuple[str, Hashable], ...] = (),
    cursor: str | None,
    limit: int,
) -> Page[Ticket]:
    """A page of the tickets `user` sees, newest first, that match `conditions` (lookup → value, such as
    status__in → ["open"]) and `fixed` (lookups whose value is part of the SQL, such as
    assignee__isnull → True), after the ticket the cursor names. The SQL is prepared once per kind of
    user, set of lookups and limit (rows.Query): building it through the ORM was a third of a queue page."""
    kind, values = _visibility(user)
    after: tuple[int, ...] = ()
    if cursor:
        (last_id,) = decode_cursor(cursor, 1)
        if type(last_id) is not int or last_id not in rows.BIGINT:
            raise ValidationFailed(_("The cursor is not valid."), field="cursor")
        after = (last_id,)
    query = _page_query(kind, len(values), tuple(conditions), fixed, bool(after), limit + 1)
    found = _tickets(query(*values, *conditions.values(), *after))
    if len(found) <= limit:
        return Page(items=found, next_cursor=None)
    found = found[:limit]
    return Page(items=found, next_cursor=encode_cursor([found[-1].pk]))


@functools.lru_cache(maxsize=256)
def _page_query(
    kind: str,
    arity: int,
    lookups: tuple[str, ...],
    fixed: tuple[tuple[str, Hashable], ...],
    after: bool,
    size: int,
) -> rows.Query:
    """The prepared page read; its arguments are the `arity` values of the kind's rule, one per lookup,
    then the cursor's id when `after`."""

    def build(*args: Any) -> QuerySet[Any, Any]:
        chosen = args[arity : arity + len(lookups)]
        tickets = _visible(kind, args[:arity]).filter(**dict(zip(lookups, chosen, strict=True)))
        tickets = tickets.filter(**dict(fixed))
        if after:
            tickets = tickets.filter(id__lt=args[-1])
        return tickets.order_by("-id").values_list(*TICKET_COLUMNS)[:size]

    return rows.Query(Ticket, build)


def _tickets(found: list[tuple[Any, ...]]) -> list[Ticket]:
    return rows.instances(Ticket, router.db_for_read(Ticket), found)


def get_ticket_for(user: User, ticket_id: int, *, related: bool = True) -> Ticket:
    """The ticket if `user` may see it, else NotFound. With `related`, its people come in the same query
    (the services use them); without, the read is prepared (as a page of one). Department and priority
    always come from the per-process copy."""
    ticket: Ticket | None = None
    if related:
        tickets = visible_tickets(user).filter(pk=ticket_id)
        ticket = tickets.select_related("requester", "submitted_by", "assignee").first()
    else:
        kind, values = _visibility(user)
        found = _tickets(_page_query(kind, len(values), ("id",), (), False, 1)(*values, ticket_id))
        ticket = found[0] if found else None
    if ticket is None:
        raise NotFound(_("Ticket not found."))
    ticket.department = department_by_id(ticket.department_id)
    ticket.priority = priority_by_id(ticket.priority_id)
    return ticket
