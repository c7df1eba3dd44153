"""The reports page (department leads and admins) and its CSV exports."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from tessera.accounts.models import User
from tessera.core import clock
from tessera.core.errors import PermissionDenied, ValidationFailed
from tessera.reports import charts, exports, queries

EXPORTS = {
    "compliance": exports.compliance_csv,
    "times": exports.times_csv,
    "volume": exports.volume_csv,
}


def _filters(request: HttpRequest) -> tuple[User, queries.Filters | None, ValidationFailed | None]:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 - login_required ran first
    try:
        params = {k: request.GET.get(k, "") for k in ("start", "end", "department")}
        return user, queries.parse_filters(user, params, timezone.localdate(clock.now())), None
    except PermissionDenied as exc:
        raise HttpForbidden(str(exc)) from None
    except ValidationFailed as exc:
        return user, None, exc


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """The reports page; htmx requests get only the figures, for the filter form to swap in."""
    user, filters, error = _filters(request)
    context: dict[str, Any] = {
        "departments": queries.report_departments(user),
        "params": request.GET,
        "error": error,
        "query": request.GET.urlencode(),
        "start_value": request.GET.get("start", filters.start.isoformat() if filters else ""),
        "end_value": request.GET.get("end", filters.end.isoformat() if filters else ""),
    }
    if filters is not None:
        by = {d: queries.compliance(filters, d) for d in queries.DIMENSIONS}
        volume = queries.volume(filters)
        context.update(
            filters=filters,
            totals=queries.totals(filters),
            compliance=by,
            charts={d: charts.percent_bars(by[d]) for d in ("priority", "department")},
            times_priority=queries.times(filters, "priority"),
            times_department=queries.times(filters, "department"),
            volume=volume,
            volume_chart=charts.stacked_columns(volume),
        )
    template = "reports/partials/_figures.html" if request.headers.get("HX-Request") else "reports/index.html"
    return render(request, template, context, status=422 if error else 200)


@login_required
def export(request: HttpRequest, table: str) -> HttpResponse:
    """One report table as CSV, with formula-like cells neutralised."""
    if table not in EXPORTS:
        return HttpResponse(_("Unknown report."), status=404, content_type="text/plain; charset=utf-8")
    _user, filters, error = _filters(request)
    if filters is None:
        message = error.message if error else _("Invalid filters.")
        return HttpResponse(str(message), status=422, content_type="text/plain; charset=utf-8")
    response = HttpResponse(EXPORTS[table](filters), content_type="text/csv; charset=utf-8")
    name = f"sla-{table}-{filters.start.isoformat()}-{filters.end.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
