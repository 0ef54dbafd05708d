"""Who may send and mark broadcast tasks, and the checks of their fields. Pure: no database.

Senders are centre staff and admins (``AREA_ROLES``), inside their own area: a community sends
to its grids and buildings, a street to its communities', a district or the city to theirs. An
item is marked by the people who hold a post in its grid (一格一长一警一专多兼 and the branch
secretary): the grid owns the work, and the count of households it reports is its own.

>>> staff = Territory(5, "community_staff", area_code="150302001001")
>>> may_send(staff, "150302001001"), may_send(staff, "150302001")
(True, False)
>>> worker = Territory(2, "grid_worker", grid_codes={"15030200100101"})
>>> may_mark(worker, "15030200100101"), may_mark(worker, "15030200100102")
(True, False)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from backend.core.areas import code_within, parent_code
from backend.core.errors import Invalid
from backend.core.territory import Territory

MAX_HOUSEHOLDS = 100_000  # households reached by one item: a building has hundreds at most
# A broadcast is work for this year's grids; a due time past it is a typo (and one near the
# year 9999 does not fit a datetime once moved to UTC).
MAX_DUE_AHEAD = timedelta(days=366)


def may_send(t: Territory, area_code: str) -> bool:
    return t.centre_area is not None and code_within(area_code, t.centre_area)


def may_mark(t: Territory, grid_code: str) -> bool:
    """Whoever holds a post in the grid, whatever their role."""
    return grid_code in t.grid_codes


def sees_grid(t: Territory, grid_code: str) -> bool:
    """Whether the person's work covers ``grid_code``: a post in it, or an area around it."""
    if grid_code in t.grid_codes:
        return True
    return t.centre_area is not None and code_within(grid_code, t.centre_area)


def sees_area(t: Territory, area_code: str) -> bool:
    """Whether a broadcast to ``area_code`` concerns the person: it overlaps their territory.

    >>> staff = Territory(5, "community_staff", area_code="150302001001")
    >>> sees_area(staff, "150302"), sees_area(staff, "150302001002")
    (True, False)
    """
    if any(code_within(g, area_code) for g in t.grid_codes):
        return True
    own = t.centre_area
    return own is not None and (code_within(area_code, own) or code_within(own, area_code))


def text_of(value: str, field: str) -> str:
    text = value.strip()
    if not text:
        raise Invalid("missing_field", f"{field} cannot be blank", field=field)
    return text


def due_of(value: datetime | None, now: datetime) -> datetime | None:
    """A due time with its timezone, in the future; None for a task with no deadline."""
    if value is None:
        return None
    if value.utcoffset() is None:
        raise Invalid("invalid_due", "give the due time with its timezone, e.g. +08:00")
    if value <= now:
        raise Invalid("invalid_due", f"the due time {value.isoformat()} has passed")
    if value - now > MAX_DUE_AHEAD:
        reason = f"the due time {value.isoformat()} is over {MAX_DUE_AHEAD.days} days ahead"
        raise Invalid("invalid_due", reason)
    return value


def households_of(value: int | None) -> int | None:
    """Households reached: a whole number from 0 (nobody home is a result too)."""
    if value is not None and not 0 <= value <= MAX_HOUSEHOLDS:
        raise Invalid(
            "invalid_households", f"households reached is 0 to {MAX_HOUSEHOLDS}, not {value}"
        )
    return value


def open_key(area_code: str, title: str) -> str:
    """What makes two broadcasts the same task while one is open: the area and the title."""
    return f"{area_code} {title}"


def chain(code: str) -> list[str]:
    """The code and every area above it, up to the city.

    >>> chain("150302001")
    ['150302001', '150302', '150300']
    """
    codes = [code]
    while (up := parent_code(codes[-1])) is not None:
        codes.append(up)
    return codes
