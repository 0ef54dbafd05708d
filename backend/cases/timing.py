"""Time limits and due times of cases, and the window in which a closed case may be reopened.

Limits are computed here and carried by the commands that start a clock (accept, escalate,
reopen, unshelve): the workflow itself only adds a command's limit to its ``now``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from backend.cases.states import OPEN, CaseState, WorkflowError

REOPEN_WINDOW = timedelta(days=7)


def time_limit(limits: Mapping[str, timedelta], priority: str, factor: float = 1.0) -> timedelta:
    """The time a case of this priority gets: its category's limit, scaled by ``factor``.

    ``factor`` below 1 shortens limits in emergency mode (平急转换). The result is rounded to
    whole seconds so that the same inputs always give the same due time.

    >>> limits = {"urgent": timedelta(hours=2), "normal": timedelta(days=3)}
    >>> time_limit(limits, "normal", factor=0.5)
    datetime.timedelta(days=1, seconds=43200)
    """
    if factor <= 0:
        raise WorkflowError("invalid_value", f"the time-limit factor must be positive: {factor}")
    if priority not in limits:
        raise WorkflowError("invalid_value", f"no time limit for priority {priority!r}")
    return timedelta(seconds=round(limits[priority].total_seconds() * factor))


def due_time(
    limits: Mapping[str, timedelta], priority: str, start: datetime, factor: float = 1.0
) -> datetime:
    """When a case started at ``start`` is due.

    Calendar logic is deliberately simple: wall-clock hours, nights, weekends and holidays
    included (接诉即办 counts most limits that way); a working-day calendar would go here.

    >>> from datetime import timezone
    >>> start = datetime(2025, 5, 6, 9, tzinfo=timezone.utc)
    >>> due_time({"urgent": timedelta(hours=2)}, "urgent", start).isoformat()
    '2025-05-06T11:00:00+00:00'
    """
    return start + time_limit(limits, priority, factor)


def is_overdue(state: CaseState, now: datetime) -> bool:
    """Whether an open case is past its due time; shelved and finished cases never are.

    >>> from datetime import timezone
    >>> due = datetime(2025, 5, 6, 9, tzinfo=timezone.utc)
    >>> case = CaseState("request", "accepted", "15030200100101", due_at=due)
    >>> is_overdue(case, due), is_overdue(case, due + timedelta(seconds=1))
    (False, True)
    """
    return state.status in OPEN and state.due_at is not None and now > state.due_at


def check_reopen_window(closed_at: datetime, now: datetime, window: timedelta) -> None:
    """Raise WorkflowError("too_late") if ``now`` is more than ``window`` after ``closed_at``."""
    if now > closed_at + window:
        raise WorkflowError(
            "too_late",
            f"a case can be reopened within {window} of closing; it closed at "
            f"{closed_at.isoformat()}",
        )
