"""Time limits and due times of cases, and the window in which a closed case may be reopened.

Limits are computed here and carried by the commands that start a clock (accept, escalate,
reopen, unshelve), with the calendar they run on: the workflow itself only asks
``worktime.due_time`` for the moment a command's limit runs out after its ``now``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from backend.cases.states import OPEN, CaseState, WorkflowError
from backend.core.worktime import scaled

REOPEN_WINDOW = timedelta(days=7)


def time_limit(limits: Mapping[str, timedelta], priority: str, factor: float = 1.0) -> timedelta:
    """The time a case of this priority gets: its category's limit, scaled by ``factor``.

    ``factor`` below 1 shortens limits in emergency mode (平急转换), working time or calendar
    time alike (``worktime.scaled``); the due time is ``worktime.due_time``'s.

    >>> limits = {"urgent": timedelta(hours=2), "normal": timedelta(days=3)}
    >>> time_limit(limits, "normal", factor=0.5)
    datetime.timedelta(days=1, seconds=43200)
    """
    if factor <= 0:
        raise WorkflowError("invalid_value", f"the time-limit factor must be positive: {factor}")
    if priority not in limits:
        raise WorkflowError("invalid_value", f"no time limit for priority {priority!r}")
    return scaled(limits[priority], factor)


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
