"""Assessment periods: a month (``2026-03``), a quarter (``2026-Q1``) or a year (``2026``),
as a half-open interval of instants in the city's timezone, and the period before it.

Every boundary is local midnight: the March of a city on Beijing time starts at
2026-03-01 00:00 +08:00, which is still February in UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from backend.core.errors import Invalid

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Period:
    """``kind`` is month, quarter or year; ``first`` its first day, ``months`` its length."""

    kind: str
    first: date
    months: int

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.first.year}-{self.first.month:02d}"
        if self.kind == "quarter":
            return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"
        return str(self.first.year)

    @property
    def after(self) -> date:
        """The first day after the period."""
        return _add_months(self.first, self.months)

    def labels(self) -> tuple[str, str, str]:
        """This period's label, then those of the quarter and year containing it (repeated
        where there are fewer), most specific first.

        >>> parse_period("2026-05").labels(), parse_period("2026").labels()
        (('2026-05', '2026-Q2', '2026'), ('2026', '2026', '2026'))
        """
        year = str(self.first.year)
        quarter = f"{year}-Q{(self.first.month - 1) // 3 + 1}"
        if self.kind == "month":
            return self.label, quarter, year
        if self.kind == "quarter":
            return self.label, year, year
        return year, year, year

    def previous(self) -> Period:
        """The period of the same kind just before this one.

        >>> parse_period("2026-01").previous().label, parse_period("2026-Q1").previous().label
        ('2025-12', '2025-Q4')
        """
        return Period(self.kind, _add_months(self.first, -self.months), self.months)

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """The period as [start, end) instants at local midnight in ``tz``.

        >>> from zoneinfo import ZoneInfo
        >>> start, end = parse_period("2026-03").bounds(ZoneInfo("Asia/Shanghai"))
        >>> start.isoformat(), (end - start).days
        ('2026-03-01T00:00:00+08:00', 31)
        """
        return _midnight(self.first, tz), _midnight(self.after, tz)

    def days(self) -> int:
        return (self.after - self.first).days


def parse_period(text: str) -> Period:
    """``YYYY-MM``, ``YYYY-Qn`` or ``YYYY``; 422 ``invalid_period`` otherwise.

    >>> parse_period("2026-Q2").first, parse_period("2026").months
    (datetime.date(2026, 4, 1), 12)
    """
    if m := _MONTH.match(text):
        year, month = int(m[1]), int(m[2])
        if 1 <= month <= 12 and year >= 1970:
            return Period("month", date(year, month, 1), 1)
    elif m := _QUARTER.match(text):
        year, quarter = int(m[1]), int(m[2])
        if year >= 1970:
            return Period("quarter", date(year, 3 * quarter - 2, 1), 3)
    elif (m := _YEAR.match(text)) and int(m[1]) >= 1970:
        return Period("year", date(int(m[1]), 1, 1), 12)
    raise Invalid(
        "invalid_period",
        f"a period is a month YYYY-MM, a quarter YYYY-Qn or a year YYYY, not {text!r}",
    )


def clipped_end(period: Period, tz: tzinfo, now: datetime) -> datetime:
    """The end of the period, or ``now`` if the period is still running: a case due later
    this month is not yet due.

    >>> from zoneinfo import ZoneInfo
    >>> tz = ZoneInfo("Asia/Shanghai")
    >>> clipped_end(parse_period("2026-03"), tz, datetime(2026, 3, 10, tzinfo=tz)).day
    10
    """
    start, end = period.bounds(tz)
    return max(start, min(end, now))


def elapsed_days(period: Period, tz: tzinfo, now: datetime) -> int:
    """Local days of the period that have begun by ``now`` (all of them for a past period).

    >>> from zoneinfo import ZoneInfo
    >>> tz = ZoneInfo("Asia/Shanghai")
    >>> elapsed_days(parse_period("2026-03"), tz, datetime(2026, 3, 10, 9, tzinfo=tz))
    10
    """
    start, end = period.bounds(tz)
    if now >= end:
        return period.days()
    if now < start:
        return 0
    return (now.astimezone(tz).date() - period.first).days + 1


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)
