"""Tests for the pure business-time arithmetic behind SLA due dates.

Every hand-written expectation states the local wall time *and* the UTC instant, worked out by
hand in the comment next to it, so a failure points at the rule that broke.
"""

from __future__ import annotations

import copy
import json
import math
import pickle
from concurrent.futures import ThreadPoolExecutor
from dataclasses import FrozenInstanceError
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tessera.sla.calendar import (
    MAX_CLOSED_DATES,
    MAX_EXTRA_OPENINGS,
    MAX_INTERVALS_PER_DAY,
    SEARCH_HORIZON,
    Calendar,
    Pause,
    add_business_minutes,
    add_business_time,
    business_minutes_between,
    business_time_between,
    is_open,
    next_open,
    reversed_looking,
)

ROME = ZoneInfo("Europe/Rome")
WARSAW = ZoneInfo("Europe/Warsaw")
NEW_YORK = ZoneInfo("America/New_York")
US = timedelta(microseconds=1)

NINE_TO_SIX = {day: ((time(9), time(18)),) for day in range(5)}
OFFICE_IT = Calendar(tz="Europe/Rome", weekly=NINE_TO_SIX, holiday_country="IT")
OFFICE_ROME = Calendar(tz="Europe/Rome", weekly=NINE_TO_SIX)
SPLIT_ROME = Calendar(
    tz="Europe/Rome", weekly={day: ((time(9), time(13)), (time(14), time(18))) for day in range(5)}
)
FRIDAY_NIGHT = Calendar(tz="Europe/Rome", weekly={4: ((time(22), time(6)),)})
WARSAW_NIGHTS = Calendar(tz="Europe/Warsaw", weekly={day: ((time(22), time(6)),) for day in range(7)})
ALWAYS_ROME = Calendar.always_open("Europe/Rome")
ALWAYS_NY = Calendar.always_open("America/New_York")


def rome(*args: int) -> datetime:
    return datetime(*args, tzinfo=ROME)  # type: ignore[arg-type,misc]


def warsaw(*args: int) -> datetime:
    return datetime(*args, tzinfo=WARSAW)  # type: ignore[arg-type,misc]


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)  # type: ignore[arg-type,misc]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[arg-type,misc]


def local(instant: datetime | None, zone: ZoneInfo) -> str:
    """Wall time with zone abbreviation: unambiguous even inside a repeated DST hour."""
    assert instant is not None
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def add(calendar: Calendar, start: datetime, minutes: float, pauses: tuple[Pause, ...] = ()) -> datetime:
    result = add_business_minutes(calendar, start, minutes, pauses)
    assert result is not None
    assert result.tzinfo is UTC
    return result


# --------------------------------------------------------------------------- spec scenarios


def test_high_ticket_opened_friday_evening_is_due_monday_afternoon() -> None:
    # Friday 17:30-18:00 = 30 min; 450 min left = 7h30 from Monday 09:00 -> 16:30 CET (15:30 UTC).
    due = add(OFFICE_IT, rome(2026, 11, 20, 17, 30), 8 * 60)
    assert due == utc(2026, 11, 23, 15, 30)
    assert local(due, ROME) == "2026-11-23 16:30 CET"
    assert business_minutes_between(OFFICE_IT, rome(2026, 11, 20, 17, 30), due) == 480


def test_italian_christmas_holidays_are_closed() -> None:
    # Thu 24 Dec 17:30-18:00 = 30 min; 25 (Natale, Fri), 26 (Santo Stefano, Sat) and Sunday closed;
    # the other 30 min run from Mon 28 Dec 09:00 -> 09:30 CET (08:30 UTC).
    due = add(OFFICE_IT, rome(2026, 12, 24, 17, 30), 60)
    assert due == utc(2026, 12, 28, 8, 30)
    assert local(due, ROME) == "2026-12-28 09:30 CET"
    assert not is_open(OFFICE_IT, rome(2026, 12, 25, 10))
    assert is_open(OFFICE_IT, rome(2026, 12, 24, 10))
    assert next_open(OFFICE_IT, rome(2026, 12, 24, 18)) == utc(2026, 12, 28, 8)
    # Without the holiday lookup, Friday 25 Dec is an ordinary working day: due 09:30 that day.
    assert add(OFFICE_ROME, rome(2026, 12, 24, 17, 30), 60) == utc(2026, 12, 25, 8, 30)


def test_italian_weekday_holiday_is_skipped() -> None:
    # Tue 8 Dec 2026 (Immacolata): Mon 7 Dec 17:00 + 120 min = 60 on Monday + 60 from Wed 09:00.
    assert add(OFFICE_IT, rome(2026, 12, 7, 17), 120) == utc(2026, 12, 9, 9)  # 10:00 CET
    assert business_minutes_between(OFFICE_IT, rome(2026, 12, 8, 0), rome(2026, 12, 9, 0)) == 0


def test_holiday_subdivision_is_honoured() -> None:
    # Bolzano (BZ) keeps Whit Monday; 25 May 2026 is Whit Monday. National Italy works that day.
    bolzano = Calendar(tz="Europe/Rome", weekly=NINE_TO_SIX, holiday_country="IT", holiday_subdiv="BZ")
    assert not is_open(bolzano, rome(2026, 5, 25, 10))
    assert is_open(OFFICE_IT, rome(2026, 5, 25, 10))


# --------------------------------------------------------------------------- DST


