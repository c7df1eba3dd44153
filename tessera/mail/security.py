"""The mail security log: recording what the email channel refused or held and every review decision,
and reading it back (the list, counts per sender and day, the CSV export) for admins."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.core import clock
from tessera.core.errors import PermissionDenied
from tessera.mail.models import InboundMessage, SecurityEvent
from tessera.reports.exports import to_csv
from tessera.tickets import access
from tessera.tickets.models import Ticket

Kind = SecurityEvent.Kind


def record(
    kind: str,
    *,
    sender: str,
    detail: str = "",
    inbound: InboundMessage | None = None,
    ticket: Ticket | None = None,
    actor: User | None = None,
) -> SecurityEvent:
    """One entry, written in the caller's transaction (so it commits with the decision it records)."""
    return SecurityEvent.objects.create(
        kind=kind,
        sender=sender[:320],
        detail=detail[:5000],
        inbound=inbound if inbound is not None and inbound.pk else None,
        ticket=ticket,
        actor=actor,
        created_at=clock.now(),
    )


@dataclass(frozen=True)
class LogFilters:
    kind: str = ""
    sender: str = ""
    days: int = 30


def _check(user: User) -> None:
    if not access.can_view_security_log(user):
        raise PermissionDenied(_("Only administrators can read the security log."))


def events(user: User, filters: LogFilters) -> QuerySet[SecurityEvent]:
    """The log, newest first, within the last `days` days."""
    _check(user)
    found = SecurityEvent.objects.filter(created_at__gte=clock.now() - timedelta(days=filters.days))
    if filters.kind:
        found = found.filter(kind=filters.kind)
    if filters.sender:
        found = found.filter(sender=filters.sender.strip().lower())
    return found.select_related("actor").order_by("-created_at", "-id")


def daily_counts(user: User, filters: LogFilters, limit: int = 200) -> list[tuple[date, str, str, int]]:
    """(day, sender, kind, count), busiest first: who tried what, how often, per day (UTC)."""
    rows = (
        events(user, filters)
        .annotate(day=TruncDate("created_at"))
        .values_list("day", "sender", "kind")
        .annotate(count=Count("id"))
        .order_by("-day", "-count", "sender", "kind")[:limit]
    )
    return [(day, sender, kind, count) for day, sender, kind, count in rows]


def export_csv(user: User, filters: LogFilters) -> str:
    labels = dict(Kind.choices)

    def rows() -> Iterable[list[object]]:
        for event in events(user, filters).iterator(chunk_size=1000):
            yield [
                _iso(event.created_at),
                str(labels.get(event.kind, event.kind)),
                event.kind,
                event.sender,
                event.actor.email if event.actor else "",
                event.inbound_id or "",
                event.ticket_id or "",
                event.detail,
            ]

    header = [
        _("When (UTC)"),
        _("Event"),
        _("Code"),
        _("Sender"),
        _("By"),
        _("Message"),
        _("Ticket"),
        _("Detail"),
    ]
    return to_csv(header, rows())


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")
