"""Business-time arithmetic for SLA clocks.

SLA targets are expressed in *business* time ("8 business hours"), so a due date depends on
opening hours, public holidays, one-off closures and the ticket's own pauses.  This module is
pure Python (no Django) so it can be property-tested in isolation and reused by workers.

Model
-----
* A :class:`Calendar` describes weekly opening hours in **local wall time** of an IANA zone,
  public holidays (``holidays`` package), custom closed dates and one-off extra openings.
* An opening interval belongs to the local date on which it *starts*.  ``end <= start`` means it
  ends on the next day (a night shift ``22:00 -> 06:00``); ``time(0)`` as an end therefore means
  24:00, and ``00:00 -> 00:00`` is the whole day.  Any other ``start == end`` is rejected.
* A closed date (holiday or custom) drops the weekly intervals that *start* that day, including
  their after-midnight tail.  Extra openings always apply, even on closed dates: they exist to
  open exceptionally.
* Wall times map to instants with one monotone rule, used for starts and ends alike so that
  consecutive intervals join seamlessly: an ambiguous time (repeated hour after a fall-back)
  means its first occurrence (``fold=0``); a nonexistent time (skipped hour of a spring-forward)
  means the transition instant, i.e. the first instant at which the wall clock has passed it.
  Real elapsed time is what counts, so ``00:00-24:00`` lasts 23 or 25 hours on DST days.

Arithmetic is exact: every instant and duration is an integer number of microseconds (the
resolution of :class:`datetime`), so adding then measuring round-trips with no float drift.
Open intervals are generated per local date, merged into a sorted UTC timeline with prefix
sums of open time, and queried with :mod:`bisect`: both adding and measuring are O(log n).
"""

from __future__ import annotations

import math
import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import InitVar, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import accumulate
from operator import sub
from typing import Any, Final, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = [
    "MAX_CLOSED_DATES",
    "MAX_EXTRA_OPENINGS",
    "MAX_INTERVALS_PER_DAY",
    "SEARCH_HORIZON",
    "Calendar",
    "Interval",
    "Pause",
    "add_business_minutes",
    "add_business_time",
    "business_minutes_between",
    "business_time_between",
    "is_open",
    "next_open",
]

type Interval = tuple[time, time]
"""A local opening interval; ``end <= start`` means it ends the next day."""

type Pause = tuple[datetime, datetime | None]
"""A span during which a ticket's clock is stopped; ``None`` as end means "still paused"."""

SEARCH_HORIZON: Final = timedelta(days=1827)
"""How far (five years) a search or measurement may reach before it is refused.

With :data:`MAX_INTERVALS_PER_DAY` it bounds the work of any one request: the worst valid one
(a calendar of the most intervals every day, asked for more business time than it offers in five
years) builds at most 1,827 x 12 intervals. ``bench/sla_calendar_bench.py --worst`` measures it."""

MAX_INTERVALS_PER_DAY: Final = 12
"""Opening intervals per weekday, and extra openings per date (split shifts need two or three)."""
MAX_EXTRA_OPENINGS: Final = 1000
MAX_CLOSED_DATES: Final = 5000
SUSPICIOUS_OVERNIGHT: Final = timedelta(hours=12)
"""An interval that crosses midnight and lasts longer than this probably has its bounds reversed."""

WEEKDAY_NAMES: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_US: Final = timedelta(microseconds=1)
_US_PER_DAY: Final = 86_400_000_000
_US_PER_MINUTE: Final = 60_000_000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_DAY: Final = timedelta(days=1)
_HORIZON_US: Final = SEARCH_HORIZON // _US
# Supported instants; keeps ten-year searches and zone conversions far from datetime's limits.
_MIN_US: Final = (datetime(1900, 1, 1, tzinfo=UTC) - _EPOCH) // _US
_MAX_US: Final = (datetime(2999, 12, 31, tzinfo=UTC) - _EPOCH) // _US
# A timeline that would have to span more than this many days is rebuilt around the request
# instead of grown, bounding memory when callers jump between distant eras.
_MAX_TIMELINE_DAYS: Final = 3 * SEARCH_HORIZON.days
_CLOCK_RE: Final = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")


# --------------------------------------------------------------------------- calendar model


