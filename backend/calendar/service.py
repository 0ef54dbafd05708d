"""The city's working calendar: read (cached per process), shown day by day, and changed by
the city admin.

Every due time in working hours needs the calendar, and it changes a few times a year. Each
process keeps it in memory for ``FRESH_S`` seconds; a change appends ``calendar.changed`` to
the event log in its transaction, and every process's live hub, which reads the log anyway,
forgets its copy when it reads the event (backend/live/hub.py); the process that made the
change forgets it as soon as the transaction commits.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

from backend.calendar.schemas import CalendarOut, DayOut, HoursOut, OverrideIn, OverrideOut
from backend.calendar.tables import CalendarOverride, WorkingHours
from backend.core.db import write_transaction
from backend.core.errors import Invalid, NotFound
from backend.core.events import EventType
from backend.core.principal import Principal, require_role
from backend.core.recent import Recent
from backend.core.roles import Role
from backend.core.worktime import (
    DEFAULT_HOURS,
    CalendarError,
    WorkingCalendar,
    format_hours,
    parse_hours,
)
from backend.events.service import NewEvent, append

FRESH_S = 60.0
TIMEZONE = ZoneInfo("Asia/Shanghai")  # China's holiday calendar is the mainland's
MAX_DAYS = 366  # days one GET may ask for

_held: Recent[WorkingCalendar] = Recent(FRESH_S, size=1)


def forget() -> None:
    """Drop this process's copy: the calendar changed (here, or in another process)."""
    _held.forget("city")


async def city_calendar() -> WorkingCalendar:
    """The city's calendar: its working hours and its overrides of the national one."""
    found = _held.get("city")
    if found is not None:
        return found
    before = _held.forgets
    rows = await CalendarOverride.select(CalendarOverride.day, CalendarOverride.working)
    latest = (
        await WorkingHours.select(WorkingHours.hours)
        .order_by(WorkingHours.id, ascending=False)
        .first()
    )
    found = WorkingCalendar(
        timezone=TIMEZONE,
        hours=DEFAULT_HOURS if latest is None else parse_hours(latest["hours"]),
        days_off=frozenset(r["day"] for r in rows if not r["working"]),
        extra_workdays=frozenset(r["day"] for r in rows if r["working"]),
    )
    _held.put("city", found, read_after=before)
    return found


# Due times reach this far ahead: a year the national calendar does not know within it warns.
LOOKAHEAD_DAYS = 60


def calendar_warnings(today: date) -> list[str]:
    """For the health answer: the coming years whose holidays this server does not know (the
    ``chinese-calendar`` package learns each year's in the winter before; update it)."""
    span = [today + timedelta(days=n) for n in range(LOOKAHEAD_DAYS + 1)]
    return [
        f"China's holiday calendar for {year} is not known here: working days that year are "
        "Monday to Friday and the city's overrides; update the chinese-calendar package"
        for year in WorkingCalendar().unknown_years(span)
    ]


def parse_day(text: str) -> date:
    """An ISO date from a path; 422 ``invalid_date`` otherwise."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid("invalid_date", f"not an ISO date (2026-10-01): {text!r}") from None


# The package names a holiday in English ("National Day"); the API gives its key
# (national_day), which the app translates.
_HOLIDAY_KEYS = {h.value: h.name for h in chinese_calendar.Holiday}


def _national(day: date) -> tuple[str, str | None, bool]:
    """Why the national calendar works or rests on ``day``: (why, holiday key, known)."""
    try:
        on_holiday, english = chinese_calendar.get_holiday_detail(day)
        name = _HOLIDAY_KEYS.get(english, english)
        working = chinese_calendar.is_workday(day)
    except NotImplementedError:
        return ("workday" if day.weekday() < 5 else "weekend"), None, False
    weekend = day.weekday() >= 5
    if not working:
        return ("holiday" if on_holiday and name else "weekend"), name, True
    return ("adjusted_workday" if weekend else "workday"), name, True


async def days(start: date, end: date) -> CalendarOut:
    """Each day from ``start`` to ``end`` (both included): worked or not, and why."""
    if end < start:
        raise Invalid("invalid_range", "to comes before from")
    if (end - start).days >= MAX_DAYS:
        raise Invalid("invalid_range", f"at most {MAX_DAYS} days at a time")
    calendar = await city_calendar()
    reasons = {
        r["day"]: r["reason"]
        for r in await CalendarOverride.select(CalendarOverride.day, CalendarOverride.reason).where(
            (CalendarOverride.day >= start) & (CalendarOverride.day <= end)
        )
    }
    out = []
    for n in range((end - start).days + 1):
        day = start + timedelta(days=n)
        why, holiday, known = _national(day)
        if day in calendar.days_off:
            why = "day_off"
        elif day in calendar.extra_workdays:
            why = "extra_workday"
        out.append(
            DayOut(
                day.isoformat(),
                calendar.is_workday(day),
                why,
                holiday=holiday,
                reason=reasons.get(day),
                known=known,
            )
        )
    span = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    return CalendarOut(
        format_hours(calendar.hours), str(TIMEZONE), out, calendar.unknown_years(span)
    )


def _event(subject: str, payload: dict[str, object], actor: int) -> NewEvent:
    # No scope: the calendar is the whole city's, and no subscriber's feed needs the audit.
    return NewEvent(EventType.calendar_changed, subject, "", payload, actor)


async def set_override(day: date, body: OverrideIn, principal: Principal) -> OverrideOut:
    """Make ``day`` a day off or an extra working day (replacing an override it had)."""
    require_role(principal, Role.city_admin)
    reason = body.reason.strip()
    if not reason:
        raise Invalid("invalid_value", "an override needs a reason", field="reason")
    now = datetime.now(UTC)
    async with write_transaction(CalendarOverride._meta.db):
        await CalendarOverride.delete().where(CalendarOverride.day == day)
        await CalendarOverride.insert(
            CalendarOverride(
                day=day, working=body.working, reason=reason, set_by=principal.id, set_at=now
            )
        )
        payload = {"date": day.isoformat(), "working": body.working, "reason": reason}
        await append([_event(f"calendar:{day.isoformat()}", payload, principal.id)])
    forget()
    return OverrideOut(day.isoformat(), body.working, reason)


async def remove_override(day: date, principal: Principal) -> DayOut:
    """Return ``day`` to the national calendar (the day as it then is); 404 if it had no
    override."""
    require_role(principal, Role.city_admin)
    async with write_transaction(CalendarOverride._meta.db):
        gone = (
            await CalendarOverride.delete()
            .where(CalendarOverride.day == day)
            .returning(CalendarOverride.id)
        )
        if not gone:
            raise NotFound("calendar override", day.isoformat())
        payload = {"date": day.isoformat(), "removed": True}
        await append([_event(f"calendar:{day.isoformat()}", payload, principal.id)])
    forget()
    return (await days(day, day)).days[0]


async def set_hours(text: str, principal: Principal) -> HoursOut:
    """Set the city's working hours (``08:30-12:00,14:30-18:00``); 422 if they do not parse."""
    require_role(principal, Role.city_admin)
    try:
        hours = format_hours(parse_hours(text))
    except CalendarError as exc:
        raise Invalid("invalid_hours", str(exc), field="hours") from None
    async with write_transaction(WorkingHours._meta.db):
        await WorkingHours.insert(
            WorkingHours(hours=hours, set_by=principal.id, set_at=datetime.now(UTC))
        )
        await append([_event("calendar:hours", {"hours": hours}, principal.id)])
    forget()
    return HoursOut(hours)
