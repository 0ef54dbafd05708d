"""Running the assessment's SQL: the sums of every unit of the asked levels for a period, and
the names of the units. Only aggregated rows come back to Python, never the cases.

Patrol, task and volunteer-hour figures need other features' tables (positions, tasks,
party); a source whose tables are not installed is left out, and the answer says so.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime, tzinfo
from decimal import Decimal
from functools import cache
from typing import Any

from backend.areas.tables import Area
from backend.assessment import case_sql, other_sql, rollup_sql
from backend.assessment.dialect import Dialect
from backend.assessment.indicators import BY_KEY, MEANS, RATES, SELF_HANDLED
from backend.assessment.periods import Period, clipped_end, elapsed_days
from backend.assessment.runner import INDEXED, Query, run_all
from backend.cases.tables import Case, Department
from backend.core.areas import level_of_code, scope_prefix
from backend.grids.tables import Grid
from backend.people.tables import Person

LEVELS = ("worker", "grid", "community", "street", "district")
# Case figures grouped by the assignee's grade, or by the stars of the grid's party branch; each
# read with the weights of the level it groups.
GROUPS: Mapping[str, str] = {"grade": "worker", "stars": "grid"}
# Functional departments (职能部门): the case figures of the cases with each department now,
# scored with weights of their own. Departments lie in no area: the level takes no ``area``.
DEPARTMENT = "department"
# The levels with case figures only, and no area.
CASE_ONLY = frozenset({*GROUPS, DEPARTMENT})
# The levels whose weights the city admin sets.
WEIGHTED_LEVELS = (*LEVELS, DEPARTMENT)
SOURCES: Mapping[str, tuple[str, ...]] = {
    "patrol": ("track_point",),
    "tasks": ("task_item", "broadcast"),
    "hours": ("need_claim", "community_need", "party_member"),
    "grade": ("worker_grade",),
    "stars": ("branch_star",),
}
MISSING = {
    "patrol": "the positions feature (track_point) is not installed",
    "tasks": "the broadcast tasks feature (task_item) is not installed",
    "hours": "the party members feature (need_claim) is not installed",
    "grade": "the party feature's worker grades (worker_grade) are not installed",
    "stars": "the party feature's branch stars (branch_star) are not installed",
}
# What a unit that nothing happened in counts, source by source.
_ZERO: Mapping[str, dict[str, Any]] = {
    "cases": dict.fromkeys(case_sql.FLAGS, 0)
    | {"rating_sum": 0, "response_n": 0, "response_sum_s": None, "response_p90_s": None}
    | {"handling_n": 0, "handling_sum_s": None, "handling_p90_s": None},
    "tasks": {"task_items": 0, "tasks_done": 0},
    "hours": {"volunteer_hours": 0.0},
}
_WORKER_POSTS = ("leader", "police", "fulltime", "parttime")

Raw = dict[str, dict[str, dict[str, Any]]]  # level → unit → sums


@cache
def installed_sources() -> frozenset[str]:
    """The optional sources whose tables are part of this installation's apps."""
    from backend.core.db import registry

    tables = {
        table._meta.tablename
        for app in registry().app_configs.values()
        for table in app.table_classes
    }
    return frozenset(s for s, needed in SOURCES.items() if set(needed) <= tables)


def _number(value: Decimal) -> int | float:
    # PostgreSQL's SUM of a bigint is a numeric; the figures are plain numbers.
    return int(value) if value == value.to_integral_value() else float(value)


def _params(period: Period, tz: tzinfo, now: datetime) -> dict[str, tuple[str, Any]]:
    start, _ = period.bounds(tz)
    return {"s": ("timestamp", start), "e": ("timestamp", clipped_end(period, tz, now))}


def available_levels() -> tuple[str, ...]:
    return (*LEVELS, DEPARTMENT, *(g for g in GROUPS if g in installed_sources()))


# The case indicators read off the case rows alone (the flags, and the rates and means of
# them); the others need the workflow events.
_CASE_PART = (
    frozenset(case_sql.CASE_FLAGS)
    | {key for key, (_, bottom) in RATES.items() if bottom in case_sql.CASE_FLAGS}
    | {"satisfaction_mean"}
)


# The event part's facts behind a sum or figure that is not one of them.
_EVENT_FACTS: Mapping[str, tuple[str, ...]] = {
    "accurate": ("accepted", "voided"),
    "response_sum_s": ("response_s",),
    "response_n": ("response_s",),
    "response_p90_s": ("response_s",),
    "handling_sum_s": ("handling_s",),
    "handling_n": ("handling_s",),
    "handling_p90_s": ("handling_s",),
}


def _sums_behind(wanted: Collection[str]) -> set[str]:
    """The sums the ``wanted`` figures are derived from (a rate's or a mean's own, a closure
    rate's self-handled part), and the facts behind those that are none."""
    sums: set[str] = set()
    for key in wanted:
        if key in RATES:
            sums.update(RATES[key])
        elif key in MEANS:
            sums.update(MEANS[key][:2])
        else:
            sums.add(key)
    sums |= {part for key, part in SELF_HANDLED.items() if key in sums}
    return {f for s in sums for f in _EVENT_FACTS.get(s, (s,))}


def event_actions(wanted: Collection[str] | None) -> frozenset[str] | None:
    """The actions (``case_sql.ACTIONS``) the event figures among ``wanted`` are read from;
    None for all."""
    if wanted is None:
        return None
    return frozenset(a for f in _sums_behind(wanted) for a in case_sql.NEEDS.get(f, ()))


def case_flags(wanted: Collection[str] | None) -> frozenset[str] | None:
    """The flags of the case rows (``case_sql.CASE_FLAGS``) the figures among ``wanted`` are
    derived from, and ``received``, by which a unit cases came in to counts as active (ranked
    in the previous period, service._active); None for all."""
    if wanted is None:
        return None
    return frozenset((_sums_behind(wanted) | {"received"}) & set(case_sql.CASE_FLAGS))