class WeeklyHours(Mapping[int, tuple[Interval, ...]]):
    """Immutable, hashable weekday -> intervals mapping (Monday is 0, like ``date.weekday()``).

    A plain dict would make the frozen :class:`Calendar` unhashable and mutable from outside.
    """

    __slots__ = ("_days",)

    def __init__(self, days: Mapping[int, Iterable[Interval]]) -> None:
        if not isinstance(days, Mapping):
            raise ValueError("weekly must be a mapping of weekday (0=Monday .. 6=Sunday) to intervals")
        per_day: list[tuple[Interval, ...]] = [() for _ in range(7)]
        for key, intervals in days.items():
            if isinstance(key, bool) or not isinstance(key, int) or not 0 <= key <= 6:
                raise ValueError(f"weekday must be an int 0 (Monday) .. 6 (Sunday), got {key!r}")
            checked = tuple(_check_interval(iv, f"weekday {key}") for iv in intervals)
            if len(checked) > MAX_INTERVALS_PER_DAY:
                raise ValueError(
                    f"weekday {key}: at most {MAX_INTERVALS_PER_DAY} intervals a day, got {len(checked)}"
                )
            per_day[key] = tuple(sorted(checked))
        self._days: tuple[tuple[Interval, ...], ...] = tuple(per_day)

    def __getitem__(self, weekday: int) -> tuple[Interval, ...]:
        if isinstance(weekday, int) and 0 <= weekday <= 6 and self._days[weekday]:
            return self._days[weekday]
        raise KeyError(weekday)

    def __iter__(self) -> Iterator[int]:
        return (day for day in range(7) if self._days[day])

    def __len__(self) -> int:
        return sum(1 for intervals in self._days if intervals)

    def __hash__(self) -> int:
        return hash(self._days)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, WeeklyHours):
            return self._days == other._days
        if isinstance(other, Mapping):  # compare like a dict, as Mapping itself would
            return dict(self.items()) == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        return f"WeeklyHours({dict(self.items())!r})"


