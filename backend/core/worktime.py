"""Working time: the city's working hours on its working days, by China's holiday calendar.

数字城管 counts most time limits in working hours: a case filed at 17:55 on the eve of 国庆
with a 2-hour limit falls due on the first working morning after the holiday, not at 19:55.
Working days are Monday to Friday, less China's public holidays, plus the adjusted workdays
(调休) on which a weekend is worked, both from the State Council's calendar as the
``chinese-calendar`` package has it; then the city's own overrides (a day off, an extra working
day) over both. A year the package does not know yet (it is published each winter) falls back
to weekends alone, plus the overrides, and :meth:`WorkingCalendar.unknown_years` says so, so
that the health answer can warn.

Pure: no database, no clock. Every due time of a case, in working or in calendar hours, is
:func:`due_time`'s answer.

>>> from zoneinfo import ZoneInfo
>>> cal = WorkingCalendar(timezone=ZoneInfo("Asia/Shanghai"))
>>> eve = datetime(2026, 9, 30, 17, 55, tzinfo=cal.timezone)
>>> cal.add(eve, timedelta(hours=2)).isoformat()
'2026-10-08T10:25:00+08:00'
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from itertools import pairwise
from zoneinfo import ZoneInfo

import chinese_calendar

# 08:30–12:00 and 14:30–18:00: the working day of most city offices (7 hours).
DEFAULT_HOURS: tuple[tuple[time, time], ...] = ((time(8, 30), time(12)), (time(14, 30), time(18)))
# A limit is never searched past this many days: ten years of a calendar with no working day.
_MAX_DAYS = 3660


class CalendarError(ValueError):
    """A calendar that cannot be worked with (no working hours, hours out of order)."""


@functools.lru_cache(maxsize=8192)
def _national(day: date) -> bool | None:
    """Whether the national calendar works ``day``; None for a year it does not know.
    Cached: every due time asks it for each day it spans, and the package checks its
    arguments and looks in two sets on every call."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def _known(day: date) -> bool:
    return _national(day) is not None


