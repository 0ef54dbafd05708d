"""Lists of cases: the ones a person may see, filtered, in inbox order (``export`` writes them
as CSV).

Who sees what is ``service.read``'s rule written as SQL, so that listing never loads a city's
cases to sort them out in Python: residents see the cases they reported; everyone else also
the cases assigned to them, those that happened in it (``grid_code``, for good: after an
escalation too) and those owned in their territory (``actors.covers``): their grids
for grid roles, every code under their area's prefix for centre staff and admins; department
staff also the cases dispatched to their department (``actors.serves``) or that it joined
(联办); the target of a waiting transfer sees it; a reporter also the cases their duplicates were
merged into (并案).

Codes are prefixes of each other (``levels``), so area and category filters are ``LIKE 'x%'``;
the user's text is escaped first, so that ``_`` and ``%`` in it match only themselves.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_
from typing import Any

from piccolo.columns import Column
from piccolo.columns.combination import WhereRaw
from piccolo.querystring import QueryString

from backend.cases.records import case_out
from backend.cases.schemas import CaseOut
from backend.cases.service import actor_of
from backend.cases.states import OPEN, Kind, Source, Status
from backend.cases.tables import Case
from backend.core import clock
from backend.core.areas import level_of_code, scope_prefix
from backend.core.errors import BadRequest, Invalid
from backend.core.principal import Principal
from backend.core.roles import GRID_ROLES, MANAGERS, Role
from backend.core.spatial import parse_bbox, point_in_bbox
from backend.core.territory import Territory

Bbox = tuple[float, float, float, float]
# Values a repeated filter may take: more than any screen offers, and few enough that the OR of
# them stays far below SQLite's limit on the depth of an expression.
MAX_VALUES = 100
_OPEN = sorted(str(s) for s in OPEN)


@dataclass(frozen=True)
class Filters:
    """What the asker narrowed the list to; each tuple is an OR of its values, filters AND."""

    areas: tuple[str, ...] = ()
    grids: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    overdue: bool | None = None
    bbox: Bbox | None = None
    q: str | None = None
    mine: bool = False


@dataclass
class Page:
    items: list[CaseOut]
    matched: int


def parse_filters(
    *,
    areas: Iterable[str] = (),
    grids: Iterable[str] = (),
    statuses: Iterable[str] = (),
    categories: Iterable[str] = (),
    kinds: Iterable[str] = (),
    sources: Iterable[str] = (),
    overdue: bool | None = None,
    bbox: str | None = None,
    q: str | None = None,
    mine: bool = False,
) -> Filters:
    """Filters from query values: 422 for unknown statuses, kinds and malformed area codes."""
    return Filters(
        areas=_known("area", areas, _is_code, "invalid_code"),
        grids=_unique("grid", grids),
        statuses=_known("status", statuses, _is_in(Status), "unknown_status"),
        categories=_unique("category", categories),
        kinds=_known("kind", kinds, _is_in(Kind), "unknown_kind"),
        sources=_known("source", sources, _is_in(Source), "unknown_source"),
        overdue=overdue,
        bbox=None if bbox is None else parse_bbox(bbox),
        q=q or None,
        mine=mine,
    )


def _unique(name: str, values: Iterable[str]) -> tuple[str, ...]:
    unique = tuple(dict.fromkeys(values))
    if len(unique) > MAX_VALUES:
        raise BadRequest(
            "too_many_values", f"{name} may be given at most {MAX_VALUES} times", name=name
        )
    return unique


def _known(
    name: str, values: Iterable[str], valid: Callable[[str], bool], code: str
) -> tuple[str, ...]:
    unique = _unique(name, values)
    for value in unique:
        if not valid(value):
            raise Invalid(code, f"{name} cannot be {value!r}", name=name, value=value)
    return unique


def _is_code(value: str) -> bool:
    try:
        level_of_code(value)
    except ValueError:
        return False
    return True


def _is_in(words: type[Status] | type[Kind] | type[Source]) -> Callable[[str], bool]:
    names = {str(member) for member in words}
    return names.__contains__


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like(column: Column, pattern: str, *, fold_case: bool = False) -> WhereRaw:
    # Piccolo's like() has no ESCAPE clause, and SQLite knows no default escape character.
    name = f'"{column._meta.db_column_name}"'
    if fold_case:  # lower() on both sides: SQLite and PostgreSQL then agree on ASCII letters
        return WhereRaw(f"lower({name}) LIKE lower({{}}) ESCAPE '\\'", pattern)
    return WhereRaw(f"{name} LIKE {{}} ESCAPE '\\'", pattern)


def _starts_with(column: Column, prefix: str) -> WhereRaw:
    return _like(column, _escape_like(prefix) + "%")


def _any(conditions: Iterable[Any]) -> Any:
    return reduce(or_, conditions)


def _territory(actor: Territory) -> Any | None:
    """``actor.covers(owner_code)`` as SQL; None when the actor covers nothing."""
    if actor.role in GRID_ROLES:
        return Case.owner_code.is_in(sorted(actor.grid_codes)) if actor.grid_codes else None
    if actor.role in (Role.resident, Role.department) or actor.area_code is None:
        return None  # department staff see by department (_department), not by area
    return _starts_with(Case.owner_code, scope_prefix(actor.area_code))


def _where_it_happened(actor: Territory) -> Any | None:
    """``actor.covers(grid_code)`` as SQL: the grid where a case happened keeps it in view."""
    if actor.role in GRID_ROLES:
        return Case.grid_code.is_in(sorted(actor.grid_codes)) if actor.grid_codes else None
    if actor.role in (Role.resident, Role.department) or actor.area_code is None:
        return None
    return _starts_with(Case.grid_code, scope_prefix(actor.area_code))


def _department(actor: Territory) -> Any | None:
    """``actor.serves(department, owner_code)`` as SQL; None for non-department staff."""
    if actor.role != Role.department or actor.department is None:
        return None
    theirs = Case.department == actor.department
    if actor.area_code is None:
        return theirs
    return theirs & _starts_with(Case.owner_code, scope_prefix(actor.area_code))


_DIGITS = re.compile(r"\d{3}", re.ASCII)
_FULL_WIDTH_DIGITS = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)})


def _sees_contact(principal: Principal, actor: Territory) -> Any:
    """``policy.sees_contact`` as SQL: the reporter, the assignee, the owner's managers."""
    seen = (Case.reporter == principal.id) | (Case.assignee == principal.id)
    managed = _territory(actor) if actor.role in MANAGERS else None
    return seen if managed is None else seen | managed


