"""Agent queues: which tickets each queue holds, their filters and sort orders, and bounded counts.

Every queue starts from tickets.access.visible_tickets, so a queue can never show more than the agent
may see. Counts stop at COUNT_CAP rows (COUNT over a LIMIT subquery): a queue of a million tickets
costs the same as one of a thousand, and the indexes on (department, status, -id) and
(assignee, status, -id) serve every queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from tessera.accounts.models import Department, User
from tessera.core import clock
from tessera.core.errors import NotFound, ValidationFailed
from tessera.core.ids import parse_id
from tessera.core.text import clean_text
from tessera.search.services import text_filter
from tessera.sla import queries as sla
from tessera.tickets.access import visible_tickets
from tessera.tickets.models import OPEN_STATUSES, Channel, Priority, Status, Ticket
from tessera.tickets.services import clean_choice

COUNT_CAP = 1000
RECENT = timedelta(hours=24)

SORTS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "newest": (gettext_lazy("Newest first"), ("-id",)),
    "oldest": (gettext_lazy("Oldest first"), ("id",)),
    "updated": (gettext_lazy("Recently updated"), ("-updated_at", "-id")),
    "priority": (gettext_lazy("Highest priority"), ("-priority__rank", "-id")),
    "due": (gettext_lazy("SLA due soonest"), ("sla__due_at", "id")),
}


@dataclass(frozen=True)
class Queue:
    key: str
    label: str
    group: str = "main"


def departments_of(user: User) -> QuerySet[Department]:
    """The departments an agent works in; an admin without memberships oversees all of them."""
    mine = Department.objects.filter(memberships__agent=user, is_active=True)
    if user.is_admin and not mine.exists():
        return Department.objects.filter(is_active=True)
    return mine


def queues_for(user: User) -> list[Queue]:
    queues = [
        Queue("mine", _("My tickets")),
        Queue("unassigned", pgettext("queue", "Unassigned")),
        Queue("waiting", pgettext("queue", "Waiting on customer")),
        Queue("recent", _("Recently updated")),
        Queue("open", pgettext("queue", "All open")),
    ]
    queues += [Queue(f"dept-{d.slug}", d.name, "departments") for d in departments_of(user)]
    return queues


def queue_tickets(user: User, key: str) -> QuerySet[Ticket]:
    """The tickets of one queue (before filters); an unknown queue is a 404."""
    tickets = visible_tickets(user)
    open_ = list(OPEN_STATUSES)
    if key == "mine":
        return tickets.filter(assignee=user, status__in=open_)
    if key == "unassigned":
        return tickets.filter(assignee__isnull=True, status__in=open_)
    if key == "waiting":
        return tickets.filter(status=Status.WAITING)
    if key == "recent":
        return tickets.filter(updated_at__gte=clock.now() - RECENT)
    if key == "open":
        return tickets.filter(status__in=open_)
    if key.startswith("dept-"):
        department = departments_of(user).filter(slug=key.removeprefix("dept-")).first()
        if department is not None:
            return tickets.filter(department=department, status__in=open_)
    raise NotFound(_("There is no such queue."))


def bounded_count(tickets: QuerySet[Ticket], cap: int = COUNT_CAP) -> int:
    """How many tickets, counting at most `cap` rows (SELECT COUNT(*) FROM (… LIMIT cap))."""
    return tickets.order_by().values("pk")[:cap].count()


def count_label(count: int, cap: int = COUNT_CAP) -> str:
    return f"{cap - 1}+" if count >= cap else str(count)


def queue_counts(user: User) -> dict[str, str]:
    return {q.key: count_label(bounded_count(queue_tickets(user, q.key))) for q in queues_for(user)}


@dataclass
class Filters:
    status: str = ""
    priority: str = ""
    department: str = ""
    assignee: str = ""  # "me", "none" or an agent id
    tag: str = ""
    channel: str = ""
    sla: str = ""  # "breached" or "soon"
    q: str = ""
    sort: str = "newest"
    active: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_query(cls, params: Any) -> Filters:
        names = ("status", "priority", "department", "assignee", "tag", "channel", "sla", "q", "sort")
        values = {name: (params.get(name) or "").strip()[:1000] for name in names}
        values["sort"] = values["sort"] or "newest"
        return cls(**values, active={k: v for k, v in values.items() if v and k != "sort"})


def apply_filters(user: User, tickets: QuerySet[Ticket], filters: Filters) -> QuerySet[Ticket]:
    """Narrow a queue; bad values are ValidationFailed naming the field, never a 500."""
    for name, value in filters.active.items():
        clean_text(value, field=name, max_length=1000)  # control characters (PostgreSQL refuses NUL)
    if filters.status:
        tickets = tickets.filter(status=clean_choice(filters.status, Status, "status"))
    if filters.priority:
        priority = Priority.objects.filter(slug=filters.priority).first()
        if priority is None:
            raise ValidationFailed(_("Unknown priority."), field="priority")
        tickets = tickets.filter(priority=priority)
    if filters.department:
        tickets = tickets.filter(department__slug=filters.department)
    if filters.assignee == "me":
        tickets = tickets.filter(assignee=user)
    elif filters.assignee == "none":
        tickets = tickets.filter(assignee__isnull=True)
    elif filters.assignee:
        assignee_id = parse_id(filters.assignee)
        if assignee_id is None:
            raise ValidationFailed(_("Unknown assignee."), field="assignee")
        tickets = tickets.filter(assignee_id=assignee_id)
    if filters.tag:
        tickets = tickets.filter(tags__name=filters.tag)
    if filters.channel:
        tickets = tickets.filter(channel=clean_choice(filters.channel, Channel, "channel"))
    now = clock.now()
    if filters.sla == "breached":
        tickets = sla.breached(tickets, now)
    elif filters.sla == "soon":
        tickets = sla.breaching_within(tickets, now, 60)
    elif filters.sla:
        raise ValidationFailed(_("Unknown SLA filter."), field="sla")
    if filters.q:
        condition = text_filter(user, filters.q)
        if condition is not None:
            tickets = tickets.filter(condition)
    if filters.sort not in SORTS:
        raise ValidationFailed(_("Unknown sort order."), field="sort")
    if filters.sort == "due":
        # Keyset paging needs a value on every row: only tickets with a running SLA clock have a due time.
        tickets = tickets.filter(sla__due_at__isnull=False)
    return tickets


def ordering(filters: Filters) -> tuple[str, ...]:
    return SORTS[filters.sort][1] if filters.sort in SORTS else SORTS["newest"][1]
