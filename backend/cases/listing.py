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

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from functools import reduce
from operator import or_
from typing import Any

from piccolo.columns import Column, Timestamptz
from piccolo.columns.combination import WhereRaw
from piccolo.querystring import QueryString

from backend.cases.records import case_out
from backend.cases.schemas import CaseOut
from backend.cases.service import actor_of
from backend.cases.states import OPEN, Kind, Source, Status
from backend.cases.tables import Case
from backend.core import clock
from backend.core.areas import Level, level_of_code, scope_prefix
from backend.core.db import raw, rows_of
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
# The open statuses as SQL literals: the partial indexes of the open cases (the migration of
# 2026-12-07T16:40) say the same words, and a planner uses them only for this very condition.
OPEN_SQL = ", ".join(f"'{s}'" for s in _OPEN)


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


def _code_branches(column: Column, actor: Territory) -> list[Any]:
    """``actor.covers(column)`` as SQL branches (any one of them): one per grid for grid roles,
    the area's prefix for centre staff and admins; none for residents and department staff
    (who see by department, ``_department``)."""
    if actor.role in GRID_ROLES:
        return [column == code for code in sorted(actor.grid_codes)]
    if actor.role in (Role.resident, Role.department) or actor.area_code is None:
        return []
    return [_within(column, actor.area_code)]


def _within(column: Column, area_code: str) -> Any:
    """Codes inside ``area_code``. A community's or street's codes are a range of the column's
    index; a district's or the city's are a large share of every case, which is read faster
    in inbox order (the due_at index) than gathered from the range and sorted: SQLite without
    STAT4 guesses a range's size, so the prefix alone (a LIKE, which it serves from no index)
    keeps it from choosing the range."""
    prefix = scope_prefix(area_code)
    if level_of_code(area_code) in (Level.city, Level.district):
        return _starts_with(column, prefix)
    following = prefix[:-1] + chr(ord(prefix[-1]) + 1)  # codes are digits: no overflow past 9
    return (column >= prefix) & (column < following) & _starts_with(column, prefix)


def _territory(actor: Territory) -> Any | None:
    """``actor.covers(owner_code)`` as SQL; None when the actor covers nothing."""
    branches = _code_branches(Case.owner_code, actor)
    return _any(branches) if branches else None


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
    waiting = Case.transfer_to.is_not_null()  # the partial index's own condition
    if actor.role in GRID_ROLES:
        codes = sorted(actor.grid_codes)
        return waiting & Case.transfer_to.is_in(codes) if codes else None
    if actor.role in (Role.resident, Role.department) or actor.area_code is None:
        return None
    return waiting & _starts_with(Case.transfer_to, scope_prefix(actor.area_code))


def _joined(actor: Territory) -> Any | None:
    """A case whose joint handling (联办) the actor's department takes part in."""
    if actor.role != Role.department or actor.department is None:
        return None
    theirs = Case.departments.is_not_null() & _like(
        Case.departments, f"%,{_escape_like(actor.department)},%"
    )
    if actor.area_code is None:
        return theirs
    return theirs & _starts_with(Case.owner_code, scope_prefix(actor.area_code))


def _few(actor: Territory) -> int:
    """How many of ``visible_branches``' last branches are the few cases a partial index of
    their own serves (a transfer waiting, a joint handling, the merged-into cases)."""
    return 1 + sum(b is not None for b in (_transferred_to(actor), _joined(actor)))


def _steered(principal: Principal, actor: Territory) -> list[tuple[Any, bool]]:
    """The branches of visibility, each with whether it has an index of its own: all but a
    district's or the city's prefix (``_within``)."""
    wide = _wide(actor)
    return [(b, not (wide and i >= 2)) for i, b in enumerate(visible_branches(principal, actor))]


# A community's or street's codes as one equality branch each, up to this many per column.
MAX_CODES = 64