def test_always_open_rome_spring_forward() -> None:
    # 01:30 CET = 00:30 UTC; one real hour later is 01:30 UTC = 03:30 CEST (02:xx never exists).
    due = add(ALWAYS_ROME, rome(2026, 3, 29, 1, 30), 60)
    assert due == utc(2026, 3, 29, 1, 30)
    assert local(due, ROME) == "2026-03-29 03:30 CEST"
    # The local day 29 March lasts 23 real hours, 25 October lasts 25.
    assert business_minutes_between(ALWAYS_ROME, rome(2026, 3, 29), rome(2026, 3, 30)) == 23 * 60
    assert business_minutes_between(ALWAYS_ROME, rome(2026, 10, 25), rome(2026, 10, 26)) == 25 * 60


def test_always_open_rome_fall_back() -> None:
    # 01:30 CEST = 23:30 UTC on the 24th; +2h = 01:30 UTC = 02:30 CET, the *second* 02:30.
    due = add(ALWAYS_ROME, rome(2026, 10, 25, 1, 30), 120)
    assert due == utc(2026, 10, 25, 1, 30)
    assert local(due, ROME) == "2026-10-25 02:30 CET"


def test_office_hours_keep_nine_hours_across_rome_dst_weekends() -> None:
    # Fri 27 Mar 17:00 CET + 120: 60 on Friday, 60 from Mon 30 Mar 09:00 CEST -> 10:00 CEST = 08:00 UTC.
    assert add(OFFICE_ROME, rome(2026, 3, 27, 17), 120) == utc(2026, 3, 30, 8)
    # Fri 09:00 CET .. Mon 18:00 CEST: two full 9-hour days.
    assert business_minutes_between(OFFICE_ROME, rome(2026, 3, 27, 9), rome(2026, 3, 30, 18)) == 18 * 60
    # Fri 23 Oct 17:00 CEST + 120 -> Mon 26 Oct 10:00 CET = 09:00 UTC.
    assert add(OFFICE_ROME, rome(2026, 10, 23, 17), 120) == utc(2026, 10, 26, 9)
    assert business_minutes_between(OFFICE_ROME, rome(2026, 10, 23, 9), rome(2026, 10, 26, 18)) == 18 * 60


def test_warsaw_night_shift_across_spring_forward() -> None:
    # Sat 28 Mar 22:00 CET (21:00 UTC) -> Sun 06:00 CEST (04:00 UTC) is only 7 real hours.
    start = warsaw(2026, 3, 28, 22)
    assert business_minutes_between(WARSAW_NIGHTS, start, warsaw(2026, 3, 29, 6)) == 7 * 60
    assert add(WARSAW_NIGHTS, start, 7 * 60) == utc(2026, 3, 29, 4)
    # One more minute waits for Sunday's shift: 22:01 CEST = 20:01 UTC.
    assert local(add(WARSAW_NIGHTS, start, 7 * 60 + 1), WARSAW) == "2026-03-29 22:01 CEST"
    assert is_open(WARSAW_NIGHTS, utc(2026, 3, 29, 1))  # 03:00 CEST, inside the shortened shift
    assert not is_open(WARSAW_NIGHTS, warsaw(2026, 3, 29, 12))


def test_warsaw_night_shift_across_fall_back() -> None:
    # Sat 24 Oct 22:00 CEST (20:00 UTC) -> Sun 06:00 CET (05:00 UTC) lasts 9 real hours.
    start = warsaw(2026, 10, 24, 22)
    assert business_minutes_between(WARSAW_NIGHTS, start, warsaw(2026, 10, 25, 6)) == 9 * 60
    assert add(WARSAW_NIGHTS, start, 9 * 60) == utc(2026, 10, 25, 5)
    assert add(WARSAW_NIGHTS, start, 9 * 60 + 1) == utc(2026, 10, 25, 21, 1)  # Sun 22:01 CET


def test_new_york_always_open_and_office_across_dst() -> None:
    # Sat 7 Mar 23:00 EST = 04:00 UTC; +3h = 07:00 UTC = 03:00 EDT.
    due = add(ALWAYS_NY, ny(2026, 3, 7, 23), 180)
    assert due == utc(2026, 3, 8, 7)
    assert local(due, NEW_YORK) == "2026-03-08 03:00 EDT"
    assert business_minutes_between(ALWAYS_NY, ny(2026, 3, 8), ny(2026, 3, 9)) == 23 * 60
    assert business_minutes_between(ALWAYS_NY, ny(2026, 11, 1), ny(2026, 11, 2)) == 25 * 60
    office = Calendar(tz="America/New_York", weekly={d: ((time(9), time(17)),) for d in range(5)})
    # Fri 6 Mar 16:00 EST + 120: 60 on Friday, then Mon 9 Mar 09:00-10:00 EDT (14:00 UTC).
    assert add(office, ny(2026, 3, 6, 16), 120) == utc(2026, 3, 9, 14)


def test_new_york_interval_containing_the_dst_change() -> None:
    sunday_early = Calendar(tz="America/New_York", weekly={6: ((time(1), time(5)),)})
    # 8 Mar: 01:00 EST (06:00 UTC) .. 05:00 EDT (09:00 UTC) = 3 real hours.
    assert business_minutes_between(sunday_early, ny(2026, 3, 8), ny(2026, 3, 9)) == 180
    # 1 Nov: 01:00 is ambiguous -> first occurrence, 01:00 EDT (05:00 UTC) .. 05:00 EST (10:00 UTC).
    assert business_minutes_between(sunday_early, ny(2026, 11, 1), ny(2026, 11, 2)) == 300
    assert next_open(sunday_early, ny(2026, 10, 31, 12)) == utc(2026, 11, 1, 5)


