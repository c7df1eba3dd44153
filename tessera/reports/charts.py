"""Chart geometry for the reports page: the template draws these bars and columns as HTML and inline SVG."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from tessera.reports.queries import ComplianceRow, Volume

PALETTE = ("#3346d3", "#0f9d76", "#d97706", "#be123c", "#7c3aed", "#0e7490")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    width: str  # CSS percentage of the track, e.g. "87.5%": written unlocalised, whatever the language
    text: str


def percent_bars(rows: list[ComplianceRow]) -> dict[str, Any]:
    """Horizontal bars of % met, one per row. Drawn in HTML rather than a scaled SVG, so the labels
    keep the page's font size on a phone instead of shrinking with the drawing."""
    bars = [
        Bar(
            label=r.label,
            value=r.percent,
            width=f"{min(max(r.percent or 0, 0), 100):.1f}%",
            text=f"{r.percent:g} %" if r.percent is not None else _("no data"),
        )
        for r in rows
    ]
    summary = "; ".join(f"{bar.label} {bar.text}" for bar in bars)
    return {"bars": bars, "summary": summary}


@dataclass(frozen=True)
class Segment:
    x: float
    y: float
    width: float
    height: float
    color: str
    title: str


def stacked_columns(data: Volume, *, width: float = 640, height: float = 200) -> dict[str, Any]:
    """Stacked columns of tickets per period, one colour per channel, scaled to the busiest period."""
    peak = max((total for _p, _c, total in data.table), default=0)
    count = max(len(data.periods), 1)
    slot = width / count
    bar = min(max(slot * 0.7, 1), 48)  # a few periods should not turn into a wall of colour
    segments: list[Segment] = []
    for index, (period, counts, _total) in enumerate(data.table):
        y = height
        for (channel_index, (_value, label)), n in zip(enumerate(data.channels), counts, strict=True):
            if not n:
                continue
            h = height * n / peak
            y -= h
            segments.append(
                Segment(
                    x=round(index * slot + (slot - bar) / 2, 1),
                    y=round(y, 1),
                    width=round(bar, 1),
                    height=round(h, 1),
                    color=PALETTE[channel_index % len(PALETTE)],
                    title=f"{period.isoformat()} · {label}: {n}",
                )
            )
    legend = [(label, PALETTE[i % len(PALETTE)]) for i, (_value, label) in enumerate(data.channels)]
    ticks = _ticks(peak)
    return {
        "segments": segments,
        "legend": legend,
        "width": width,
        "height": height,
        "peak": peak,
        "gridlines": [(t, round(height - height * t / peak, 1)) for t in ticks] if peak else [],
        # Tick labels are HTML beside the stretched drawing (text inside it would be distorted or,
        # scaled down, unreadable on a phone): their height as a CSS percentage from the bottom.
        "ticks": [(t, f"{100 * t / peak:.1f}%") for t in ticks] if peak else [],
        "first": data.periods[0] if data.periods else None,
        "last": data.periods[-1] if data.periods else None,
    }


def _ticks(peak: int) -> list[int]:
    if peak <= 0:
        return []
    step = 10 ** max(int(math.log10(peak)), 0)
    while peak / step > 5:
        step *= 2
    return list(range(step, peak + 1, step))