async def _by_code(branches: list[tuple[Any, bool]], actor: Territory) -> list[tuple[Any, bool]]:
    """A community's or street's range of codes as one branch per code in use: a range of
    several codes is in code order, so its cases would be gathered and sorted (at 1,000,000
    cases a community's 13,000, each looked up for its status), where each code's are read in
    due order from the index and stop after the page."""
    if _wide(actor) or actor.area_code is None or actor.role in (*GRID_ROLES, Role.resident):
        return branches
    if actor.role == Role.department:
        return branches
    prefix = scope_prefix(actor.area_code)
    out = branches[:2]  # reported by, assigned to
    for column, branch in zip((Case.owner_code, Case.grid_code), branches[2:4], strict=True):
        codes = await _codes_within(column, prefix)
        out += [(column == c, True) for c in codes] if len(codes) <= MAX_CODES else [branch]
    return out + branches[4:]


async def _codes_within(column: Column, prefix: str) -> list[str]:
    """The codes in ``column`` that start with ``prefix``, one index lookup each (a loose
    index scan: neither database skips through an index by itself)."""
    name = column._meta.db_column_name
    following = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    rows = await raw(
        Case,
        "WITH RECURSIVE codes(code) AS ("
        f" SELECT min({name}) FROM case_record WHERE {name} >= {{}} AND {name} < {{}}"
        f" UNION ALL SELECT (SELECT min({name}) FROM case_record"
        f" WHERE {name} > codes.code AND {name} < {{}}) FROM codes WHERE codes.code IS NOT NULL"
        f") SELECT code FROM codes WHERE code IS NOT NULL LIMIT {MAX_CODES + 1}",
        prefix,
        following,
        following,
    )
    return [r["code"] for r in rows if r["code"].startswith(prefix)]


def _wide(actor: Territory) -> bool:
    return (
        actor.role not in GRID_ROLES
        and actor.role not in (Role.resident, Role.department)
        and actor.area_code is not None
        and level_of_code(actor.area_code) in (Level.city, Level.district)
    )


def visible_branches(principal: Principal, actor: Territory) -> list[Any]:
    """Who may see a case, as conditions any one of which suffices: each is served by an index
    ending in the inbox order (the migration of 2026-12-07T16:30), so a page is the union of
    each branch's first rows rather than a scan of every case."""
    own = Case.reporter == principal.id
    # The cases their duplicates were merged into (并案): few, read by a partial index.
    following = Case.followers.is_not_null() & _like(Case.followers, f"%,{principal.id},%")
    if principal.role == Role.resident:
        return [own, following]
    branches = [own, Case.assignee == principal.id]
    branches += _code_branches(Case.owner_code, actor)
    # The grid where a case happened keeps it in view, after an escalation too.
    branches += _code_branches(Case.grid_code, actor)
    # Then the few that partial indexes serve: a department's, a transfer waiting for the
    # actor, a joint handling the actor's department takes part in, the merged-into cases.
    for extra in (_department(actor), _transferred_to(actor), _joined(actor)):
        if extra is not None:
            branches.append(extra)
    return [*branches, following]


def _visible(principal: Principal, actor: Territory) -> Any:
    return _any(visible_branches(principal, actor))


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
    return [_visible(principal, actor), *_filtered(filters, principal, actor, now)]


def _filtered(
    filters: Filters,
    principal: Principal,
    actor: Territory,
    now: datetime,
    *,
    steer: bool = False,
    hits: list[int] | None = None,
) -> list[Any]:
    """The filters as conditions that all hold. ``steer``: for a branch of visibility with an
    index of its own, written so that SQLite reads none of their indexes (below). ``hits``:
    the cases the text index found for ``q``, when they are few (``_few_hits``)."""
    where = []
    is_in = _unindexed_in if steer else _indexed_in
    if filters.areas:
        where.append(_any(_starts_with(Case.owner_code, scope_prefix(a)) for a in filters.areas))
    if filters.grids:
        where.append(is_in(Case.grid_code, filters.grids))
    if filters.statuses:
        where.append(is_in(Case.status, filters.statuses))
    if filters.categories:
        where.append(_any(_starts_with(Case.category, c) for c in filters.categories))
    if filters.kinds:
        where.append(is_in(Case.kind, filters.kinds))
    if filters.sources:
        where.append(is_in(Case.source, filters.sources))
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
        if hits is not None:
            where.append(Case.id.is_in(hits))
        elif (found := _text_hits(filters.q)) is not None:
            where.append(WhereRaw("id IN ({})", found))
        if _DIGITS.search(filters.q.translate(_FULL_WIDTH_DIGITS)):
            # Digits searched in text shown masked would tell the masked digits one guess
            # at a time: they find only cases whose contact the asker sees whole.
            where.append(_sees_contact(principal, actor))
    if filters.mine:
        where.append((Case.reporter == principal.id) | (Case.assignee == principal.id))
    return where