def test_nonexistent_start_opens_at_the_transition() -> None:
    gap_start = Calendar(tz="America/New_York", weekly={6: ((time(2, 30), time(4)),)})
    # 02:30 does not exist on 8 Mar: the clock jumps 02:00 EST -> 03:00 EDT at 07:00 UTC, which is
    # the first instant the wall clock has passed 02:30. Open 03:00-04:00 EDT = 60 min.
    assert next_open(gap_start, ny(2026, 3, 7, 12)) == utc(2026, 3, 8, 7)
    assert business_minutes_between(gap_start, ny(2026, 3, 8), ny(2026, 3, 9)) == 60
    assert business_minutes_between(gap_start, ny(2026, 3, 15), ny(2026, 3, 16)) == 90  # ordinary Sunday


def test_interval_entirely_inside_the_gap_vanishes_that_day() -> None:
    in_gap = Calendar(tz="America/New_York", weekly={6: ((time(2, 15), time(2, 45)),)})
    assert business_minutes_between(in_gap, ny(2026, 3, 8), ny(2026, 3, 9)) == 0
    # So the next opening is the following Sunday, 15 Mar 02:15 EDT = 06:15 UTC.
    assert next_open(in_gap, ny(2026, 3, 7, 12)) == utc(2026, 3, 15, 6, 15)


def test_ambiguous_start_means_first_occurrence() -> None:
    repeated = Calendar(tz="America/New_York", weekly={6: ((time(1, 30), time(3)),)})
    # 1 Nov: 01:30 EDT (05:30 UTC) .. 03:00 EST (08:00 UTC) = 150 min.
    assert next_open(repeated, ny(2026, 10, 31, 12)) == utc(2026, 11, 1, 5, 30)
    assert business_minutes_between(repeated, ny(2026, 11, 1), ny(2026, 11, 2)) == 150


def test_zones_changing_at_midnight_and_skipped_days() -> None:
    santiago = Calendar.always_open("America/Santiago")
    chile = ZoneInfo("America/Santiago")
    # 6 Sep 2026 00:00 does not exist (clock jumps to 01:00): the local day is 23 real hours.
    day = business_minutes_between(
        santiago, datetime(2026, 9, 6, tzinfo=chile), datetime(2026, 9, 7, tzinfo=chile)
    )
    assert day == 23 * 60
    # Samoa skipped 30 Dec 2011 entirely: 29 Dec 00:00 .. 31 Dec 00:00 local is one real day.
    apia_zone = ZoneInfo("Pacific/Apia")
    apia = Calendar.always_open("Pacific/Apia")
    start, end = datetime(2011, 12, 29, tzinfo=apia_zone), datetime(2011, 12, 31, tzinfo=apia_zone)
    assert business_minutes_between(apia, start, end) == 24 * 60
    assert add(apia, start, 24 * 60) == end


# --------------------------------------------------------------------------- calendar shapes


def test_split_day_calendar() -> None:
    monday = (2026, 11, 23)
    # 12:30-13:00 = 30, lunch, 14:00-14:30 = 30 -> 14:30 CET = 13:30 UTC.
    assert add(SPLIT_ROME, rome(*monday, 12, 30), 60) == utc(*monday, 13, 30)
    # Reached exactly at 13:00: due at 13:00, not when the afternoon opens.
    assert add(SPLIT_ROME, rome(*monday, 12, 30), 30) == utc(*monday, 12)
    assert add(SPLIT_ROME, rome(*monday, 13, 30), 1) == utc(*monday, 13, 1)  # 14:01 CET
    assert business_minutes_between(SPLIT_ROME, rome(*monday, 8), rome(*monday, 20)) == 8 * 60
    # Fri 20 Nov 12:00: 60 + 240 = 300 on Friday, 180 left -> Mon 12:00 CET.
    assert add(SPLIT_ROME, rome(2026, 11, 20, 12), 480) == utc(*monday, 11)
    assert not is_open(SPLIT_ROME, rome(*monday, 13, 30))
    assert next_open(SPLIT_ROME, rome(*monday, 13, 30)) == utc(*monday, 13)


def test_cross_midnight_calendar() -> None:
    # Only Friday 22:00 -> Saturday 06:00.
    assert add(FRIDAY_NIGHT, rome(2026, 11, 20, 23), 120) == utc(2026, 11, 21, 0)  # Sat 01:00 CET
    assert next_open(FRIDAY_NIGHT, rome(2026, 11, 19, 12)) == utc(2026, 11, 20, 21)  # Fri 22:00
    assert is_open(FRIDAY_NIGHT, rome(2026, 11, 21, 5, 59))
    assert not is_open(FRIDAY_NIGHT, rome(2026, 11, 21, 6))  # intervals are half-open
    assert add(FRIDAY_NIGHT, rome(2026, 11, 20, 22), 480) == utc(2026, 11, 21, 5)  # Sat 06:00
    assert add(FRIDAY_NIGHT, rome(2026, 11, 20, 22), 481) == utc(2026, 11, 27, 21, 1)  # next Fri 22:01
    # The shift belongs to the day it starts on: closing Friday also closes Saturday's tail.
    closed_friday = Calendar(
        tz="Europe/Rome", weekly={4: ((time(22), time(6)),)}, closed_dates=frozenset({date(2026, 11, 20)})
    )
    assert not is_open(closed_friday, rome(2026, 11, 21, 1))


def test_end_at_midnight_means_24_00() -> None:
    evenings = Calendar(tz="Europe/Rome", weekly={0: ((time(18), time(0)),)})
    assert business_minutes_between(evenings, rome(2026, 11, 23), rome(2026, 11, 24)) == 6 * 60
    assert evenings.to_dict()["weekly"] == {"mon": [["18:00", "24:00"]]}


