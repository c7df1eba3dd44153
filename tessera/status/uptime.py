"""The 90-day uptime bar: per local day, the worst state a component was in and the share of time it was up,
computed from its state history (pure functions; the SVG is drawn by the template)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tessera.status.models import STATE_SEVERITY, ComponentState

DAYS = 90
# Partial and major outages count as down time; degraded performance and maintenance count as up (the
# service answers, or the window was announced).
DOWN_STATES = {ComponentState.PARTIAL_OUTAGE, ComponentState.MAJOR_OUTAGE}


@dataclass(frozen=True)
class Day:
    day: date
    worst: str | None  # None: no data (the component did not exist yet)
    down_seconds: float
    known_seconds: float

    @property
    def uptime(self) -> float | None:
        if not self.known_seconds:
            return None
        return 1 - self.down_seconds / self.known_seconds

    @property
    def uptime_pct(self) -> float | None:
        value = self.uptime
        return None if value is None else value * 100

    @property
    def worst_label(self) -> str:
        return str(ComponentState(self.worst).label) if self.worst else ""


@dataclass(frozen=True)
class Bar:
    days: list[Day]

    @property
    def uptime(self) -> float | None:
        known = sum(d.known_seconds for d in self.days)
        if not known:
            return None
        return 1 - sum(d.down_seconds for d in self.days) / known

    @property
    def uptime_pct(self) -> float | None:
        value = self.uptime
        return None if value is None else value * 100

    @property
    def bad_days(self) -> list[Day]:
        return [d for d in self.days if d.worst not in (None, ComponentState.OPERATIONAL)]


def day_bars(changes: list[tuple[datetime, str]], *, now: datetime, zone: ZoneInfo, days: int = DAYS) -> Bar:
    """`changes` is the component's history in time order: (instant, state entered). Before the first
    change there is no data. Days are the viewer's local days, the last one being today (up to now)."""
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=days - 1)
    bounds = [datetime.combine(first_day + timedelta(days=i), time(), tzinfo=zone) for i in range(days)]
    bounds.append(now)
    # Intervals of constant state, clipped to the window.
    intervals: list[tuple[datetime, datetime, str]] = []
    for index, (start, state) in enumerate(changes):
        end = changes[index + 1][0] if index + 1 < len(changes) else now
        if end > bounds[0] and start < now:
            intervals.append((max(start, bounds[0]), min(end, now), state))
    result: list[Day] = []
    cursor = 0
    for index in range(days):
        day_start, day_end = bounds[index], bounds[index + 1]
        worst: str | None = None
        down = known = 0.0
        while cursor < len(intervals) and intervals[cursor][1] <= day_start:
            cursor += 1
        probe = cursor
        while probe < len(intervals) and intervals[probe][0] < day_end:
            start, end, state = intervals[probe]
            overlap = (min(end, day_end) - max(start, day_start)).total_seconds()
            if overlap > 0 or (start == end == day_start):
                known += max(overlap, 0)
                if state in DOWN_STATES:
                    down += max(overlap, 0)
                if (
                    worst is None
                    or STATE_SEVERITY[ComponentState(state)] > STATE_SEVERITY[ComponentState(worst)]
                ):
                    worst = state
            probe += 1
        result.append(
            Day(day=first_day + timedelta(days=index), worst=worst, down_seconds=down, known_seconds=known)
        )
    return Bar(days=result)