def _indexed_in(column: Column, values: Iterable[str]) -> Any:
    return column.is_in(list(values))


def _unindexed_in(column: Column, values: Iterable[str]) -> Any:
    """``column IN (values)`` that no index serves (SQLite's unary +, PostgreSQL's || '').

    For a branch of visibility with an index of its own, which is never larger than its
    territory's cases. SQLite's statistics (without STAT4) know how many rows a status has on
    average, not that most cases are closed: given "status = closed" and a community it would
    read every closed case of the city in due order through the status index. PostgreSQL
    ANDs the open cases' bitmap (120,000 of 1,000,000) with a community's 13,000: measured,
    40 ms where the community's index alone takes 2."""
    values = list(values)
    marks = ", ".join("{}" for _ in values)
    return WhereRaw(f"{_unindexed(column)} IN ({marks})", *values)


def _unindexed(column: Column) -> str:
    """``column`` as an expression no index serves (SQLite's unary +; on PostgreSQL an
    operation that changes nothing)."""
    name = f'"{column._meta.db_column_name}"'
    if Case._meta.db.engine_type == "sqlite":
        return f"+{name}"
    return f"({name} + INTERVAL '0 s')" if isinstance(column, Timestamptz) else f"({name} || '')"


def _text_hits(q: str) -> QueryString | None:
    """On SQLite, the cases whose text holds ``q`` by the trigram index (case_search): a
    superset that the LIKE beside it narrows to the exact answer. PostgreSQL's LIKE is served
    by its pg_trgm indexes as written.

    Three characters or more are a phrase of trigrams. Two (most Chinese words) are the
    prefix of the trigrams that hold them: each indexed text ends in two U+001F, so every
    occurrence starts some trigram. One character would be most of the vocabulary: LIKE alone.
    """
    if Case._meta.db.engine_type != "sqlite" or len(q) < 2:
        return None
    if len(q) >= 3:
        return QueryString("SELECT rowid FROM case_search WHERE case_search MATCH {}", _phrase(q))
    folded = q.lower()
    following = folded[:-1] + chr(ord(folded[-1]) + 1)
    return QueryString(
        "SELECT rowid FROM case_search WHERE case_search MATCH (SELECT coalesce("
        "group_concat('\"' || replace(term, '\"', '\"\"') || '\"', ' OR '), '\"\x1f\x1f\x1f\"')"
        " FROM case_search_terms WHERE term >= {} AND term < {})",
        folded,
        following,
    )


# Text index hits read by id, whoever may see them, up to this many; more are joined in SQL.
FEW_HITS = 2000


async def _few_hits(q: str | None) -> list[int] | None:
    """The ids the text index finds for ``q``, if at most FEW_HITS (SQLite): read by id, they
    cost less than a branch of visibility joined with the index's answer once per branch and
    run (measured at 1,000,000 cases: a community's search 1.1 s)."""
    found = None if q is None else _text_hits(q)
    if found is None:
        return None
    rows = await Case.raw("{} LIMIT {}", found, FEW_HITS + 1)
    return None if len(rows) > FEW_HITS else [r["rowid"] for r in rows]


def _phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


class Segment(IntEnum):
    """The inbox order in three runs, each read from an index in (due_at, id) order."""

    OVERDUE = 0  # open and past due, the most overdue first
    DATED = 1  # every other case with a due time, the nearest first
    UNDATED = 2  # no due time, oldest first


def _segment(segment: Segment, now: datetime, few: bool = False) -> Any:
    """One run of the inbox order as a condition. ``few``: for a branch of few cases read by a
    partial index of its own, with the status and the due time written so that no index
    serves them: else both databases read the city's cases in due order, or every overdue one
    through the status index, to find the few (4 s at 1,000,000 cases, bench/caselist.py)."""
    status, due = (
        (_unindexed(Case.status), _unindexed(Case.due_at)) if few else ("status", "due_at")
    )
    # A paused case (挂起) is not overdue while its clock stands still.
    overdue = f"{due} < {{}} AND {status} IN ({OPEN_SQL}) AND paused_at IS NULL"
    if segment is Segment.OVERDUE:  # served by a partial index of the open cases
        return WhereRaw(overdue, now)
    if segment is Segment.DATED:
        # NOT(...) only filters: the index is read from the first due time on, in order.
        return WhereRaw(f"{due} IS NOT NULL AND NOT ({overdue})", now)
    return WhereRaw(f"{due} IS NULL")