def test_overlapping_intervals_are_merged() -> None:
    overlap = Calendar(
        tz="UTC", weekly={0: ((time(9), time(12)), (time(11), time(14))), 6: ((time(20), time(10)),)}
    )
    # Sunday 20:00 -> Monday 10:00 joins Monday 09:00-14:00: Sun 20:00 .. Mon 14:00 = 18 hours.
    assert business_minutes_between(overlap, utc(2026, 11, 22), utc(2026, 11, 24)) == 18 * 60


def test_custom_closed_day_moves_the_due_date() -> None:
    closed_monday = Calendar(
        tz="Europe/Rome",
        weekly=NINE_TO_SIX,
        holiday_country="IT",
        closed_dates=frozenset({date(2026, 11, 23)}),
    )
    # As the Friday-evening ticket, but Monday is closed: due Tue 24 Nov 16:30 CET.
    assert add(closed_monday, rome(2026, 11, 20, 17, 30), 480) == utc(2026, 11, 24, 15, 30)


def test_extra_opening_on_a_saturday() -> None:
    saturday_morning = Calendar(
        tz="Europe/Rome",
        weekly=NINE_TO_SIX,
        holiday_country="IT",
        extra_openings=((date(2026, 11, 21), time(10), time(12)),),
    )
    # 30 Friday + 120 Saturday = 150; 330 left = 5h30 from Monday 09:00 -> 14:30 CET.
    assert add(saturday_morning, rome(2026, 11, 20, 17, 30), 480) == utc(2026, 11, 23, 13, 30)


def test_extra_opening_on_a_holiday_and_overlapping_weekly_hours() -> None:
    christmas_duty = Calendar(
        tz="Europe/Rome",
        weekly=NINE_TO_SIX,
        holiday_country="IT",
        extra_openings=((date(2026, 12, 25), time(9), time(11)), (date(2026, 11, 23), time(17), time(20))),
    )
    # 30 min on the 24th, 30 on Christmas morning -> 25 Dec 09:30 CET.
    assert add(christmas_duty, rome(2026, 12, 24, 17, 30), 60) == utc(2026, 12, 25, 8, 30)
    # Monday 23 Nov: 09:00-18:00 plus 17:00-20:00 = 09:00-20:00, 11 hours.
    assert business_minutes_between(christmas_duty, rome(2026, 11, 23, 8), rome(2026, 11, 23, 21)) == 11 * 60


# --------------------------------------------------------------------------- pauses and edge cases


def test_pauses() -> None:
    monday = (2026, 11, 23)
    start = rome(*monday, 9)
    # Pause 10:00-10:30 inside opening hours: 120 min finish at 11:30 CET.
    assert add(OFFICE_ROME, start, 120, ((rome(*monday, 10), rome(*monday, 10, 30)),)) == utc(*monday, 10, 30)
    # Overlapping pauses merge to 10:00-10:45 -> 11:45.
    overlapping: tuple[Pause, ...] = (
        (rome(*monday, 10), rome(*monday, 10, 30)),
        (rome(*monday, 10, 15), rome(*monday, 10, 45)),
    )
    assert add(OFFICE_ROME, start, 120, overlapping) == utc(*monday, 10, 45)
    # A pause covering the start (Sun 22:00 - Mon 10:00) delays it: 10:00 + 120 = 12:00.
    assert add(OFFICE_ROME, start, 120, ((rome(2026, 11, 22, 22), rome(*monday, 10)),)) == utc(*monday, 11)
    # Pauses outside opening hours or before the start change nothing: 11:00.
    harmless: tuple[Pause, ...] = (
        (rome(*monday, 19), rome(*monday, 20)),
        (rome(2026, 11, 20, 10), rome(2026, 11, 20, 11)),
    )
    assert add(OFFICE_ROME, start, 120, harmless) == utc(*monday, 10)
    # The target is reached exactly when a pause begins: due then.
    assert add(OFFICE_ROME, start, 120, ((rome(*monday, 11), rome(*monday, 12)),)) == utc(*monday, 10)
    # Open-ended pause before the target: no due instant yet.
    assert add_business_minutes(OFFICE_ROME, start, 120, ((rome(*monday, 10), None),)) is None
    # ...but one starting after the target does not matter.
    assert add(OFFICE_ROME, start, 60, ((rome(*monday, 12), None),)) == utc(*monday, 9)
    # Measuring with pauses.
    assert (
        business_minutes_between(
            OFFICE_ROME, start, rome(*monday, 11, 30), ((rome(*monday, 10), rome(*monday, 10, 30)),)
        )
        == 120
    )
    assert business_minutes_between(OFFICE_ROME, start, rome(*monday, 12), ((rome(*monday, 10), None),)) == 60


def test_zero_minutes_never_moves_the_clock() -> None:
    saturday_noon = rome(2026, 11, 21, 12)
    result = add(OFFICE_ROME, saturday_noon, 0)
    assert result == utc(2026, 11, 21, 11)
    assert business_minutes_between(OFFICE_ROME, saturday_noon, result) == 0
    assert add(OFFICE_ROME, saturday_noon, 0, ((saturday_noon, None),)) == saturday_noon
    # Any positive amount first waits for the opening: Monday 09:00 + 1 min.
    assert add(OFFICE_ROME, saturday_noon, 1) == utc(2026, 11, 23, 8, 1)
    assert next_open(OFFICE_ROME, rome(2026, 11, 23, 10)) == utc(2026, 11, 23, 9)  # already open


