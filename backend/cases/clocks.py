"""The rule for due times under emergency, and the reading of a case's clock from its log.

Pure: events in, datetimes out. The rule, in one line::

    due = clock start + round(limit × factor) + approved extensions   (worktime.due_time)

in the city's working time, or on the wall clock for a limit in calendar hours (the
category's ``calendar_hours``, see categories.Limits);

- the *clock* is the one the workflow last started: submitting starts the time to accept
  (立案, the category's accept limit); accepting, escalating, reopening and unshelving start
  the time to close (the close limit). Its start is the ``at`` of that event;
- the *factor* is the smallest of the active modes around the case's grid (1.0 in peacetime,
  see backend/emergency/kinds.py), applied to the limit only: an extension a handler was
  granted is kept whole (in the clock's own time), an emergency does not take back what was
  granted;
- every switch, on or off, recomputes the due time of every open case in the switched area
  from its clock, so switching back gives exactly the peacetime due time, whatever the modes
  did meanwhile, and a case that another process created with a factor a second out of date
  is put right by the next switch.

A clock that started long ago can be past its shortened due time at once: such a case is
overdue, as any late case is, and the overdue scheduler escalates it. A case with no clock in
the log (a row written outside the workflow) keeps its due time.

>>> from datetime import timezone
>>> start = datetime(2026, 7, 1, 8, tzinfo=timezone.utc)
>>> events = [
...     ("case.submit", {"at": start.isoformat()}),
...     ("case.accept", {"at": (start + timedelta(hours=1)).isoformat()}),
...     ("case.dispatch", {"at": (start + timedelta(hours=2)).isoformat()}),
...     ("case.approve_extension", {"extension_seconds": 3600}),
... ]
>>> clock = clock_of(events)
>>> clock.limit, clock.start.hour, clock.extended
('close', 9, datetime.timedelta(seconds=3600))
>>> limits = {"normal": timedelta(hours=48)}
>>> due_under(clock, limits, "normal", 0.5, None).isoformat()
'2026-07-02T10:00:00+00:00'
>>> from backend.core.worktime import WorkingCalendar
>>> due_under(clock, limits, "normal", 0.5, WorkingCalendar()).isoformat()  # 25 working hours
'2026-07-07T11:30:00+08:00'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from backend.cases.timing import time_limit
from backend.core.events import EventType
from backend.core.worktime import WorkingCalendar, due_time

# The events that start a clock, and which of the category's limits it runs against.
CLOCK_STARTS: Mapping[str, str] = {
    EventType.case_submit: "accept",
    EventType.case_accept: "close",
    EventType.case_escalate: "close",
    EventType.case_reopen: "close",
    EventType.case_unshelve: "close",
}
EXTENDED = EventType.case_approve_extension
CLOCK_EVENTS: tuple[str, ...] = (*CLOCK_STARTS, EXTENDED)


@dataclass(frozen=True)
class Clock:
    start: datetime
    limit: str  # "accept" or "close"
    extended: timedelta


def clock_of(events: Iterable[tuple[str, Mapping[str, Any]]]) -> Clock | None:
    """The clock running after ``events`` (type and payload, oldest first); None if none."""
    clock: Clock | None = None
    for kind, payload in events:
        if kind in CLOCK_STARTS:
            start = datetime.fromisoformat(payload["at"])
            clock = Clock(start, CLOCK_STARTS[kind], timedelta(0))
        elif kind == EXTENDED and clock is not None:
            granted = timedelta(seconds=payload["extension_seconds"])
            clock = replace(clock, extended=clock.extended + granted)
    return clock


def due_under(
    clock: Clock,
    limits: Mapping[str, timedelta],
    priority: str,
    factor: float,
    calendar: WorkingCalendar | None,
) -> datetime:
    """When a case on ``clock`` is due with ``factor``, in working time on ``calendar`` (None:
    the wall clock); ``limits`` is the clock's own table (the category's accept or close
    limits by priority). WorkflowError without a limit."""
    limit = time_limit(limits, priority, factor)
    return due_time(clock.start, limit, calendar, extended=clock.extended)