@dataclass(frozen=True)
class Calendar:
    """Opening hours, holidays and exceptions of a support team, in its local time zone.

    Built from plain data and hashable, so equal calendars share one precomputed timeline.
    """

    tz: str
    weekly: Mapping[int, Sequence[Interval]]
    holiday_country: str | None = None
    holiday_subdiv: str | None = None
    closed_dates: frozenset[date] = frozenset()
    extra_openings: tuple[tuple[date, time, time], ...] = ()
    _timeline: _Timeline = field(init=False, repr=False, compare=False)
    shared: InitVar[bool] = True
    """Share the computed timeline with equal calendars (stored ones); a one-off draft (a preview)
    keeps its own, freed with it, so drafts cannot fill the process's memory."""

    def __post_init__(self, shared: bool) -> None:
        if not isinstance(self.tz, str) or not self.tz:
            raise ValueError(f"tz must be an IANA time zone name, got {self.tz!r}")
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.tz!r}") from exc
        weekly = self.weekly if isinstance(self.weekly, WeeklyHours) else WeeklyHours(self.weekly)
        object.__setattr__(self, "weekly", weekly)

        if self.holiday_country is None:
            if self.holiday_subdiv is not None:
                raise ValueError("holiday_subdiv needs holiday_country")
        else:
            _holiday_lookup(self.holiday_country, self.holiday_subdiv)  # validates both codes

        closed = frozenset(self.closed_dates)
        if len(closed) > MAX_CLOSED_DATES:
            raise ValueError(f"at most {MAX_CLOSED_DATES} closed dates, got {len(closed)}")
        for day in closed:
            _check_date(day, "closed date")
        object.__setattr__(self, "closed_dates", closed)

        if len(self.extra_openings) > MAX_EXTRA_OPENINGS:
            raise ValueError(f"at most {MAX_EXTRA_OPENINGS} extra openings, got {len(self.extra_openings)}")
        extras: list[tuple[date, time, time]] = []
        for item in self.extra_openings:
            if not isinstance(item, tuple) or len(item) != 3:
                raise ValueError(f"extra opening must be a (date, start, end) tuple, got {item!r}")
            day, start, end = item
            _check_date(day, "extra opening date")
            _check_interval((start, end), f"extra opening on {day}")
            extras.append((day, start, end))
        object.__setattr__(self, "extra_openings", tuple(sorted(extras)))
        per_date: dict[date, int] = {}
        for day, _start, _end in extras:
            per_date[day] = per_date.get(day, 0) + 1
            if per_date[day] > MAX_INTERVALS_PER_DAY:
                raise ValueError(f"extra openings on {day}: at most {MAX_INTERVALS_PER_DAY} a day")

        if not weekly and not extras:
            raise ValueError("calendar has no opening hours at all; business time could never elapse")
        object.__setattr__(self, "_timeline", _shared_timeline(self) if shared else _Timeline(self))

    def __reduce__(self) -> tuple[type[Calendar], tuple[Any, ...]]:
        """Pickle/copy the plain data only; the cached timeline (with its lock) is rebuilt."""
        return (
            type(self),
            (
                self.tz,
                self.weekly,
                self.holiday_country,
                self.holiday_subdiv,
                self.closed_dates,
                self.extra_openings,
            ),
        )

    @classmethod
    def always_open(cls, tz: str = "UTC") -> Self:
        """A 24/7 calendar: every day 00:00-24:00, no holidays (real elapsed time)."""
        return cls(tz=tz, weekly={day: ((time(0), time(0)),) for day in range(7)})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, shared: bool = True) -> Self:
        """Build from the JSON shape produced by :meth:`to_dict`, raising ValueError if invalid.

        Weekday keys may be names (``"mon"``) or numbers (``0``/``"0"``); times are ``"HH:MM"``
        (``":SS"`` optional) and ``"24:00"`` is accepted as an end. ``shared=False``: see
        :attr:`shared`.
        """
        if not isinstance(data, Mapping):
            raise ValueError("calendar data must be a JSON object")
        known = {"tz", "weekly", "holiday_country", "holiday_subdiv", "closed_dates", "extra_openings"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown calendar field(s): {', '.join(sorted(map(str, unknown)))}")
        if "tz" not in data:
            raise ValueError("calendar needs 'tz'")
        raw_weekly = data.get("weekly", {})
        if not isinstance(raw_weekly, Mapping):
            raise ValueError("'weekly' must be an object of weekday -> [[start, end], ...]")
        weekly: dict[int, tuple[Interval, ...]] = {}
        for key, intervals in raw_weekly.items():
            day = _parse_weekday(key)
            if day in weekly:
                raise ValueError(f"weekday {key!r} given twice")
            if not isinstance(intervals, list | tuple):
                raise ValueError(f"intervals for {key!r} must be a list of [start, end] pairs")
            if len(intervals) > MAX_INTERVALS_PER_DAY:  # before parsing them all
                raise ValueError(
                    f"{key!r}: at most {MAX_INTERVALS_PER_DAY} intervals a day, got {len(intervals)}"
                )
            weekly[day] = tuple(_parse_pair(pair, f"weekday {key!r}") for pair in intervals)

        raw_closed = data.get("closed_dates", [])
        if not isinstance(raw_closed, list | tuple):
            raise ValueError("'closed_dates' must be a list of ISO dates")
        if len(raw_closed) > MAX_CLOSED_DATES:
            raise ValueError(f"at most {MAX_CLOSED_DATES} closed dates, got {len(raw_closed)}")
        closed = frozenset(_parse_date(value) for value in raw_closed)

        raw_extras = data.get("extra_openings", [])
        if not isinstance(raw_extras, list | tuple):
            raise ValueError("'extra_openings' must be a list of {date, start, end} objects")
        if len(raw_extras) > MAX_EXTRA_OPENINGS:
            raise ValueError(f"at most {MAX_EXTRA_OPENINGS} extra openings, got {len(raw_extras)}")
        extras: list[tuple[date, time, time]] = []
        for item in raw_extras:
            if not isinstance(item, Mapping) or set(item) != {"date", "start", "end"}:
                raise ValueError(f"extra opening must be an object with date, start, end: {item!r}")
            start, end = _parse_pair([item["start"], item["end"]], f"extra opening {item['date']!r}")
            extras.append((_parse_date(item["date"]), start, end))

        for key in ("holiday_country", "holiday_subdiv"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise ValueError(f"{key!r} must be a string or null")
        return cls(
            tz=data["tz"],
            weekly=weekly,
            holiday_country=data.get("holiday_country"),
            holiday_subdiv=data.get("holiday_subdiv"),
            closed_dates=closed,
            extra_openings=tuple(extras),
            shared=shared,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plain data; ``from_dict(to_dict())`` gives an equal calendar."""
        return {
            "tz": self.tz,
            "weekly": {
                WEEKDAY_NAMES[day]: [
                    [_format_clock(s, end=False), _format_clock(e, end=True)] for s, e in ivs
                ]
                for day, ivs in self.weekly.items()
            },
            "holiday_country": self.holiday_country,
            "holiday_subdiv": self.holiday_subdiv,
            "closed_dates": sorted(day.isoformat() for day in self.closed_dates),
            "extra_openings": [
                {
                    "date": day.isoformat(),
                    "start": _format_clock(s, end=False),
                    "end": _format_clock(e, end=True),
                }
                for day, s, e in self.extra_openings
            ],
        }


def reversed_looking(calendar: Calendar) -> list[tuple[str, time, time]]:
    """Intervals that cross midnight and last more than 12 hours, as (weekday name or ISO date,
    start, end): "18:00-09:00" is valid (a night shift until 09:00 the next day), but far more often
    "09:00-18:00" typed the wrong way round. Callers warn; the calendar stays valid."""
    found: list[tuple[str, time, time]] = []
    spans = [(WEEKDAY_NAMES[day], s, e) for day, ivs in calendar.weekly.items() for s, e in ivs]
    spans += [(day.isoformat(), s, e) for day, s, e in calendar.extra_openings]
    for where, start, end in spans:
        s, e = _offsets(start, end)
        if end != time(0) and end < start and timedelta(microseconds=e - s) > SUSPICIOUS_OVERNIGHT:
            found.append((where, start, end))
    return found


def _check_interval(interval: object, where: str) -> Interval:
    if not isinstance(interval, tuple | list) or len(interval) != 2:
        raise ValueError(f"{where}: interval must be a (start, end) pair, got {interval!r}")
    start, end = interval
    for value in (start, end):
        if not isinstance(value, time):
            raise ValueError(f"{where}: interval bounds must be datetime.time, got {value!r}")
        if value.tzinfo is not None:
            raise ValueError(f"{where}: interval bounds are local wall times and must be naive")
    if start == end and start != time(0):
        raise ValueError(f"{where}: start equals end ({start.isoformat()}); use 00:00-24:00 for a whole day")
    return (start, end)


def _check_date(value: object, what: str) -> None:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValueError(f"{what} must be a datetime.date, got {value!r}")


def _parse_weekday(key: object) -> int:
    if isinstance(key, str) and key.strip().lower() in WEEKDAY_NAMES:
        return WEEKDAY_NAMES.index(key.strip().lower())
    if isinstance(key, str) and re.fullmatch(r"[0-9]{1,3}", key):  # ASCII: isdigit() also takes "²"
        key = int(key)
    if isinstance(key, int) and not isinstance(key, bool) and 0 <= key <= 6:
        return key
    raise ValueError(f"unknown weekday {key!r}; use mon..sun or 0 (Monday)..6 (Sunday)")


def _parse_pair(pair: object, where: str) -> Interval:
    if not isinstance(pair, list | tuple) or len(pair) != 2:
        raise ValueError(f"{where}: interval must be a [start, end] pair, got {pair!r}")
    return _check_interval((_parse_clock(pair[0], end=False), _parse_clock(pair[1], end=True)), where)


def _parse_clock(value: object, *, end: bool) -> time:
    match = _CLOCK_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"time must be 'HH:MM', got {value!r}")
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if (hour, minute, second) == (24, 0, 0):
        if not end:
            raise ValueError("24:00 is only valid as the end of an interval")
        return time(0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"time out of range: {value!r}")
    return time(hour, minute, second)


def _format_clock(value: time, *, end: bool) -> str:
    if end and value == time(0):
        return "24:00"
    text = value.isoformat(timespec="seconds")
    return text[:5] if text.endswith(":00") else text


def _parse_date(value: object) -> date:
    if not isinstance(value, str):
        raise ValueError(f"date must be an ISO 'YYYY-MM-DD' string, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"invalid date {value!r}") from exc


def _holiday_lookup(country: str, subdiv: str | None) -> holidays.HolidayBase:
    if not isinstance(country, str) or (subdiv is not None and not isinstance(subdiv, str)):
        raise ValueError("holiday_country and holiday_subdiv must be strings")
    try:
        return holidays.country_holidays(country, subdiv=subdiv)
    except NotImplementedError as exc:  # the package's signal for unknown country/subdivision
        raise ValueError(f"unknown holiday country/subdivision {country!r}/{subdiv!r}: {exc}") from exc


# --------------------------------------------------------------------------- timeline


def _clock_us(value: time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond


def _offsets(start: time, end: time) -> tuple[int, int]:
    """Microsecond offsets from local midnight; an end at or before the start is the next day."""
    s, e = _clock_us(start), _clock_us(end)
    return (s, e + _US_PER_DAY if e <= s else e)


@dataclass(frozen=True, slots=True)
class _State:
    """One immutable snapshot of the merged UTC timeline for local dates [lo, hi).

    Results are trusted only for instants in [safe_lo, safe_hi): earlier intervals (from dates
    before ``lo``) can reach at most to midnight of ``lo + 1``, and later ones start at or after
    midnight of ``hi``.  Cumulative values share an arbitrary origin, so only differences taken
    within one snapshot are meaningful.
    """

    lo: date
    hi: date
    safe_lo: int
    safe_hi: int
    starts: list[int]
    ends: list[int]
    cum_starts: list[int]  # open microseconds before starts[i]
    cum_ends: list[int]  # open microseconds up to ends[i]

    def covers(self, lo_us: int, hi_us: int) -> bool:
        return self.safe_lo <= lo_us and hi_us < self.safe_hi

    def cum(self, us: int) -> int:
        """Open microseconds from the origin up to ``us``."""
        i = bisect_right(self.starts, us) - 1
        if i < 0:
            return 0
        return self.cum_starts[i] + min(us, self.ends[i]) - self.starts[i]


class _Timeline:
    """Lazily grown, thread-safe cache of a calendar's open intervals as UTC microseconds."""

    def __init__(self, calendar: Calendar) -> None:
        self._zone = ZoneInfo(calendar.tz)
        self._weekly = tuple(
            tuple(_offsets(s, e) for s, e in calendar.weekly.get(day, ())) for day in range(7)
        )
        extras: dict[date, list[tuple[int, int]]] = {}
        for day, s, e in calendar.extra_openings:
            extras.setdefault(day, []).append(_offsets(s, e))
        self._extras = extras
        self._closed = calendar.closed_dates
        self._holidays = (
            None
            if calendar.holiday_country is None
            else _holiday_lookup(calendar.holiday_country, calendar.holiday_subdiv)
        )
        self._days: dict[date, tuple[tuple[int, int], ...]] = {}
        self._lock = threading.Lock()
        self.state: _State | None = None

    def local_date(self, us: int) -> date:
        return (_EPOCH + timedelta(microseconds=us)).astimezone(self._zone).date()

    def wall_to_us(self, wall: datetime) -> int:
        """Map a naive local wall time to an instant (see module docstring for the DST rule)."""
        first = (wall.replace(tzinfo=self._zone) - _EPOCH) // _US  # fold=0: first occurrence
        if self._wall(first) == wall:
            return first
        # Nonexistent (spring-forward gap): fold=0 and fold=1 bracket the transition; find the
        # first instant whose wall clock has reached ``wall``, i.e. the transition itself.
        other = (wall.replace(tzinfo=self._zone, fold=1) - _EPOCH) // _US
        lo, hi = min(first, other), max(first, other)
        if self._wall(hi) < wall:  # not a simple gap; fall back to the fold=0 reading
            return first
        while lo < hi:
            mid = (lo + hi) // 2
            if self._wall(mid) >= wall:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def _wall(self, us: int) -> datetime:
        return (_EPOCH + timedelta(microseconds=us)).astimezone(self._zone).replace(tzinfo=None)

    def _day(self, day: date) -> tuple[tuple[int, int], ...]:
        cached = self._days.get(day)
        if cached is not None:
            return cached
        offsets: list[tuple[int, int]] = []
        if day not in self._closed and (self._holidays is None or day not in self._holidays):
            offsets.extend(self._weekly[day.weekday()])
        offsets.extend(self._extras.get(day, ()))
        midnight = datetime.combine(day, time(0))
        base = self.wall_to_us(midnight)
        result: list[tuple[int, int]]
        if self._same_offset(base, midnight):
            # No clock change within the two days an interval of this date can reach: wall time is
            # UTC plus one fixed offset, so each bound is an addition (the common case, ~100x faster).
            result = [(base + s, base + e) for s, e in offsets]
        else:
            result = []
            for s, e in offsets:
                start = self.wall_to_us(midnight + timedelta(microseconds=s))
                end = self.wall_to_us(midnight + timedelta(microseconds=e))
                if end > start:  # an interval entirely inside a DST gap has no real duration
                    result.append((start, end))
        self._days[day] = built = tuple(result)
        return built

    def _same_offset(self, base: int, midnight: datetime) -> bool:
        """Whether the zone's UTC offset is the same at local midnight, the next midnight and the
        one after: no zone changes its offset twice within two days, so then it did not change."""
        if self._wall(base) != midnight:
            return False
        for days in (1, 2):
            later = midnight + timedelta(days=days)
            if self._wall(base + days * _US_PER_DAY) != later:
                return False
        return True

    def ensure(self, lo_us: int, hi_us: int, until: int | None = None) -> _State:
        """Return a snapshot trusted for [lo_us, hi_us], growing the timeline if needed; a search
        that gives up at `until` never has it grown past that instant."""
        state = self.state
        if state is not None and state.covers(lo_us, hi_us):
            return state
        with self._lock:
            state = self.state
            if state is not None and state.covers(lo_us, hi_us):
                return state
            need_lo = self.local_date(lo_us) - 2 * _ONE_DAY
            need_hi = self.local_date(hi_us) + 2 * _ONE_DAY
            if state is None:
                # A year ahead serves the usual run of due times; a long span gets no year on top.
                lo, hi = need_lo - 7 * _ONE_DAY, max(need_hi + 7 * _ONE_DAY, need_lo + 366 * _ONE_DAY)
            else:
                grow = max(state.hi - state.lo, 366 * _ONE_DAY)  # doubling keeps growth amortised
                lo = min(state.lo, need_lo) if need_lo >= state.lo else min(need_lo, state.lo - grow)
                hi = max(state.hi, need_hi) if need_hi <= state.hi else max(need_hi, state.hi + grow)
                if until is not None:
                    hi = min(hi, max(need_hi, self.local_date(until) + 2 * _ONE_DAY))
                if (hi - lo).days > _MAX_TIMELINE_DAYS:
                    lo, hi = need_lo - 7 * _ONE_DAY, need_hi + 366 * _ONE_DAY
                    self._days.clear()
            if state is not None and lo == state.lo and hi > state.hi:
                self.state = state = self._extend(state, hi)  # the usual growth: later dates only
            else:
                self.state = state = self._build(lo, hi)
            return state

    def _raw(self, lo: date, hi: date) -> list[tuple[int, int]]:
        raw: list[tuple[int, int]] = []
        day = lo
        while day < hi:
            raw.extend(self._day(day))
            day += _ONE_DAY
        raw.sort()
        return raw

    def _build(self, lo: date, hi: date) -> _State:
        starts, ends = _merge(self._raw(lo, hi))
        cum_ends = list(accumulate(map(sub, ends, starts)))
        return self._state(lo, hi, starts, ends, [0, *cum_ends[:-1]] if cum_ends else [], cum_ends)

    def _extend(self, state: _State, hi: date) -> _State:
        """`state` plus the dates [state.hi, hi), without rebuilding what it has: the new dates'
        intervals all start after the old ones (each starts within its own date), and only the old
        last stretch can reach into them (a night shift), so it is merged again with them."""
        raw = self._raw(state.hi, hi)
        if not state.starts:
            return self._build(state.lo, hi)
        starts, ends = _merge([(state.starts[-1], state.ends[-1]), *raw])
        base = state.cum_starts[-1]
        cum_ends = list(accumulate(map(sub, ends, starts), initial=base))[1:]
        return self._state(
            state.lo,
            hi,
            state.starts[:-1] + starts,
            state.ends[:-1] + ends,
            [*state.cum_starts[:-1], base, *cum_ends[:-1]],
            state.cum_ends[:-1] + cum_ends,
        )

    def _state(
        self,
        lo: date,
        hi: date,
        starts: list[int],
        ends: list[int],
        cum_starts: list[int],
        cum_ends: list[int],
    ) -> _State:
        return _State(
            lo=lo,
            hi=hi,
            safe_lo=self.wall_to_us(datetime.combine(lo + _ONE_DAY, time(0))),
            safe_hi=self.wall_to_us(datetime.combine(hi, time(0))),
            starts=starts,
            ends=ends,
            cum_starts=cum_starts,
            cum_ends=cum_ends,
        )

    # -- queries (each takes one snapshot so cumulative values stay comparable)

    def open_between(self, a: int, b: int) -> int:
        """Open microseconds in [a, b] for a <= b."""
        if b - a > _HORIZON_US:
            raise ValueError(f"span exceeds the {SEARCH_HORIZON.days}-day horizon")
        state = self.ensure(a, b)
        return state.cum(b) - state.cum(a)

    def add_open(self, start: int, amount: int) -> int:
        """Earliest instant at which ``amount`` > 0 open microseconds have elapsed since ``start``."""
        limit = start + _HORIZON_US
        hi = start
        while True:
            state = self.ensure(start, hi, until=limit)
            target = state.cum(start) + amount
            j = bisect_left(state.cum_ends, target)
            if j < len(state.starts):
                found = state.starts[j] + target - state.cum_starts[j]
                if found < state.safe_hi and found <= limit:
                    return found
            if state.safe_hi > limit:
                raise ValueError(
                    f"no {amount / _US_PER_MINUTE:g} business minutes within {SEARCH_HORIZON.days} days "
                    f"of {_to_datetime(start).isoformat()}"
                )
            hi = state.safe_hi  # forces the next ensure() to grow the timeline

    def next_open(self, start: int) -> int:
        limit = start + _HORIZON_US
        hi = start
        while True:
            state = self.ensure(start, hi, until=limit)
            i = bisect_right(state.starts, start) - 1
            if i >= 0 and start < state.ends[i]:
                return start
            if i + 1 < len(state.starts):
                return state.starts[i + 1]
            if state.safe_hi > limit:
                raise ValueError(
                    f"calendar never opens within {SEARCH_HORIZON.days} days of "
                    f"{_to_datetime(start).isoformat()}"
                )
            hi = state.safe_hi

    def is_open(self, instant: int) -> bool:
        state = self.ensure(instant, instant)
        i = bisect_right(state.starts, instant) - 1
        return i >= 0 and instant < state.ends[i]


def _merge(raw: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Sorted intervals merged into open stretches (overlapping or touching ones join), with list
    comprehensions and itertools (C loops): a preview may build years of a dense calendar."""
    if not raw:
        return [], []
    raw_starts = [s for s, _e in raw]
    reach = list(accumulate((e for _s, e in raw), max))  # the latest end so far
    begins = [0, *(i for i in range(1, len(raw)) if raw_starts[i] > reach[i - 1])]
    return [raw_starts[i] for i in begins], [reach[i - 1] for i in begins[1:]] + reach[-1:]


@lru_cache(maxsize=256)
def _shared_timeline(calendar: Calendar) -> _Timeline:
    """One timeline per distinct calendar, so calendars rebuilt per request reuse the work."""
    return _Timeline(calendar)


# --------------------------------------------------------------------------- public functions


def _to_us(instant: datetime, what: str = "instant") -> int:
    try:
        us: int = (instant - _EPOCH) // _US  # hot path: aware datetimes subtract directly
    except TypeError:
        if isinstance(instant, datetime):  # naive (or a tzinfo without offset)
            raise ValueError(f"{what} must be timezone-aware, got naive {instant.isoformat()}") from None
        raise TypeError(f"{what} must be a datetime, got {type(instant).__name__}") from None
    if not _MIN_US <= us <= _MAX_US:
        raise ValueError(f"{what} {instant.isoformat()} is outside the supported years 1900-2999")
    return us


def _to_datetime(us: int) -> datetime:
    return _EPOCH + timedelta(0, 0, us)  # positional arguments: measurably faster on the hot path


def _minutes_to_us(minutes: float) -> int:
    if isinstance(minutes, bool):  # an int to Python, but never a number of minutes
        raise ValueError(f"minutes must be a number, got {minutes!r}")
    if isinstance(minutes, int):
        amount = minutes * _US_PER_MINUTE
    elif isinstance(minutes, float) and math.isfinite(minutes):
        amount = round(minutes * _US_PER_MINUTE)  # nearest microsecond
    else:
        raise ValueError(f"minutes must be a finite number, got {minutes!r}")
    if amount < 0:
        raise ValueError(f"minutes must not be negative, got {minutes!r}")
    return amount


def _merge_pauses(pauses: Sequence[Pause]) -> list[tuple[int, int | None]]:
    """Validate pauses and merge them into sorted, disjoint spans (``None`` = open-ended)."""
    spans: list[tuple[int, int | None]] = []
    for pause in pauses:
        if not isinstance(pause, tuple | list) or len(pause) != 2:
            raise ValueError(f"pause must be a (start, end-or-None) pair, got {pause!r}")
        ps = _to_us(pause[0], "pause start")
        pe = None if pause[1] is None else _to_us(pause[1], "pause end")
        if pe is not None and pe < ps:
            raise ValueError(f"pause ends before it starts: {pause[0].isoformat()} > {pause[1]}")
        if pe != ps:
            spans.append((ps, pe))
    spans.sort(key=lambda span: span[0])
    merged: list[tuple[int, int | None]] = []
    for ps, pe in spans:
        if merged:
            last_s, last_e = merged[-1]
            if last_e is None:
                break  # everything after an open-ended pause is paused anyway
            if ps <= last_e:
                merged[-1] = (last_s, None if pe is None else max(last_e, pe))
                continue
        merged.append((ps, pe))
    return merged


def _add(calendar: Calendar, start: datetime, amount: int, pauses: Sequence[Pause]) -> datetime | None:
    position = _to_us(start, "start")
    if amount == 0:
        # Nothing to consume, so the clock has not moved, even from a closed or paused instant;
        # this keeps business_time_between(start, result) == 0.
        return start.astimezone(UTC)
    timeline = calendar._timeline
    if pauses:
        for ps, pe in _merge_pauses(pauses):
            if pe is not None and pe <= position:
                continue
            if ps - position > _HORIZON_US:
                break  # too far to matter: add_open() finds the target before it or gives up
            if ps > position:
                available = timeline.open_between(position, ps)
                if available >= amount:
                    break
                amount -= available
            if pe is None:
                return None  # paused until further notice: there is no due instant yet
            position = pe
    return _to_datetime(timeline.add_open(position, amount))


def add_business_minutes(
    calendar: Calendar, start: datetime, minutes: float, pauses: Sequence[Pause] = ()
) -> datetime | None:
    """Instant (aware UTC) at which ``minutes`` business minutes have elapsed since ``start``.

    Time outside opening hours and inside ``pauses`` does not count.  The result is the
    *earliest* such instant, so a target reached at closing time is due at closing time, not
    at the next opening.  Adding 0 returns ``start`` unchanged (in UTC) even when closed.
    Returns ``None`` when an open-ended pause (end ``None``) stops the clock before the target.
    ``minutes`` is rounded to the nearest microsecond; negative values raise ValueError, as
    does a target beyond :data:`SEARCH_HORIZON`.
    """
    return _add(calendar, start, _minutes_to_us(minutes), pauses)


def add_business_time(
    calendar: Calendar, start: datetime, duration: timedelta, pauses: Sequence[Pause] = ()
) -> datetime | None:
    """Exact :class:`timedelta` variant of :func:`add_business_minutes`."""
    if not isinstance(duration, timedelta) or duration < timedelta(0):
        raise ValueError(f"duration must be a non-negative timedelta, got {duration!r}")
    return _add(calendar, start, duration // _US, pauses)


def business_time_between(
    calendar: Calendar, start: datetime, end: datetime, pauses: Sequence[Pause] = ()
) -> timedelta:
    """Exact business time between two instants, excluding closed and paused time.

    Antisymmetric: if ``end`` precedes ``start`` the result is negative (useful for "overdue by").
    Spans longer than :data:`SEARCH_HORIZON` raise ValueError.
    """
    a, b = _to_us(start, "start"), _to_us(end, "end")
    sign = 1
    if b < a:
        a, b, sign = b, a, -1
    timeline = calendar._timeline
    total = timeline.open_between(a, b)
    for ps, pe in _merge_pauses(pauses) if pauses else ():
        lo, hi = max(ps, a), b if pe is None else min(pe, b)
        if lo < hi:
            total -= timeline.open_between(lo, hi)
    return timedelta(microseconds=sign * total)


def business_minutes_between(
    calendar: Calendar, start: datetime, end: datetime, pauses: Sequence[Pause] = ()
) -> float:
    """Business minutes between two instants; see :func:`business_time_between`.

    Computed exactly in microseconds and divided once, so a whole number of minutes added by
    :func:`add_business_minutes` measures back as exactly that number.
    """
    return business_time_between(calendar, start, end, pauses) / timedelta(minutes=1)


def is_open(calendar: Calendar, instant: datetime) -> bool:
    """Whether the calendar is open at ``instant`` (intervals are half-open: [start, end))."""
    return calendar._timeline.is_open(_to_us(instant))


def next_open(calendar: Calendar, instant: datetime) -> datetime:
    """Earliest instant >= ``instant`` (aware UTC) at which the calendar is open."""
    return _to_datetime(calendar._timeline.next_open(_to_us(instant)))
