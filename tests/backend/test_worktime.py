"""Due times in working time: hand-worked cases around weekends and 国庆 2026, the city's
overrides, a year the national calendar does not know, and properties that hold for any start
and limit."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.core.worktime import (
    DEFAULT_HOURS,
    CalendarError,
    WorkingCalendar,
    due_time,
    format_hours,
    parse_hours,
    scaled,
)

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkingCalendar(timezone=TZ)


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        # Within the morning, across lunch, across the evening.
        (at(2026, 11, 25, 9), 2, at(2026, 11, 25, 11)),
        (at(2026, 11, 25, 11), 2, at(2026, 11, 25, 15, 30)),
        (at(2026, 11, 25, 17), 2, at(2026, 11, 26, 9, 30)),
        # Filed at night or at lunch: the clock starts with the next working period.
        (at(2026, 11, 25, 22), 1, at(2026, 11, 26, 9, 30)),
        (at(2026, 11, 25, 12, 40), 1, at(2026, 11, 25, 15, 30)),
        # Across a weekend: Friday 17:00 + 2 h is Monday 09:30.
        (at(2026, 11, 27, 17), 2, at(2026, 11, 30, 9, 30)),
        (at(2026, 11, 28, 10), 1, at(2026, 11, 30, 9, 30)),
        # 17:55 on the last working day before 国庆 (9-30): 5 min, then from 10-08 08:30.
        (at(2026, 9, 30, 17, 55), 2, at(2026, 10, 8, 10, 25)),
        # 10-10 is a Saturday worked in exchange (调休): a Friday 10-09 case goes on then.
        (at(2026, 10, 9, 17), 2, at(2026, 10, 10, 9, 30)),
        # Three working days of 7 hours.
        (at(2026, 11, 25, 8, 30), 21, at(2026, 11, 27, 18)),
    ],
)
def test_due_times_by_hand(start, hours, due):
    assert CAL.add(start, timedelta(hours=hours)) == due


def test_a_city_override_makes_a_day_off_or_an_extra_working_day():
    city = WorkingCalendar(
        timezone=TZ,
        days_off=frozenset({date(2026, 11, 30)}),
        extra_workdays=frozenset({date(2026, 11, 28)}),
    )
    # Saturday 11-28 worked, Monday 11-30 off.
    assert city.add(at(2026, 11, 27, 17), timedelta(hours=2)) == at(2026, 11, 28, 9, 30)
    assert city.add(at(2026, 11, 28, 17), timedelta(hours=2)) == at(2026, 12, 1, 9, 30)
    with pytest.raises(CalendarError):
        WorkingCalendar(
            days_off=frozenset({date(2026, 1, 5)}), extra_workdays=frozenset({date(2026, 1, 5)})
        )


def test_the_citys_own_working_hours():
    summer = WorkingCalendar(timezone=TZ, hours=((time(8), time(12)), (time(15), time(18, 30))))
    assert summer.add(at(2026, 7, 1, 11), timedelta(hours=2)) == at(2026, 7, 1, 16)
    with pytest.raises(CalendarError):
        WorkingCalendar(hours=((time(14), time(18)), (time(8), time(12))))
    with pytest.raises(CalendarError):
        WorkingCalendar(hours=())


def test_a_year_the_national_calendar_does_not_know_falls_back_to_weekends():
    # 2027 is not in chinese-calendar 1.11: 元旦 2027-01-01 (a Friday) counts as worked.
    assert CAL.add(at(2026, 12, 31, 17), timedelta(hours=2)) == at(2027, 1, 1, 9, 30)
    assert CAL.add(at(2027, 1, 8, 17), timedelta(hours=2)) == at(2027, 1, 11, 9, 30)
    assert CAL.unknown_years([date(2026, 12, 31), date(2027, 1, 1)]) == [2027]


def test_a_start_without_a_timezone_is_refused():
    with pytest.raises(CalendarError):
        CAL.add(datetime(2026, 11, 25, 9), timedelta(hours=1))


starts = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 31)).map(
    lambda d: d.replace(tzinfo=TZ)
)
limits = st.integers(min_value=1, max_value=60 * 24 * 20).map(lambda m: timedelta(minutes=m))


@settings(max_examples=300, deadline=None)
@given(start=starts, limit=limits)
def test_a_due_time_is_always_in_working_hours_with_exactly_the_limit_worked(start, limit):
    due = CAL.add(start, limit)
    assert due > start
    assert CAL.in_working_hours(due)
    assert CAL.between(start, due) == limit


@settings(max_examples=300, deadline=None)
@given(start=starts, a=limits, b=limits)
def test_due_times_are_monotone_and_add_up(start, a, b):
    shorter, longer = sorted((a, b))
    assert CAL.add(start, shorter) <= CAL.add(start, longer)
    assert CAL.add(CAL.add(start, a), b) == CAL.add(start, a + b)


factors = st.sampled_from([1.0, 0.75, 0.5, 0.3, 0.25])
days_ahead = st.integers(min_value=0, max_value=60).map(lambda n: date(2026, 9, 25) + timedelta(n))
cities = st.builds(
    lambda off, extra: WorkingCalendar(
        timezone=TZ, days_off=frozenset(off), extra_workdays=frozenset(extra - off)
    ),
    st.frozensets(days_ahead, max_size=4),
    st.frozensets(days_ahead, max_size=4),
)


@settings(max_examples=300, deadline=None)
@given(city=cities, start=starts, limit=limits, factor=factors, extended=limits)
def test_the_one_due_time_is_never_off_work_and_gives_the_scaled_limit_and_extension(
    city, start, limit, factor, extended
):
    due = due_time(start, limit, city, factor=factor, extended=extended)
    assert city.in_working_hours(due)
    assert city.between(start, due) == scaled(limit, factor) + extended
    # Granting the extension later, from the due time, lands on the same moment.
    assert due_time(due_time(start, limit, city, factor=factor), extended, city) == due


@settings(max_examples=300, deadline=None)
@given(city=cities, start=starts, a=limits, b=limits, factor=factors)
def test_the_one_due_time_is_monotone_in_the_limit_and_the_factor(city, start, a, b, factor):
    shorter, longer = sorted((a, b))
    assert due_time(start, shorter, city, factor=factor) <= due_time(
        start, longer, city, factor=factor
    )
    assert due_time(start, a, city, factor=factor) <= due_time(start, a, city)
    # In calendar hours it is the wall clock, whatever the calendar says.
    assert due_time(start, a, None, factor=factor) == start + scaled(a, factor)


def test_a_factor_that_is_not_positive_is_refused():
    for factor in (0.0, -0.5):
        with pytest.raises(CalendarError):
            due_time(at(2026, 11, 25, 9), timedelta(hours=1), CAL, factor=factor)


def test_working_hours_are_read_from_text():
    assert parse_hours("08:00-12:00,15:00-18:30") == ((time(8), time(12)), (time(15), time(18, 30)))
    assert format_hours(DEFAULT_HOURS) == "08:30-12:00,14:30-18:00"
    for bad in ("08:00", "8h-12h", "14:00-18:00,08:00-12:00", "12:00-08:00"):
        with pytest.raises(CalendarError):
            parse_hours(bad)