def test_fractional_minutes_and_microsecond_exactness() -> None:
    start = rome(2026, 11, 23, 9, 0, 0, 123_456)
    assert add(OFFICE_ROME, start, 0.5) == start + timedelta(seconds=30)
    assert add_business_time(OFFICE_ROME, start, timedelta(microseconds=1)) == start + US
    due = add_business_time(OFFICE_ROME, start, timedelta(hours=9))
    assert due == utc(2026, 11, 24, 8, 0, 0, 123_456)  # Tue 09:00:00.123456 CET
    assert due is not None
    assert business_time_between(OFFICE_ROME, start, due) == timedelta(hours=9)


def test_between_is_antisymmetric() -> None:
    a, b = rome(2026, 11, 20, 17, 30), rome(2026, 11, 23, 16, 30)
    assert business_minutes_between(OFFICE_ROME, b, a) == -480
    assert business_time_between(OFFICE_ROME, b, a) == -business_time_between(OFFICE_ROME, a, b)


def test_search_horizon() -> None:
    one_hour_ever = Calendar(tz="UTC", weekly={}, extra_openings=((date(2026, 1, 5), time(9), time(10)),))
    assert add(one_hour_ever, utc(2026, 1, 5, 9), 60) == utc(2026, 1, 5, 10)
    with pytest.raises(ValueError, match="business minutes within 1827 days"):
        add_business_minutes(one_hour_ever, utc(2026, 1, 5, 9), 61)
    with pytest.raises(ValueError, match="never opens within"):
        next_open(one_hour_ever, utc(2026, 1, 6))
    with pytest.raises(ValueError, match="within 1827 days"):
        add_business_minutes(OFFICE_ROME, utc(2026, 1, 1), 10_000_000)  # more than 5 years of work
    with pytest.raises(ValueError, match="horizon"):
        business_minutes_between(OFFICE_ROME, utc(2000, 1, 1), utc(2026, 1, 1))
    assert timedelta(days=1827) == SEARCH_HORIZON


def test_distant_eras_in_one_process() -> None:
    # 1950, 2026 and 2990 share one calendar; the timeline is rebuilt rather than grown forever.
    for year in (2026, 1950, 2990, 2026):
        assert add(OFFICE_ROME, datetime(year, 6, 3, 9, tzinfo=UTC), 60) > datetime(year, 6, 3, 9, tzinfo=UTC)


def test_concurrent_use_gives_identical_results() -> None:
    warm = Calendar(tz="Europe/Warsaw", weekly=NINE_TO_SIX, holiday_country="PL")
    starts = [utc(2026, 1, 1) + timedelta(hours=7 * k) for k in range(400)]
    expected = [add_business_minutes(warm, s, 1000) for s in starts]
    # A closed date far away changes nothing here but makes a distinct calendar with a cold cache,
    # so the threads race to build and grow its timeline.
    cold = Calendar.from_dict(warm.to_dict() | {"closed_dates": ["2040-01-01"]})
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda s: add_business_minutes(cold, s, 1000), reversed(starts)))
    assert got[::-1] == expected


# --------------------------------------------------------------------------- data model


def test_calendar_is_frozen_and_hashable() -> None:
    a = Calendar(tz="Europe/Rome", weekly={0: [(time(9), time(18))]})
    b = Calendar(tz="Europe/Rome", weekly={0: ((time(9), time(18)),)})
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b, OFFICE_ROME}) == 2
    with pytest.raises(FrozenInstanceError):
        a.tz = "UTC"  # type: ignore[misc]
    assert dict(a.weekly) == {0: ((time(9), time(18)),)}
    assert not hasattr(a.weekly, "__setitem__")


def test_calendar_pickles_and_copies_without_its_cache() -> None:
    pickled = pickle.loads(pickle.dumps(OFFICE_IT))  # noqa: S301 - our own bytes
    for clone in (pickled, copy.deepcopy(OFFICE_IT), copy.copy(OFFICE_IT)):
        assert clone == OFFICE_IT
        assert add(clone, rome(2026, 12, 24, 17, 30), 60) == utc(2026, 12, 28, 8, 30)


def test_dict_round_trip_through_json() -> None:
    full = Calendar(
        tz="Europe/Rome",
        weekly={
            0: ((time(9), time(13)), (time(14), time(18))),
            4: ((time(22), time(6)),),
            6: ((time(0), time(0)),),
        },
        holiday_country="IT",
        holiday_subdiv="BZ",
        closed_dates=frozenset({date(2026, 8, 14), date(2026, 12, 31)}),
        extra_openings=((date(2026, 11, 21), time(10), time(12, 30)),),
    )
    data = full.to_dict()
    assert data == {
        "tz": "Europe/Rome",
        "weekly": {
            "mon": [["09:00", "13:00"], ["14:00", "18:00"]],
            "fri": [["22:00", "06:00"]],
            "sun": [["00:00", "24:00"]],
        },
        "holiday_country": "IT",
        "holiday_subdiv": "BZ",
        "closed_dates": ["2026-08-14", "2026-12-31"],
        "extra_openings": [{"date": "2026-11-21", "start": "10:00", "end": "12:30"}],
    }
    assert Calendar.from_dict(json.loads(json.dumps(data))) == full
    assert Calendar.from_dict(ALWAYS_ROME.to_dict()) == ALWAYS_ROME


