from __future__ import annotations

from typing import Annotated

import msgspec

Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class DayOut(msgspec.Struct, omit_defaults=True):
    date: str  # ISO date
    working: bool
    # Why: workday, weekend, holiday, adjusted_workday (调休: a weekend worked), day_off and
    # extra_workday (the city's overrides).
    why: str
    # The national holiday, on it or on its 调休: national_day, spring_festival … (the keys of
    # chinese_calendar.Holiday).
    holiday: str | None = None
    reason: str | None = None  # the override's reason
    known: bool = True  # False: a year the national calendar does not know (weekends only)


class CalendarOut(msgspec.Struct):
    hours: str  # the working hours of a working day: 08:30-12:00,14:30-18:00
    timezone: str
    days: list[DayOut]
    unknown_years: list[int]  # years of the range decided by weekends alone


class OverrideIn(msgspec.Struct):
    working: bool  # True: an extra working day; False: a day off
    reason: Reason


class OverrideOut(msgspec.Struct):
    date: str
    working: bool
    reason: str


class HoursIn(msgspec.Struct):
    hours: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class HoursOut(msgspec.Struct):
    hours: str
