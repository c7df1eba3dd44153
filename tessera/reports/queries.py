"""The reports' figures: compliance, response and resolution times, ticket volume, and who may see them.

Every figure is an aggregate query (GROUP BY, or a window function for percentiles); nothing
loops over tickets in Python, so the cost is one query per table whatever the volume.
Business minutes are measured once, when a clock stops (`TicketSla.first_response_minutes`,
`resolution_minutes`, `acknowledge_minutes`), which is what makes medians in business hours an SQL
question. Every kind of target is measured: first response, next response, resolution, acknowledge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Value, Window
from django.db.models.functions import Ceil, Coalesce, RowNumber, TruncDay, TruncMonth, TruncWeek
from django.utils.translation import gettext as _

from tessera.accounts.models import Department, Membership, User
from tessera.core.errors import PermissionDenied, ValidationFailed
from tessera.sla.models import TicketSla
from tessera.tickets.models import Channel, Ticket

MAX_RANGE_DAYS = 3 * 366


def can_see_reports(user: User) -> bool:
    """Admins, and agents who lead at least one department."""
    if not user.is_authenticated or not user.is_agent:
        return False
    return user.is_admin or Membership.objects.filter(agent=user, is_lead=True).exists()


def report_departments(user: User) -> QuerySet[Department]:
    """The departments whose figures `user` may see: all for admins, the ones they lead otherwise."""
    if not can_see_reports(user):
        raise PermissionDenied(_("Reports are for department leads and administrators."))
    departments = Department.objects.order_by("name")
    if user.is_admin:
        return departments
    return departments.filter(memberships__agent=user, memberships__is_lead=True)


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive
    department: Department | None
    departments: tuple[int, ...]  # the ones the viewer may see

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)


def parse_filters(user: User, params: dict[str, str], today: date) -> Filters:
    """Validate the date range (default: the last 90 days) and department from query parameters."""
    allowed = report_departments(user)

    def _date(name: str, default: date) -> date:
        raw = (params.get(name) or "").strip()
        if not raw:
            return default
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise ValidationFailed(_("Use a date such as 2026-01-31."), field=name) from None

    end = _date("end", today)
    start = _date("start", end - timedelta(days=89))
    if start > end:
        raise ValidationFailed(_("The start must not be after the end."), field="start")
    if (end - start).days > MAX_RANGE_DAYS:
        raise ValidationFailed(_("Choose a range of at most three years."), field="start")
    department = None
    slug = (params.get("department") or "").strip()
    if slug:
        department = allowed.filter(slug=slug).first()
        if department is None:
            raise ValidationFailed(_("Unknown department."), field="department")
    return Filters(start, end, department, tuple(allowed.values_list("pk", flat=True)))


def _states(filters: Filters) -> QuerySet[TicketSla]:
    rows = TicketSla.objects.filter(
        ticket__created_at__gte=filters.since,
        ticket__created_at__lt=filters.until,
        ticket__department_id__in=filters.departments,
        policy__isnull=False,
    )
    if filters.department is not None:
        rows = rows.filter(ticket__department=filters.department)
    return rows


def _tickets(filters: Filters) -> QuerySet[Ticket]:
    rows = Ticket.objects.filter(
        created_at__gte=filters.since, created_at__lt=filters.until, department_id__in=filters.departments
    )
    if filters.department is not None:
        rows = rows.filter(department=filters.department)
    return rows


# Compliance ---------------------------------------------------------------------------------------------


@dataclass
class ComplianceRow:
    label: str
    first_response_met: int
    first_response_total: int
    resolution_met: int
    resolution_total: int
    acknowledge_met: int = 0
    acknowledge_total: int = 0
    next_response_met: int = 0  # tickets whose every awaited reply was answered in time
    next_response_total: int = 0

    @property
    def met(self) -> int:
        return self.first_response_met + self.resolution_met + self.acknowledge_met + self.next_response_met

    @property
    def total(self) -> int:
        return (
            self.first_response_total
            + self.resolution_total
            + self.acknowledge_total
            + self.next_response_total
        )

    @property
    def percent(self) -> float | None:
        return round(100 * self.met / self.total, 1) if self.total else None

    @staticmethod
    def _pct(met: int, total: int) -> float | None:
        return round(100 * met / total, 1) if total else None

    @property
    def first_response_percent(self) -> float | None:
        return self._pct(self.first_response_met, self.first_response_total)

    @property
    def resolution_percent(self) -> float | None:
        return self._pct(self.resolution_met, self.resolution_total)

    @property
    def acknowledge_percent(self) -> float | None:
        return self._pct(self.acknowledge_met, self.acknowledge_total)

    @property
    def next_response_percent(self) -> float | None:
        return self._pct(self.next_response_met, self.next_response_total)


# A target counts once its clock has finished: met in time, or breached (even if still open).
_FR_DONE = Q(targets__has_key="first_response") & (
    Q(first_responded_at__isnull=False) | Q(first_response_breached=True)
)
_FR_MET = Q(
    targets__has_key="first_response", first_responded_at__isnull=False, first_response_breached=False
)
_RES_DONE = Q(targets__has_key="resolution") & (
    Q(resolution_minutes__isnull=False) | Q(resolution_breached=True)
)
_RES_MET = Q(targets__has_key="resolution", resolution_minutes__isnull=False, resolution_breached=False)
_ACK_DONE = Q(targets__has_key="acknowledge") & (
    Q(acknowledged_at__isnull=False) | Q(acknowledge_breached=True)
)
_ACK_MET = Q(targets__has_key="acknowledge", acknowledged_at__isnull=False, acknowledge_breached=False)
# Next response, per ticket: it counts once a customer reply has been waited on (cycle > 0) and nothing
# is awaited any more, or as soon as one reply was answered late; met when none was.
_NEXT_DONE = Q(targets__has_key="next_response", next_response_cycle__gt=0) & (
    Q(next_response_started_at__isnull=True) | Q(next_response_breached=True)
)
_NEXT_MET = _NEXT_DONE & Q(next_response_breached=False)


def _compliance_counts() -> dict[str, Count]:
    return {
        "fr_met": Count("pk", filter=_FR_MET),
        "fr_total": Count("pk", filter=_FR_DONE),
        "res_met": Count("pk", filter=_RES_MET),
        "res_total": Count("pk", filter=_RES_DONE),
        "ack_met": Count("pk", filter=_ACK_MET),
        "ack_total": Count("pk", filter=_ACK_DONE),
        "next_met": Count("pk", filter=_NEXT_MET),
        "next_total": Count("pk", filter=_NEXT_DONE),
    }


def _compliance_row(label: str, row: dict[str, Any]) -> ComplianceRow:
    return ComplianceRow(
        label,
        row["fr_met"],
        row["fr_total"],
        row["res_met"],
        row["res_total"],
        row["ack_met"],
        row["ack_total"],
        row["next_met"],
        row["next_total"],
    )


DIMENSIONS = ("priority", "department", "agent", "month")


def compliance(filters: Filters, dimension: str) -> list[ComplianceRow]:
    """% of finished targets met in time, grouped by priority, department, agent or month."""
    rows = _states(filters)
    if dimension == "priority":
        keys: list[Any] = ["ticket__priority__rank", "ticket__priority__name"]
    elif dimension == "department":
        keys = ["ticket__department__name"]
    elif dimension == "agent":
        keys = ["ticket__assignee__full_name", "ticket__assignee__email"]
    elif dimension == "month":
        rows = rows.annotate(month=TruncMonth("ticket__created_at"))
        keys = ["month"]
    else:
        raise ValueError(dimension)
    grouped = (
        rows.values(*keys)
        .annotate(**_compliance_counts())
        .order_by(*[f"-{k}" if k == "ticket__priority__rank" else k for k in keys])
    )
    result = []
    for row in grouped:
        if dimension == "priority":
            label = row["ticket__priority__name"]
        elif dimension == "department":
            label = row["ticket__department__name"]
        elif dimension == "agent":
            label = row["ticket__assignee__full_name"] or row["ticket__assignee__email"] or _("Unassigned")
        else:
            label = row["month"].strftime("%Y-%m") if row["month"] else "?"
        result.append(_compliance_row(str(label), row))
    return result


# Response and resolution times --------------------------------------------------------------------------


@dataclass
class TimesRow:
    label: str
    first_response_count: int = 0
    first_response_median: float | None = None  # business hours
    first_response_p90: float | None = None
    resolution_count: int = 0
    resolution_median: float | None = None
    resolution_p90: float | None = None
    acknowledge_count: int = 0
    acknowledge_median: float | None = None
    acknowledge_p90: float | None = None


def _percentile(rows: QuerySet[TicketSla], measure: str, group: str, fraction: float) -> dict[Any, float]:
    """Nearest-rank percentile of `measure` per `group`, computed in the database with window
    functions (ROW_NUMBER over the ordered values, kept where it equals ceil(n x fraction))."""
    ranked = (
        rows.filter(**{f"{measure}__isnull": False})
        .annotate(
            position=Window(RowNumber(), partition_by=[F(group)], order_by=F(measure).asc()),
            size=Window(Count("pk"), partition_by=[F(group)]),
        )
        .annotate(wanted=Ceil(F("size") * Value(fraction)))
        .filter(position=F("wanted"))
        .values_list(group, measure)
    )
    return {key: value for key, value in ranked}


def times(filters: Filters, dimension: str) -> list[TimesRow]:
    """Median and p90 of first response and resolution, in business hours, per priority or
    department."""
    rows = _states(filters)
    group, label_field = (
        ("ticket__priority__rank", "ticket__priority__name")
        if dimension == "priority"
        else ("ticket__department__name", "ticket__department__name")
    )
    counts = (
        rows.values(group, label_field)
        .annotate(
            fr=Count("pk", filter=Q(first_response_minutes__isnull=False)),
            res=Count("pk", filter=Q(resolution_minutes__isnull=False)),
            ack=Count("pk", filter=Q(acknowledge_minutes__isnull=False)),
        )
        .order_by(f"-{group}" if group == "ticket__priority__rank" else group)
    )
    figures = {
        (measure, fraction): _percentile(rows, measure, group, fraction)
        for measure in ("first_response_minutes", "resolution_minutes", "acknowledge_minutes")
        for fraction in (0.5, 0.9)
    }

    def hours(measure: str, fraction: float, key: Any) -> float | None:
        value = figures[(measure, fraction)].get(key)
        return round(value / 60, 1) if value is not None else None

    return [
        TimesRow(
            label=str(row[label_field]),
            first_response_count=row["fr"],
            first_response_median=hours("first_response_minutes", 0.5, row[group]),
            first_response_p90=hours("first_response_minutes", 0.9, row[group]),
            resolution_count=row["res"],
            resolution_median=hours("resolution_minutes", 0.5, row[group]),
            resolution_p90=hours("resolution_minutes", 0.9, row[group]),
            acknowledge_count=row["ack"],
            acknowledge_median=hours("acknowledge_minutes", 0.5, row[group]),
            acknowledge_p90=hours("acknowledge_minutes", 0.9, row[group]),
        )
        for row in counts
    ]


# Volume -------------------------------------------------------------------------------------------------


@dataclass
class Volume:
    unit: str  # day, week or month
    periods: list[date]
    channels: list[tuple[str, str]]  # (value, label) of the channels that occur
    counts: dict[tuple[date, str], int] = field(default_factory=dict)

    def row(self, period: date) -> list[int]:
        return [self.counts.get((period, channel), 0) for channel, _label in self.channels]

    @property
    def table(self) -> list[tuple[date, list[int], int]]:
        return [(p, self.row(p), sum(self.row(p))) for p in self.periods]


def volume(filters: Filters) -> Volume:
    """Tickets created per day, week or month (by the range's length) and channel."""
    span = (filters.end - filters.start).days + 1
    unit, trunc = (
        ("day", TruncDay) if span <= 31 else ("week", TruncWeek) if span <= 200 else ("month", TruncMonth)
    )
    grouped = (
        _tickets(filters)
        .annotate(period=trunc("created_at"))
        .values("period", "channel")
        .annotate(n=Count("pk"))
        .order_by("period", "channel")
    )
    counts: dict[tuple[date, str], int] = {}
    periods: list[date] = []
    seen_channels: set[str] = set()
    for row in grouped:
        period = row["period"].date() if isinstance(row["period"], datetime) else row["period"]
        if not periods or periods[-1] != period:
            periods.append(period)
        counts[(period, row["channel"])] = row["n"]
        seen_channels.add(row["channel"])
    channels = [(value, str(label)) for value, label in Channel.choices if value in seen_channels]
    return Volume(unit, periods, channels, counts)


def totals(filters: Filters) -> dict[str, Any]:
    """Headline figures: tickets created, SLA targets finished and % met overall."""
    aggregate = _states(filters).aggregate(
        **_compliance_counts(),
        breached_open=Coalesce(
            Count(
                "pk",
                filter=Q(stopped_at__isnull=True, resolved_at__isnull=True)
                & (
                    Q(first_response_breached=True)
                    | Q(resolution_breached=True)
                    | Q(acknowledge_breached=True)
                    | Q(next_response_breached=True)
                ),
            ),
            0,
        ),
    )
    row = _compliance_row("", aggregate)
    return {
        "tickets": _tickets(filters).count(),
        "compliance": row,
        "breached_open": aggregate["breached_open"],
    }
