"""The rules of 双报到, service hours and grading, as pure functions (no I/O).

Each check raises the API's error with a machine code; callers run them before writing.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from backend.core.errors import Conflict, Forbidden, Invalid

NEED_KINDS: dict[str, str] = {"volunteer": "志愿服务", "wish": "微心愿"}
CLAIM_LABELS: dict[str, str] = {
    "claimed": "已认领",
    "reported": "待确认",
    "confirmed": "已确认",
    "refused": "未通过",
}
# A need may run for a day's task or a month's wish, not for ever: its length caps the hours.
MAX_WINDOW = timedelta(days=366)
# A need is asked for the coming year at most: further ahead is a typo (and a time near the
# year 9999 does not fit a datetime once moved to UTC).
MAX_LEAD = timedelta(days=366)
MAX_CAPACITY = 1000

# 社区工作者"三岗十八级": three posts, eighteen grades, each post over its own band of grades
# (one grade per three years of service, moved up by education and assessment). The bands are
# those most cities publish: 正职 (party secretary, committee director) 7–18, 副职 (deputies)
# 4–15, 其他 (every other community worker) 1–12.
GRADE_RANGES: dict[str, tuple[int, int]] = {"正职": (7, 18), "副职": (4, 15), "其他": (1, 12)}
GRADE_POST_LABELS: dict[str, str] = {
    "正职": "社区正职（书记、主任）",
    "副职": "社区副职（副书记、副主任）",
    "其他": "其他社区工作者",
}
_PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|-Q([1-4]))?$")
_SPACES = re.compile(r"\s+")


def normalise_unit(text: str) -> str:
    """A work unit's name as the report groups it: trimmed, inner spaces collapsed.

    >>> normalise_unit("  乌海市 税务局 ")
    '乌海市 税务局'
    """
    unit = _SPACES.sub(" ", text).strip()
    if not unit:
        raise Invalid("empty_work_unit", "name the unit you work for")
    return unit


def check_window(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    """A need's time window: it ends after it starts, not in the past, within MAX_WINDOW, and
    starts within MAX_LEAD.

    >>> from datetime import UTC
    >>> t = datetime(2026, 5, 1, 9, tzinfo=UTC)
    >>> check_window(t, t + timedelta(hours=3), t)
    >>> check_window(t, t, t)
    Traceback (most recent call last):
    ...
    backend.core.errors.Invalid: the need must end after it starts
    """
    if ends_at <= starts_at:
        raise Invalid("bad_window", "the need must end after it starts")
    if ends_at - starts_at > MAX_WINDOW:
        raise Invalid("bad_window", f"a need runs at most {MAX_WINDOW.days} days")
    if ends_at <= now:
        raise Invalid("need_in_past", "the need would have ended already")
    if starts_at - now > MAX_LEAD:
        raise Invalid("bad_window", f"a need starts at most {MAX_LEAD.days} days ahead")


def window_hours(starts_at: datetime, ends_at: datetime) -> float:
    """The length of a need's window in hours: the most a member can report for it.

    >>> from datetime import UTC
    >>> t = datetime(2026, 5, 1, 9, tzinfo=UTC)
    >>> window_hours(t, t + timedelta(hours=2, minutes=30))
    2.5
    """
    return (ends_at - starts_at).total_seconds() / 3600


def check_claimable(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    """A need can be claimed until it ends (joining a running task is fine)."""
    if now >= ends_at:
        raise Conflict("need_ended", "this need has ended")


def check_report(hours: float, starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    """Hours are reported once the need has started: 0 < hours ≤ the window's length.

    >>> from datetime import UTC
    >>> t = datetime(2026, 5, 1, 9, tzinfo=UTC)
    >>> check_report(2.0, t, t + timedelta(hours=2), t + timedelta(hours=3))
    >>> check_report(2.5, t, t + timedelta(hours=2), t + timedelta(hours=3))
    Traceback (most recent call last):
    ...
    backend.core.errors.Invalid: at most 2 hours can be reported for this need
    """
    if now < starts_at:
        raise Conflict("not_started", "hours are reported after the need starts")
    if not hours > 0:
        raise Invalid("bad_hours", "report more than 0 hours")
    most = window_hours(starts_at, ends_at)
    if hours > most:
        raise Invalid("bad_hours", f"at most {most:g} hours can be reported for this need")


def check_reviewer(reviewer: int, member_person: int) -> None:
    """Nobody confirms their own hours, whatever their role (a community worker who is also a
    member of the community included).

    >>> check_reviewer(7, 7)
    Traceback (most recent call last):
    ...
    backend.core.errors.Forbidden: you cannot confirm or refuse your own service hours
    """
    if reviewer == member_person:
        raise Forbidden("own_hours", "you cannot confirm or refuse your own service hours")


def check_grade(post: str, grade: int) -> None:
    """A post of 三岗 and a grade inside its band.

    >>> check_grade("副职", 15)
    >>> check_grade("其他", 13)
    Traceback (most recent call last):
    ...
    backend.core.errors.Invalid: grade 13 is outside 其他's grades 1–12
    """
    if post not in GRADE_RANGES:
        raise Invalid("unknown_post", f"post must be one of {', '.join(GRADE_RANGES)}", post=post)
    low, high = GRADE_RANGES[post]
    if not low <= grade <= high:
        raise Invalid(
            "grade_out_of_range",
            f"grade {grade} is outside {post}'s grades {low}–{high}",
            low=low,
            high=high,
        )


def check_period(text: str) -> str:
    """A contest period: a year ``2026``, a quarter ``2026-Q2`` or a month ``2026-05``.

    >>> check_period("2026-Q2")
    '2026-Q2'
    >>> check_period("2026-13")
    Traceback (most recent call last):
    ...
    backend.core.errors.Invalid: a period is YYYY, YYYY-Qn or YYYY-MM, not '2026-13'
    """
    if not _PERIOD.match(text):
        raise Invalid(
            "invalid_period", f"a period is YYYY, YYYY-Qn or YYYY-MM, not {text!r}", period=text
        )
    return text