def _needed(wanted: Collection[str] | None) -> set[str]:
    """Which queries give the ``wanted`` indicators (None: all of them)."""
    if wanted is None:
        return {"cases", "events", "p90", "patrol", "tasks", "hours"}
    needed = set()
    for key in wanted:
        source = BY_KEY[key].source
        if source != "cases":
            needed.add(source)
        elif key in _CASE_PART:
            needed.add("cases")
        else:
            needed |= {"events", "p90"} if key.endswith("_p90_s") else {"events"}
    return needed


async def sums(
    period: Period,
    levels: Sequence[str],
    tz: tzinfo,
    now: datetime,
    wanted: Collection[str] | None = None,
    source: str | None = None,
) -> Raw:
    """level → unit → the sums of its indicators, for units something happened in; only
    those the ``wanted`` indicators need, if given; of the cases that came in by ``source``
    only, if given (case figures only, then). The groupings (grade, stars) have case figures
    only."""
    d = Dialect.of(Case._meta.db)
    params = _params(period, tz, now)
    params |= {f"p{i}": ("text", label) for i, label in enumerate(period.labels(), start=1)}
    out: Raw = {level: {} for level in levels}
    if not levels:
        return out
    needed = _needed(wanted) & (installed_sources() | {"cases", "events", "p90"})
    if source is not None:
        needed &= {"cases", "events", "p90"}
        params["source"] = ("text", source)
    sourced = source is not None
    # The case part's rows by their indexes (runner.INDEXED); the others as the planner likes.
    tuning = {"cases": INDEXED, "events": ()}
    # A period ranked by a few figures reads the actions and sums the flags they need only.
    only = {"cases": (None, case_flags(wanted)), "events": (event_actions(wanted), None)}
    queries = [
        Query(
            rollup_sql.figures(d, levels, part, "p90" in needed, sourced, *only[part]),
            tuning[part],
        )
        for part in case_sql.PARTS
        if part in needed
    ]
    base = [level for level in levels if level in LEVELS]
    if "patrol" in needed and base:
        queries.append(Query(other_sql.patrol(d, base)))
    if "tasks" in needed and base:
        queries.append(Query(other_sql.tasks(base)))
    if "hours" in needed and set(base) - {"grid"}:
        queries.append(Query(other_sql.hours(base)))
    if not queries:
        return out
    params["days"] = ("integer", elapsed_days(period, tz, now))
    for rows in await run_all(queries, params):
        for row in rows:
            level, unit = row.pop("level"), row.pop("unit")
            # Most sums are cast to whole numbers in SQL: a type test each, not a call.
            out[level].setdefault(unit, {}).update(
                {k: _number(v) if type(v) is Decimal else v for k, v in row.items()}
            )
    return out


def zero_filled(level: str, unit_sums: dict[str, Any] | None) -> dict[str, Any]:
    """A unit's sums with the counts of what did not happen in it set to zero."""
    filled = dict(_ZERO["cases"])
    sources = installed_sources() if level in LEVELS else frozenset()
    if "tasks" in sources:
        filled |= _ZERO["tasks"]
    if "hours" in sources and level != "grid":
        filled |= _ZERO["hours"]
    return filled | (unit_sums or {})


async def catalogue(level: str, area: str | None) -> dict[str, str]:
    """code → name of every unit of the level inside ``area``, whether or not anything
    happened in it: the grids or areas, the holders of a grid's working posts, every grade
    held, the five stars."""
    prefix = scope_prefix(area) if area else ""
    if level == "worker":
        rows = await Case.raw(
            "SELECT p.id, p.name, a.code FROM person p LEFT JOIN area a ON a.id = p.area "
            "WHERE p.id IN (SELECT person FROM grid_post WHERE post IN ({}, {}, {}, {}))",
            *_WORKER_POSTS,
        )
        return {str(r["id"]): r["name"] for r in rows if (r["code"] or "").startswith(prefix)}
    if level == "stars":
        return {str(n): f"{n}星支部" for n in range(1, 6)}
    if level == DEPARTMENT:
        rows = await Department.select(Department.code, Department.name)
        return {r["code"]: r["name"] for r in rows}
    if level == "grade":
        rows = await Case.raw("SELECT DISTINCT post, grade FROM worker_grade")
        return {f"{r['post']}-{r['grade']}": f"{r['post']} {r['grade']}级" for r in rows}
    if level == "grid":
        rows = await Grid.select(Grid.code, Grid.name).where(Grid.code.like(f"{prefix}%"))
    else:
        rows = await Area.select(Area.code, Area.name).where(
            (Area.level == level) & Area.code.like(f"{prefix}%")
        )
    return {r["code"]: r["name"] for r in rows}


async def with_seen(
    level: str, area: str | None, names: dict[str, str], seen: Iterable[str]
) -> dict[str, str]:
    """``names`` and the units ``seen`` in the figures that lie inside ``area``: a person who
    holds no post but was assigned cases, a grid re-imported away since (named by its code)."""
    extra = sorted(set(seen) - set(names))
    if not extra:
        return names
    prefix = scope_prefix(area) if area else ""
    if level == "worker":
        rows = await Person.select(Person.id, Person.name, Person.area.code).where(
            Person.id.is_in([int(c) for c in extra])
        )
        found = {str(r["id"]): r["name"] for r in rows if (r["area.code"] or "").startswith(prefix)}
    elif level in CASE_ONLY:
        found = {c: c for c in extra}
    else:
        found = {c: c for c in extra if c.startswith(prefix) and level_of_code(c) == level}
    return names | found