def _after(segment: Segment, due_at: datetime | None, case_id: int, few: bool = False) -> Any:
    if segment is Segment.UNDATED or due_at is None:
        return Case.id > case_id
    due = _unindexed(Case.due_at) if few else "due_at"
    return WhereRaw(f"({due}, id) > ({{}}, {{}})", due_at, case_id)


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the clock the first page read overdue by (kept, so that a case
    falling overdue meanwhile does not move between runs as pages are read), the run, and the
    last case's due time and id."""

    now: datetime
    segment: Segment
    due_at: datetime | None
    id: int

    def encode(self) -> str:
        due = None if self.due_at is None else self.due_at.isoformat()
        raw = json.dumps([self.now.isoformat(), int(self.segment), due, self.id])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            now, segment, due, case_id = raw
            cursor = cls(
                datetime.fromisoformat(now),
                Segment(segment),
                None if due is None else datetime.fromisoformat(due),
                int(case_id),
            )
        except (ValueError, TypeError, UnicodeDecodeError, binascii.Error) as exc:
            raise BadRequest("invalid_cursor", "cursor is not one this list gave") from exc
        if cursor.now.tzinfo is None or (
            cursor.due_at is not None and cursor.due_at.tzinfo is None
        ):
            raise BadRequest("invalid_cursor", "cursor is not one this list gave")
        return cursor


# Counted up to this many: beyond it the answer says "at least", and no count reads the table.
COUNT_CAP = 1000


@dataclass
class Page:
    items: list[CaseOut]
    matched: int  # exact up to COUNT_CAP, else COUNT_CAP with ``capped``
    capped: bool = False
    next_cursor: str | None = None


async def page(
    filters: Filters,
    principal: Principal,
    *,
    limit: int,
    offset: int = 0,
    cursor: str | None = None,
) -> Page:
    """One page of the cases ``principal`` may see, contact phones masked for them.

    From the start or a ``cursor``: read by keyset, run by run of the inbox order, each run the
    union of the visibility branches' first rows. ``offset`` without a cursor reads as before,
    sorting every match: kept for clients that page by it.
    """
    actor = actor_of(principal)
    start = None if cursor is None else Cursor.decode(cursor)
    now = clock.now() if start is None else start.now  # the workflow's clock
    hits = await _few_hits(filters.q)
    if hits == []:
        return Page([], 0)
    filtered = _filtered(filters, principal, actor, now, hits=hits)
    steered = _filtered(filters, principal, actor, now, steer=True, hits=hits)
    branches = _steered(principal, actor)
    anyone = _any(b for b, _ in branches)
    if start is None and offset > 0:
        rows = await _by_offset([anyone, *filtered], now, limit, offset)
        more = len(rows) > limit
    else:
        # Closed cases only, say: none is overdue, and the run of the overdue is not read.
        first = (
            Segment.DATED if filters.statuses and not set(filters.statuses) & set(_OPEN) else None
        )
        if start is not None:
            first = start.segment
        if hits is not None:  # few: read by id, then sorted
            runs = [(anyone, filtered, False)]
        else:
            coded = await _by_code(branches, actor)
            few = len(coded) - _few(actor)
            runs = [(b, steered if own else filtered, i >= few) for i, (b, own) in enumerate(coded)]
        rows, more = await _by_keyset(runs, now, start, limit, first)
    rows = rows[:limit]
    matched, capped = await _count(_counted(branches, actor, steered, filtered))
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = Cursor(now, _segment_of(last, now), last["due_at"], last["id"]).encode()
    return Page([case_out(row, actor) for row in rows], matched, capped, next_cursor)


def _segment_of(row: dict[str, Any], now: datetime) -> Segment:
    if row["due_at"] is None:
        return Segment.UNDATED
    if row["due_at"] < now and row["status"] in _OPEN and row["paused_at"] is None:
        return Segment.OVERDUE
    return Segment.DATED