def test_from_dict_accepts_numeric_weekdays_and_seconds() -> None:
    calendar = Calendar.from_dict(
        {"tz": "UTC", "weekly": {"0": [["9:00", "17:30:15"]], 1: [["00:00", "24:00"]]}}
    )
    assert calendar.weekly == {0: ((time(9), time(17, 30, 15)),), 1: ((time(0), time(0)),)}
    assert calendar.to_dict()["weekly"] == {"mon": [["09:00", "17:30:15"]], "tue": [["00:00", "24:00"]]}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tz": "Mars/Olympus_Mons"}, "unknown time zone"),
        ({"tz": "../etc/passwd"}, "unknown time zone"),
        ({"tz": ""}, "IANA time zone"),
        ({"holiday_country": "XX"}, "unknown holiday country"),
        ({"holiday_country": "IT", "holiday_subdiv": "ZZ"}, "unknown holiday country"),
        ({"holiday_subdiv": "BZ"}, "needs holiday_country"),
        ({"weekly": {0: ((time(9), time(9)),)}}, "start equals end"),
        ({"weekly": {7: ((time(9), time(17)),)}}, "weekday must be"),
        ({"weekly": {0: (("09:00", "17:00"),)}}, "datetime.time"),
        ({"weekly": {0: ((time(9, tzinfo=UTC), time(17)),)}}, "naive"),
        ({"weekly": {0: (time(9),)}}, "pair"),
        ({"weekly": [(time(9), time(17))]}, "mapping"),
        ({"weekly": {}}, "no opening hours"),
        ({"closed_dates": {datetime(2026, 1, 1, tzinfo=UTC)}}, "datetime.date"),
        ({"extra_openings": ((date(2026, 1, 1), time(9)),)}, "extra opening"),
        ({"extra_openings": ((date(2026, 1, 1), time(9), time(9)),)}, "start equals end"),
    ],
)
def test_invalid_calendars(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"tz": "Europe/Rome", "weekly": NINE_TO_SIX} | kwargs
    with pytest.raises(ValueError, match=message):
        Calendar(**arguments)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"weekly": {"mon": [["09:00", "18:00"]]}}, "needs 'tz'"),
        ({"tz": "UTC", "weekly": {"mon": [["25:00", "26:00"]]}}, "out of range"),
        ({"tz": "UTC", "weekly": {"mon": [["9h", "18h"]]}}, "HH:MM"),
        ({"tz": "UTC", "weekly": {"mon": [["24:00", "06:00"]]}}, "only valid as the end"),
        ({"tz": "UTC", "weekly": {"funday": [["09:00", "18:00"]]}}, "unknown weekday"),
        ({"tz": "UTC", "weekly": {"mon": [["09:00", "18:00"]], "0": []}}, "given twice"),
        ({"tz": "UTC", "weekly": {"mon": ["09:00-18:00"]}}, "pair"),
        ({"tz": "UTC", "weekly": {"mon": [["09:00", "18:00"]]}, "timezone": "UTC"}, "unknown calendar field"),
        (
            {"tz": "UTC", "weekly": {"mon": [["09:00", "18:00"]]}, "closed_dates": ["2026-13-01"]},
            "invalid date",
        ),
        (
            {"tz": "UTC", "weekly": {}, "extra_openings": [{"date": "2026-01-01", "start": "09:00"}]},
            "extra opening",
        ),
        ({"tz": "UTC", "weekly": {"mon": [["09:00", "18:00"]]}, "holiday_country": 39}, "string or null"),
        ([], "JSON object"),
        # The bounds that keep any one computation small (see SEARCH_HORIZON).
        (
            {"tz": "UTC", "weekly": {"mon": [[f"{h:02d}:00", f"{h:02d}:30"] for h in range(13)]}},
            f"at most {MAX_INTERVALS_PER_DAY} intervals a day",
        ),
        (
            {
                "tz": "UTC",
                "weekly": {},
                "extra_openings": [
                    {"date": "2026-01-01", "start": f"{h:02d}:00", "end": f"{h:02d}:30"} for h in range(13)
                ],
            },
            f"at most {MAX_INTERVALS_PER_DAY} a day",
        ),
        (
            {
                "tz": "UTC",
                "weekly": {},
                "extra_openings": [
                    {
                        "date": (date(2026, 1, 1) + timedelta(days=n)).isoformat(),
                        "start": "09:00",
                        "end": "10:00",
                    }
                    for n in range(MAX_EXTRA_OPENINGS + 1)
                ],
            },
            f"at most {MAX_EXTRA_OPENINGS} extra openings",
        ),
        (
            {
                "tz": "UTC",
                "weekly": {"mon": [["09:00", "18:00"]]},
                "closed_dates": [
                    (date(2000, 1, 1) + timedelta(days=n)).isoformat() for n in range(MAX_CLOSED_DATES + 1)
                ],
            },
            f"at most {MAX_CLOSED_DATES} closed dates",
        ),
    ],
)
def test_invalid_calendar_data(data: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Calendar.from_dict(data)


def test_invalid_arguments() -> None:
    aware = rome(2026, 11, 23, 9)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_minutes(OFFICE_ROME, datetime(2026, 11, 23, 9), 60)  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone-aware"):
        business_minutes_between(OFFICE_ROME, aware, datetime(2026, 11, 23, 10))  # noqa: DTZ001
    with pytest.raises(TypeError, match="must be a datetime"):
        is_open(OFFICE_ROME, date(2026, 11, 23))  # type: ignore[arg-type]
    for bad in (-1, -0.5, math.nan, math.inf, True, False):
        with pytest.raises(ValueError, match="minutes must"):
            add_business_minutes(OFFICE_ROME, aware, bad)
    with pytest.raises(ValueError, match="non-negative timedelta"):
        add_business_time(OFFICE_ROME, aware, timedelta(minutes=-1))
    with pytest.raises(ValueError, match="ends before it starts"):
        add_business_minutes(OFFICE_ROME, aware, 60, ((aware, aware - US),))
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_minutes(OFFICE_ROME, aware, 60, ((datetime(2026, 11, 23, 10), None),))  # noqa: DTZ001
    with pytest.raises(ValueError, match="supported years"):
        next_open(OFFICE_ROME, datetime(1800, 1, 1, tzinfo=UTC))


# --------------------------------------------------------------------------- properties

ZONES = ("Europe/Rome", "Europe/Warsaw", "America/New_York", "America/Santiago", "Australia/Lord_Howe", "UTC")
FIXED_CALENDARS = (OFFICE_IT, OFFICE_ROME, SPLIT_ROME, FRIDAY_NIGHT, WARSAW_NIGHTS, ALWAYS_ROME, ALWAYS_NY)


@st.composite
def weekly_calendars(draw: st.DrawFn, zones: tuple[str, ...] = ZONES, day_only: bool = False) -> Calendar:
    """Random weekly hours, including night shifts and intervals touching DST gaps."""
    weekly: dict[int, list[tuple[time, time]]] = {}
    open_minutes = 0
    for day in range(7):
        for _ in range(draw(st.integers(0, 2))):
            if day_only:  # same-day intervals away from the 00:00-04:00 DST window
                start, length = draw(st.integers(240, 1438)), draw(st.integers(1, 1439 - 240))
                end = min(start + length, 1439)
            else:
                start, end = draw(st.integers(0, 1439)), draw(st.integers(0, 1439))
            if start != end or start == 0:
                weekly.setdefault(day, []).append((time(*divmod(start, 60)), time(*divmod(end, 60))))
                open_minutes += (end - start) % 1440 or 1440
    # Keep property inputs (up to 6000 minutes) well inside the five-year search horizon.
    assume(open_minutes >= 60)
    closed = draw(st.frozensets(st.dates(date(2026, 1, 1), date(2026, 12, 31)), max_size=20))
    return Calendar(tz=draw(st.sampled_from(zones)), weekly=weekly, closed_dates=closed)


calendars = st.one_of(st.sampled_from(FIXED_CALENDARS), weekly_calendars())
instants = st.datetimes(datetime(2025, 6, 1), datetime(2027, 6, 1), timezones=st.just(UTC))  # noqa: DTZ001
amounts = st.integers(0, 6000)
PROPERTY = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def pause_lists(draw: st.DrawFn, anchor: datetime) -> tuple[Pause, ...]:
    pauses: list[Pause] = []
    for _ in range(draw(st.integers(0, 3))):
        start = anchor + timedelta(minutes=draw(st.integers(-600, 10_000)))
        if draw(st.integers(0, 9)) == 0:
            pauses.append((start, None))
        else:
            pauses.append((start, start + timedelta(minutes=draw(st.integers(0, 3000)))))
    return tuple(pauses)


@PROPERTY
@given(calendars, instants, amounts)
def test_add_then_measure_round_trips(calendar: Calendar, start: datetime, minutes: int) -> None:
    due = add(calendar, start, minutes)
    assert due >= start
    assert business_minutes_between(calendar, start, due) == minutes
    if minutes > 0:  # earliest such instant: the microsecond before was still open and short of it
        assert business_time_between(calendar, start, due - US) < timedelta(minutes=minutes)
        assert is_open(calendar, due - US)


@PROPERTY
@given(calendars, instants, st.data())
def test_round_trip_with_pauses(calendar: Calendar, start: datetime, data: st.DataObject) -> None:
    minutes = data.draw(amounts)
    pauses = data.draw(pause_lists(start))
    due = add_business_minutes(calendar, start, minutes, pauses)
    if due is None:
        assert any(end is None for _, end in pauses)
        return
    assert business_minutes_between(calendar, start, due, pauses) == minutes
    assert due >= add(calendar, start, minutes)  # pausing can only delay
    split = data.draw(st.integers(0, minutes))
    middle = add_business_minutes(calendar, start, split, pauses)
    assert middle is not None
    assert add_business_minutes(calendar, middle, minutes - split, pauses) == due


@PROPERTY
@given(calendars, instants, amounts, amounts)
def test_monotonic_in_minutes_and_additive(calendar: Calendar, start: datetime, a: int, b: int) -> None:
    assert add(calendar, start, a) <= add(calendar, start, a + b)
    assert add(calendar, add(calendar, start, a), b) == add(calendar, start, a + b)


@PROPERTY
@given(calendars, instants, st.integers(0, 20_000), amounts)
def test_monotonic_in_start(calendar: Calendar, start: datetime, shift: int, minutes: int) -> None:
    later = start + timedelta(minutes=shift, microseconds=shift)
    assert add(calendar, start, minutes) <= add(calendar, later, minutes)


@PROPERTY
@given(calendars, instants, st.integers(0, 20_000), st.integers(0, 20_000))
def test_measurement_is_additive_and_bounded(calendar: Calendar, a: datetime, gap1: int, gap2: int) -> None:
    b = a + timedelta(minutes=gap1)
    c = b + timedelta(minutes=gap2)
    ab, bc = business_time_between(calendar, a, b), business_time_between(calendar, b, c)
    assert ab + bc == business_time_between(calendar, a, c)
    assert timedelta(0) <= ab <= b - a


@PROPERTY
@given(st.sampled_from((*ZONES, "Pacific/Apia")), instants, st.integers(0, 100_000))
def test_always_open_counts_real_elapsed_time(zone: str, start: datetime, minutes: int) -> None:
    calendar = Calendar.always_open(zone)
    assert add(calendar, start, minutes) == start + timedelta(minutes=minutes)
    assert is_open(calendar, start)


@PROPERTY
@given(calendars, instants)
def test_next_open_is_consistent_with_is_open(calendar: Calendar, instant: datetime) -> None:
    opening = next_open(calendar, instant)
    assert opening >= instant
    assert is_open(calendar, opening)
    assert business_time_between(calendar, instant, opening) == timedelta(0)
    assert (opening == instant) == is_open(calendar, instant)
    if opening > instant:
        assert not is_open(calendar, opening - US)


def _brute_force_minutes(calendar: Calendar, start: datetime, minutes: int, zone: ZoneInfo) -> int:
    """Independent oracle: test each real minute's local wall time against the weekly table."""
    count = 0
    for step in range(minutes):
        wall = (start + timedelta(minutes=step)).astimezone(zone).replace(tzinfo=None)
        for day in (wall.date(), wall.date() - timedelta(days=1)):
            if day in calendar.closed_dates:
                continue
            for s, e in calendar.weekly.get(day.weekday(), ()):
                opens = datetime.combine(day, s)
                closes = datetime.combine(day, e) + (timedelta(days=1) if e <= s else timedelta(0))
                if opens <= wall < closes:
                    count += 1
                    break
            else:
                continue
            break
    return count


@settings(deadline=None, max_examples=60)
@given(weekly_calendars(zones=("UTC",)), st.integers(0, 365 * 24 * 60), st.integers(0, 3 * 24 * 60))
def test_matches_brute_force_in_utc(calendar: Calendar, offset: int, minutes: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=offset)
    expected = _brute_force_minutes(calendar, start, minutes, ZoneInfo("UTC"))
    assert business_minutes_between(calendar, start, start + timedelta(minutes=minutes)) == expected


@settings(deadline=None, max_examples=60)
@given(
    weekly_calendars(zones=("Europe/Rome", "America/New_York"), day_only=True),
    st.sampled_from(
        (
            datetime(2026, 3, 6, tzinfo=UTC),
            datetime(2026, 3, 27, tzinfo=UTC),
            datetime(2026, 10, 23, tzinfo=UTC),
            datetime(2026, 10, 30, tzinfo=UTC),
        )
    ),
    st.integers(0, 24 * 60),
)
def test_matches_brute_force_across_dst_weekends(calendar: Calendar, base: datetime, offset: int) -> None:
    # Daytime intervals never touch a DST gap or repeated hour, so wall-clock membership is exact.
    start = base + timedelta(minutes=offset)
    minutes = 4 * 24 * 60
    expected = _brute_force_minutes(calendar, start, minutes, ZoneInfo(calendar.tz))
    assert business_minutes_between(calendar, start, start + timedelta(minutes=minutes)) == expected


def test_the_most_intervals_a_day_are_accepted() -> None:
    busiest = [[f"{2 * h:02d}:00", f"{2 * h:02d}:30"] for h in range(MAX_INTERVALS_PER_DAY)]
    calendar = Calendar.from_dict({"tz": "Europe/Rome", "weekly": {"mon": busiest, "sun": busiest}})
    assert add(calendar, rome(2026, 11, 23, 0), 30 * MAX_INTERVALS_PER_DAY) == rome(2026, 11, 23, 22, 30)


def test_a_timeline_grown_step_by_step_equals_one_built_at_once() -> None:
    """Growing the timeline appends later dates to what it has; the night shift that crosses each
    growth boundary must join the same way as in a timeline built in one go."""
    data = WARSAW_NIGHTS.to_dict() | {
        "holiday_country": "PL",
        "extra_openings": [
            {"date": "2027-03-28", "start": "05:00", "end": "09:00"}  # overlaps the night shift's tail
        ],
    }
    stepwise = Calendar.from_dict(data, shared=False)
    start = warsaw(2026, 1, 1)
    for months in range(1, 50, 3):  # each call asks a little further, growing the timeline
        add_business_minutes(stepwise, start, months * 30 * 8 * 60)
    for minutes in (1, 480, 100_000, 500_000, 800_000):
        fresh = Calendar.from_dict(data, shared=False)
        assert add_business_minutes(fresh, start, minutes) == add_business_minutes(stepwise, start, minutes)
        end = start + timedelta(minutes=minutes)
        assert business_time_between(fresh, start, end) == business_time_between(stepwise, start, end)


def test_drafts_keep_their_timeline_to_themselves() -> None:
    stored = Calendar.from_dict(OFFICE_IT.to_dict())
    draft = Calendar.from_dict(OFFICE_IT.to_dict(), shared=False)
    assert draft == stored and stored._timeline is Calendar.from_dict(OFFICE_IT.to_dict())._timeline
    assert draft._timeline is not stored._timeline
    assert add(draft, rome(2026, 12, 24, 17, 30), 60) == add(stored, rome(2026, 12, 24, 17, 30), 60)


def test_hours_that_look_reversed() -> None:
    calendar = Calendar.from_dict(
        {
            "tz": "Europe/Rome",
            "weekly": {
                "mon": [["18:00", "09:00"]],  # 15 hours overnight: surely 09:00-18:00 the wrong way round
                "tue": [["22:00", "06:00"]],  # a night shift
                "wed": [["00:00", "24:00"]],
                "thu": [["20:00", "08:00"]],  # 12 hours: a long night shift, not flagged
            },
            "extra_openings": [{"date": "2026-12-24", "start": "17:00", "end": "08:30"}],
        }
    )
    assert reversed_looking(calendar) == [
        ("mon", time(18), time(9)),
        ("2026-12-24", time(17), time(8, 30)),
    ]
    assert reversed_looking(OFFICE_IT) == []