@dataclass(frozen=True)
class WorkingCalendar:
    """The city's working hours (local times, in order, not overlapping), its timezone, and
    its overrides of the national calendar."""

    timezone: tzinfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    hours: tuple[tuple[time, time], ...] = DEFAULT_HOURS
    days_off: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if not self.hours:
            raise CalendarError("a working day needs at least one period of working hours")
        ends = [t for period in self.hours for t in period]
        if any(a >= b for a, b in pairwise(ends)):
            raise CalendarError(f"working hours must be in order and not overlap: {self.hours}")
        if self.days_off & self.extra_workdays:
            both = sorted(self.days_off & self.extra_workdays)
            raise CalendarError(f"a day cannot be both off and worked: {both[0].isoformat()}")

    def is_workday(self, day: date) -> bool:
        """Whether ``day`` is worked: the city's overrides, else the national calendar, else
        (a year it does not know) Monday to Friday.

        >>> cal = WorkingCalendar()
        >>> cal.is_workday(date(2026, 10, 10)), cal.is_workday(date(2026, 10, 1))  # 调休, 国庆
        (True, False)
        """
        if day in self.extra_workdays:
            return True
        if day in self.days_off:
            return False
        national = _national(day)
        return day.weekday() < 5 if national is None else national

    def unknown_years(self, days: Iterable[date]) -> list[int]:
        """The years among ``days`` for which the national calendar is not known (weekends
        alone decide there)."""
        return sorted({d.year for d in days if not _known(d)})

    def periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working periods of ``day``, as aware datetimes; none on a day off."""
        if not self.is_workday(day):
            return []
        return [
            (
                datetime.combine(day, start, self.timezone),
                datetime.combine(day, end, self.timezone),
            )
            for start, end in self.hours
        ]

    def add(self, start: datetime, work: timedelta) -> datetime:
        """The moment ``work`` of working time after ``start`` (an aware datetime); a
        non-positive ``work`` is ``start`` itself. The answer is in the calendar's timezone.

        >>> cal = WorkingCalendar()
        >>> friday = datetime(2026, 11, 27, 17, 0, tzinfo=cal.timezone)
        >>> cal.add(friday, timedelta(hours=2)).isoformat()  # 1 h on Friday, 1 h on Monday
        '2026-11-30T09:30:00+08:00'
        """
        if start.tzinfo is None:
            raise CalendarError("start must carry its timezone")
        local = start.astimezone(self.timezone)
        if work <= timedelta(0):
            return local
        left = work
        day = local.date()
        for _ in range(_MAX_DAYS):
            for begin, end in self.periods(day):
                begin = max(begin, local)
                if begin >= end:
                    continue
                if end - begin >= left:
                    return begin + left
                left -= end - begin
            day += timedelta(days=1)
        raise CalendarError(f"no working time within {_MAX_DAYS} days of {start.isoformat()}")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """The working time from ``start`` to ``end`` (zero if ``end`` is not later).

        >>> cal = WorkingCalendar()
        >>> a = datetime(2026, 11, 27, 17, 0, tzinfo=cal.timezone)
        >>> cal.between(a, cal.add(a, timedelta(hours=9)))
        datetime.timedelta(seconds=32400)
        """
        a, b = start.astimezone(self.timezone), end.astimezone(self.timezone)
        total = timedelta(0)
        day = a.date()
        while day <= b.date():
            for begin, finish in self.periods(day):
                lo, hi = max(begin, a), min(finish, b)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    def in_working_hours(self, moment: datetime) -> bool:
        """Whether ``moment`` lies in a working period (its ends included)."""
        local = moment.astimezone(self.timezone)
        return any(begin <= local <= end for begin, end in self.periods(local.date()))


def scaled(limit: timedelta, factor: float) -> timedelta:
    """``limit`` times the emergency ``factor``, in whole seconds (the same inputs always give
    the same due time); CalendarError for a factor that is not positive."""
    if factor <= 0:
        raise CalendarError(f"the time-limit factor must be positive: {factor}")
    return timedelta(seconds=round(limit.total_seconds() * factor))


def due_time(
    start: datetime,
    limit: timedelta,
    calendar: WorkingCalendar | None,
    *,
    factor: float = 1.0,
    extended: timedelta = timedelta(0),
) -> datetime:
    """When a clock started at ``start`` with ``limit`` runs out: ``limit`` scaled by the
    emergency ``factor`` (rounded to whole seconds, so the same inputs give the same due
    time), plus the ``extended`` time granted, all in working time on ``calendar``, or on the
    wall clock when ``calendar`` is None (a limit in calendar hours).

    >>> cal = WorkingCalendar()
    >>> friday = datetime(2026, 11, 27, 17, 0, tzinfo=cal.timezone)
    >>> due_time(friday, timedelta(hours=4), cal, factor=0.5).isoformat()
    '2026-11-30T09:30:00+08:00'
    >>> due_time(friday, timedelta(hours=4), None, factor=0.5).isoformat()
    '2026-11-27T19:00:00+08:00'
    """
    work = scaled(limit, factor) + extended
    if calendar is None:
        return start + work
    return calendar.add(start, work)


def parse_hours(text: str) -> tuple[tuple[time, time], ...]:
    """Working hours written ``08:30-12:00,14:30-18:00``; CalendarError if they do not parse
    or are out of order.

    >>> parse_hours("08:30-12:00, 14:30-18:00")[1]
    (datetime.time(14, 30), datetime.time(18, 0))
    """
    periods = []
    for part in text.split(","):
        bounds = part.strip().split("-")
        if len(bounds) != 2:
            raise CalendarError(f"a period of working hours is written 08:30-12:00: {part!r}")
        try:
            start, end = (time.fromisoformat(b.strip()) for b in bounds)
        except ValueError:
            raise CalendarError(f"not a time of day in {part!r}") from None
        periods.append((start, end))
    hours = tuple(periods)
    WorkingCalendar(hours=hours)  # checks their order
    return hours


def format_hours(hours: tuple[tuple[time, time], ...]) -> str:
    """The text :func:`parse_hours` reads."""
    return ",".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in hours)