async def _by_keyset(
    branches: list[tuple[Any, list[Any], bool]],
    now: datetime,
    start: Cursor | None,
    limit: int,
    first: Segment | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """Rows from ``start`` (or the ``first`` run, or the beginning) to one past ``limit``;
    whether there are more."""
    rows: list[dict[str, Any]] = []
    first = Segment.OVERDUE if first is None else first
    for segment in Segment:
        if segment < first:
            continue
        resume = start if start is not None and segment == start.segment else None
        parts = [
            [
                branch,
                *filtered,
                _segment(segment, now, few),
                *([_after(segment, resume.due_at, resume.id, few)] if resume else []),
            ]
            for branch, filtered, few in branches
        ]
        wanted = limit + 1 - len(rows)  # one more than the page: whether there is a next
        rows += await _run(parts, wanted)
        if len(rows) > limit:
            return rows, True
    return rows, False


async def _run(branches: list[list[Any]], wanted: int) -> list[dict[str, Any]]:
    """The first ``wanted`` rows of one run: each branch (its conditions, all to hold) its
    first rows from its index, then those (few) rows again by id, ordered. One branch is read
    directly.

    The statements are put together from the conditions' query strings: a Piccolo select
    builds its column list anew each time, which cost a page of 50 a millisecond. The limit
    is written out: PostgreSQL plans a bound one for any number of rows."""
    order = f"ORDER BY due_at, id LIMIT {int(wanted)}"
    if len(branches) == 1:
        query = QueryString(f"SELECT * FROM case_record WHERE {{}} {order}", _all(branches[0]))
        return await rows_of(Case, query)
    union = QueryString(
        " UNION ".join(
            f"SELECT id FROM (SELECT id FROM case_record WHERE {{}} {order}) AS branch{i}"
            for i in range(len(branches))
        ),
        *(_all(where) for where in branches),
    )
    query = QueryString(f"SELECT * FROM case_record WHERE id IN ({{}}) {order}", union)
    return await rows_of(Case, query)


def _all(conditions: list[Any]) -> QueryString:
    """Conditions all to hold, as one query string."""
    return QueryString(
        " AND ".join("({})" for _ in conditions), *(c.querystring for c in conditions)
    )


async def _by_offset(
    conditions: list[Any], now: datetime, limit: int, offset: int
) -> list[dict[str, Any]]:
    return await (
        Case.select()
        .where(*conditions)
        .order_by(*_inbox_order(now))
        .limit(limit + 1)
        .offset(offset)
    )


def _counted(
    branches: list[tuple[Any, bool]], actor: Territory, steered: list[Any], filtered: list[Any]
) -> list[list[Any]]:
    """Conditions whose matches add up to the page's count, each all to hold: the branches of
    visibility an index serves as one OR (SQLite reads it index by index and stops at the
    cap), then each of the few that a partial index of its own serves, less what the branches
    before it match. In the one OR, a few's condition, which only its partial index serves,
    made SQLite read the whole table until the cap (36 ms for a community's inbox at 1,000,000
    cases)."""
    cut = len(branches) - _few(actor)
    main = [b for b, _ in branches[:cut]]
    out = [[_any(main), *(steered if all(own for _, own in branches[:cut]) else filtered)]]
    before = list(main)
    for branch, _ in branches[cut:]:
        counted = WhereRaw("NOT COALESCE({}, FALSE)", _any(before).querystring)
        out.append([branch, *steered, counted])
        before.append(branch)
    return out


async def _count(conditions: list[list[Any]]) -> tuple[int, bool]:
    """How many match, over statements that match no case twice (``_counted``), each counting
    no further than COUNT_CAP + 1 rows."""
    total = 0
    for where in conditions:
        [row] = await rows_of(
            Case,
            QueryString(
                "SELECT count(*) AS n FROM (SELECT id FROM case_record WHERE {}"
                f" LIMIT {COUNT_CAP + 1}) AS capped",
                _all(where),
            ),
        )
        total += int(row["n"])
        if total > COUNT_CAP:
            break
    return min(total, COUNT_CAP), total > COUNT_CAP


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