def _transferred_to(actor: Territory) -> Any | None:
    """A transfer waiting for a grid or area the actor covers (``service._visible``)."""
    if actor.role in GRID_ROLES:
        return Case.transfer_to.is_in(sorted(actor.grid_codes)) if actor.grid_codes else None
    if actor.role in (Role.resident, Role.department) or actor.area_code is None:
        return None
    return _starts_with(Case.transfer_to, scope_prefix(actor.area_code))


def _joined(actor: Territory) -> Any | None:
    """A case whose joint handling (联办) the actor's department takes part in."""
    if actor.role != Role.department or actor.department is None:
        return None
    theirs = _like(Case.departments, f"%,{_escape_like(actor.department)},%")
    if actor.area_code is None:
        return theirs
    return theirs & _starts_with(Case.owner_code, scope_prefix(actor.area_code))


def _visible(principal: Principal, actor: Territory) -> Any:
    # The reporter's own cases, and those their duplicates were merged into (并案).
    own = (Case.reporter == principal.id) | _like(Case.followers, f"%,{principal.id},%")
    if principal.role == Role.resident:
        return own
    seen = own | (Case.assignee == principal.id)
    extras = (
        _territory(actor),
        _where_it_happened(actor),
        _department(actor),
        _transferred_to(actor),
        _joined(actor),
    )
    for extra in extras:
        if extra is not None:
            seen = seen | extra
    return seen


def _overdue(now: datetime) -> Any:
    # A paused case (挂起) is not overdue while its clock stands still.
    return (Case.due_at < now) & Case.status.is_in(_OPEN) & Case.paused_at.is_null()


def _not_overdue(now: datetime) -> Any:
    return (
        Case.due_at.is_null()
        | (Case.due_at >= now)
        | Case.status.not_in(_OPEN)
        | Case.paused_at.is_not_null()
    )


def matching(filters: Filters, principal: Principal, actor: Territory, now: datetime) -> list[Any]:
    """The cases ``actor`` may see that match ``filters``, as conditions that all hold (AND):
    visibility first, then each filter given."""
    where = [_visible(principal, actor)]
    if filters.areas:
        where.append(_any(_starts_with(Case.owner_code, scope_prefix(a)) for a in filters.areas))
    if filters.grids:
        where.append(Case.grid_code.is_in(list(filters.grids)))
    if filters.statuses:
        where.append(Case.status.is_in(list(filters.statuses)))
    if filters.categories:
        where.append(_any(_starts_with(Case.category, c) for c in filters.categories))
    if filters.kinds:
        where.append(Case.kind.is_in(list(filters.kinds)))
    if filters.sources:
        where.append(Case.source.is_in(list(filters.sources)))
    if filters.overdue is not None:
        where.append(_overdue(now) if filters.overdue else _not_overdue(now))
    if filters.bbox is not None:
        where.append(point_in_bbox(Case.lon, Case.lat, filters.bbox))
    if filters.q is not None:
        pattern = f"%{_escape_like(filters.q)}%"
        where.append(
            _like(Case.description, pattern, fold_case=True)
            | _like(Case.address, pattern, fold_case=True)
        )
        if _DIGITS.search(filters.q.translate(_FULL_WIDTH_DIGITS)):
            # Digits searched in text shown masked would tell the masked digits one guess
            # at a time: they find only cases whose contact the asker sees whole.
            where.append(_sees_contact(principal, actor))
    if filters.mine:
        where.append((Case.reporter == principal.id) | (Case.assignee == principal.id))
    return where


def _inbox_order(now: datetime) -> tuple[Any, ...]:
    """Overdue first, then the nearest deadline (none last), then the oldest case."""
    statuses = ", ".join("{}" for _ in _OPEN)
    overdue_last = QueryString(
        f"CASE WHEN due_at < {{}} AND status IN ({statuses}) AND paused_at IS NULL"
        " THEN 0 ELSE 1 END",
        now,
        *_OPEN,
    )
    # Spelled out: PostgreSQL sorts NULL last by default, SQLite first.
    undated_last = QueryString("CASE WHEN due_at IS NULL THEN 1 ELSE 0 END")
    return overdue_last, undated_last, Case.due_at, Case.id


async def page(filters: Filters, principal: Principal, *, limit: int, offset: int) -> Page:
    """One page of the cases ``principal`` may see, contact phones masked for them."""
    actor = actor_of(principal)
    now = clock.now()  # the overdue filter and order: the workflow's clock
    conditions = matching(filters, principal, actor, now)
    rows = (
        await Case.select()
        .where(*conditions)
        .order_by(*_inbox_order(now))
        .limit(limit)
        .offset(offset)
    )
    matched = await Case.count().where(*conditions)
    return Page([case_out(row, actor) for row in rows], matched)
