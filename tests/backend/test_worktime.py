"""Due times in working time: hand-worked cases around weekends and 国庆 2026, the city's
overrides, a year the national calendar does not know, and properties that hold for any start
and limit."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.core.worktime import CalendarError, WorkingCalendar

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
