"""The reports' tables as CSV, with cells a spreadsheet would run as formulas neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.utils.translation import gettext as _

from tessera.reports.queries import DIMENSIONS, Filters, compliance, times, volume

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe (OWASP advice)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow(["" if v is None else safe_cell(v) for v in row])
    return out.getvalue()


def compliance_csv(filters: Filters) -> str:
    header = [
        _("Grouped by"),
        _("Group"),
        _("First responses met"),
        _("First responses due"),
        _("Resolutions met"),
        _("Resolutions due"),
        _("Acknowledgements met"),
        _("Acknowledgements due"),
        _("Next responses met"),
        _("Next responses due"),
        _("% met"),
    ]
    labels = {
        "priority": _("Priority"),
        "department": _("Department"),
        "agent": _("Agent"),
        "month": _("Month"),
    }
    rows = [
        [
            labels[d],
            r.label,
            r.first_response_met,
            r.first_response_total,
            r.resolution_met,
            r.resolution_total,
            r.acknowledge_met,
            r.acknowledge_total,
            r.next_response_met,
            r.next_response_total,
            r.percent,
        ]
        for d in DIMENSIONS
        for r in compliance(filters, d)
    ]
    return to_csv(header, rows)


def times_csv(filters: Filters) -> str:
    header = [
        _("Grouped by"),
        _("Group"),
        _("First responses"),
        _("Median first response (business hours)"),
        _("P90 first response (business hours)"),
        _("Resolutions"),
        _("Median resolution (business hours)"),
        _("P90 resolution (business hours)"),
        _("Acknowledgements"),
        _("Median acknowledgement (business hours)"),
        _("P90 acknowledgement (business hours)"),
    ]
    labels = {"priority": _("Priority"), "department": _("Department")}
    rows = [
        [
            labels[d],
            r.label,
            r.first_response_count,
            r.first_response_median,
            r.first_response_p90,
            r.resolution_count,
            r.resolution_median,
            r.resolution_p90,
            r.acknowledge_count,
            r.acknowledge_median,
            r.acknowledge_p90,
        ]
        for d in ("priority", "department")
        for r in times(filters, d)
    ]
    return to_csv(header, rows)


def volume_csv(filters: Filters) -> str:
    data = volume(filters)
    header = [_("Period"), *[label for _value, label in data.channels], _("Total")]
    return to_csv(header, [[p.isoformat(), *counts, total] for p, counts, total in data.table])
