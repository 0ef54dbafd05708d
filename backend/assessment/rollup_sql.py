"""One part of the case facts (``case_sql``) summed per unit of every asked level, with the 90th
percentiles of the response and handling times for the event part, in one statement.

Sums add up, percentiles do not. On PostgreSQL the sums are hashed per place (a grid, or the
area of a case in no grid) and per worker, grade or star, and the places' sums added up to
communities, streets and districts by code prefix. A worker's case-row figures are hashed per
person the row credits (its assignee, whoever accepted, dispatched, handled, verified) in the
same pass, each person's own flags then taken from the set that credits them; their event
figures are summed action by action over the rows each action credits
(``case_sql.credit_rows``), then added up per person. The percentiles come from one sorted pass
over the territorial levels (a grid code's prefixes nest, so the four are one rollup) and one
per other level, ``percentile_disc(0.9)``. SQLite has neither grouping sets nor percentiles: a
``GROUP BY`` per level, and the percentile as the value at rank ⌈0.9 n⌉ by ``ROW_NUMBER``,
which is what ``percentile_disc(0.9)`` returns.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from backend.assessment.case_sql import (
    CREDIT,
    PART_FLAGS,
    UNIT,
    credit_rows,
    credits,
    head,
    origin,
    source,
    territory,
)
from backend.assessment.dialect import Dialect, p90_by_rank

# What each part sums besides its flags. Every sum is a whole number: cast back to one, since
# PostgreSQL sums bigints as numeric, which reaches Python as Decimal, slow to convert.
_EXTRA = {
    "cases": {"rating_sum": "CAST(SUM(CASE WHEN rated = 1 THEN rating ELSE 0 END) AS BIGINT)"},
    "events": {
        "response_n": "COUNT(response_s)",
        "response_sum_s": "CAST(SUM(response_s) AS BIGINT)",
        "handling_n": "COUNT(handling_s)",
        "handling_sum_s": "CAST(SUM(handling_s) AS BIGINT)",
    },
}
_KEY = {"worker": "wk", "grid": "gr", "community": "cm", "street": "st", "district": "di"}
_KEY |= {"grade": "gd", "stars": "sr", "department": "dp", "place": "pl"}
# Each territorial level's grouping set names the levels above it, so that they chain.
_SET = {
    "worker": "(wk)",
    "grid": "(di, st, cm, gr)",
    "community": "(di, st, cm)",
    "street": "(di, st)",
    "district": "(di)",
    "grade": "(gd)",
    "stars": "(sr)",
    "department": "(dp)",
    "place": "(pl)",
}
_AREAS = ("community", "street", "district")  # added up from the places' sums
# The case part's worker figures: a grouping set per person a case row credits.
_CREDITED = {f"worker:{by}": f"wk{i}" for i, by in enumerate(CREDIT["cases"])}
_KEY |= _CREDITED
_SET |= {lv: f"({key})" for lv, key in _CREDITED.items()}
# The sums that are not flags, and the value of the row they sum, which says whose they are.
_OF = {"rating_sum": "rating"}
# The event part's times, each an action's, and their percentiles.
_P90 = {"response_s": "response_p90_s", "handling_s": "handling_p90_s"}


def summed(part: str) -> tuple[str, ...]:
    """The columns a part's rows carry besides level and unit (and the percentiles)."""
    return (*PART_FLAGS[part], *_EXTRA[part])


def sums_of(part: str) -> str:
    """The sums of a part's sums."""
    return ", ".join(f"CAST(SUM({k}) AS BIGINT) AS {k}" for k in summed(part))


def _sums(part: str, own: Collection[str] | None = None) -> str:
    """The sums of a part's rows; those of flags not in ``own`` (another's, 0 on every row) are
    0 without summing."""
    flags = [
        f"SUM({k}) AS {k}" if own is None or k in own else f"0 AS {k}" for k in PART_FLAGS[part]
    ]
    return ", ".join(flags + [f"{sql} AS {k}" for k, sql in _EXTRA[part].items()])


def _grouped(levels: Sequence[str]) -> tuple[str, str, str]:
    """The level's name, the unit, and the GROUPING SETS clause for ``levels``."""
    which = " ".join(f"WHEN GROUPING({_KEY[lv]}) = 0 THEN '{lv}'" for lv in levels)
    unit = " ".join(f"WHEN GROUPING({_KEY[lv]}) = 0 THEN CAST({_KEY[lv]} AS TEXT)" for lv in levels)
    sets = ", ".join(_SET[lv] for lv in levels)
    return f"CASE {which} END", f"CASE {unit} END", sets


def _p90s(d: Dialect, times: Collection[str] = tuple(_P90)) -> str:
    """The percentile of each time, NULL for those not in ``times``."""
    return ", ".join(
        f"{d.p90(t) if t in times else 'CAST(NULL AS BIGINT)'} AS {p}" for t, p in _P90.items()
    )


def _workers(d: Dialect, p90: bool, taken: Collection[str] | None) -> str:
    """``workers``: each person's event figures (and percentiles), from the rows of the actions
    credited to them, summed action by action and the few sums per person added up: a single
    grouping of all the actions' rows had to copy them first (a third of the event part). Of
    the actions ``taken`` only, if given (the credit of action ``x`` is the column ``x_by``)."""
    columns = [f"CAST(SUM({k}) AS BIGINT) AS {k}" for k in summed("events")]
    # A time goes with one action only: its percentile is that action's.
    columns += [f"MAX({p}) AS {p}" for p in _P90.values() if p90]
    rows = credit_rows("events")
    credited = {
        by: own
        for by, own in CREDIT["events"].items()
        if taken is None or by.removesuffix("_by") in taken
    }
    actions = " UNION ALL ".join(
        f"SELECT wk, {_sums('events', own)}{', ' + _p90s(d, own) if p90 else ''} "
        f"FROM ({rows[by]}) r GROUP BY wk"
        for by, own in (credited or CREDIT["events"]).items()
    )
    return (
        f"workers AS (SELECT 'worker' AS level, CAST(wk AS TEXT) AS unit, {', '.join(columns)} "
        f"FROM ({actions}) a GROUP BY wk)"
    )


def _credited_sets(part: str, flags: Collection[str] | None) -> dict[str, tuple[str, ...]]:
    """The worker levels of the people a part's rows credit (``worker:<column>``) and their
    own flags and sums; of those with a flag in ``flags`` only, if given."""
    return {
        level: own
        for level, own in zip(_CREDITED, CREDIT[part].values(), strict=True)
        if flags is None or set(own) & set(flags)
    }


def _by_person(part: str, flags: Collection[str] | None = None) -> str:
    """A worker's case-row figures from the sets of the people the rows credit: each set's
    own flags (and sums), nothing of the others'."""
    sets = " UNION ALL ".join(
        "SELECT unit, "
        + ", ".join(
            [k if k in own else f"0 AS {k}" for k in PART_FLAGS[part]]
            + [k if _OF[k] in own else f"0 AS {k}" for k in _EXTRA[part]]
        )
        + f" FROM fine WHERE level = '{level}'"
        for level, own in _credited_sets(part, flags).items()
    )
    sums = ", ".join(f"CAST(SUM({k}) AS BIGINT) AS {k}" for k in summed(part))
    return f"SELECT 'worker' AS level, unit, {sums} FROM ({sets}) w GROUP BY unit"


def _postgres(
    d: Dialect,
    levels: Sequence[str],
    part: str,
    p90: bool,
    sourced: bool,
    actions: Collection[str] | None,
    flags: Collection[str] | None,
) -> str:
    ordered = [lv for lv in UNIT if lv in levels]
    territorial = [lv for lv in ordered if lv in ("grid", *_AREAS)]
    # The workers' action figures come from the credited actions, not the facts' grouping;
    # their case-row figures from a grouping set per person credited.
    apart = [lv for lv in ordered if credits(lv) and part == "events"]
    person = "worker" in ordered and part == "cases"
    credited = _credited_sets(part, flags) if person else {}
    grouped = [lv for lv in ordered if lv not in apart]
    # Sums per place (a grid, or the area of a case in no grid), then added up by prefix.
    fine = [lv for lv in grouped if lv not in (*territorial, "worker" if person else "")]
    fine += (["place"] if territorial else []) + list(credited)
    # A worker is grouped by the integer (quicker to sort), named by its text.
    keys = ", ".join(
        f"{'facts.assignee' if lv == 'worker' else UNIT[lv]} AS {_KEY[lv]}"
        for lv in UNIT
        if lv in levels or lv in ("grid", *_AREAS)
    )
    keys += "".join(f", facts.{lv[7:]} AS {_KEY[lv]}" for lv in credited)
    columns = ", ".join(summed(part))
    level, unit, sets = _grouped(fine) if fine else ("", "", "")
    parts = [f"SELECT * FROM fine WHERE level IN ({', '.join(repr(lv) for lv in grouped)})"]
    parts = parts if fine else []
    parts += [f"SELECT level, unit, {columns} FROM workers" for _ in apart]
    parts += [_by_person(part, flags)] if person else []
    if "grid" in levels:
        parts.append(
            f"SELECT 'grid', unit, {columns} FROM fine WHERE level = 'place' AND LENGTH(unit) > 12"
        )
    up = [lv for lv in territorial if lv in _AREAS]
    if up:
        rolled = " UNION ALL ".join(
            f"SELECT '{lv}' AS level, {territory(lv, 'unit')} AS unit, {columns} "
            "FROM fine WHERE level = 'place'"
            for lv in up
        )
        sums = ", ".join(f"CAST(SUM({k}) AS BIGINT) AS {k}" for k in summed(part))
        parts.append(
            f"SELECT level, unit, {sums} FROM ({rolled}) r WHERE unit IS NOT NULL "
            "GROUP BY level, unit"
        )
    # The facts hashed once, by every key a set groups by together (a unit's cases share
    # their place, department, staff: a few thousand groups for a month); the sets then
    # read those sums, not the facts. The percentiles read the facts a second time.
    by = ", ".join(dict.fromkeys(k.strip() for lv in fine for k in _SET[lv].strip("()").split(",")))
    fine_sql = (
        f"pre AS MATERIALIZED (\n  SELECT {by}, {_sums(part, flags)} FROM f GROUP BY {by}\n),\n"
        f"fine AS MATERIALIZED (\n  SELECT {level} AS level, {unit} AS unit, {sums_of(part)} "
        f"FROM pre GROUP BY GROUPING SETS ({sets})\n),\n"
        if fine
        else ""
    )
    shared = p90 or bool(apart)
    facts = head(d, levels, part, shared=shared, sourced=sourced, credit=False, actions=actions)
    workers = f"{_workers(d, p90, actions)},\n" if apart else ""
    body = f"""{facts},
f AS NOT MATERIALIZED (SELECT facts.*, facts.place AS pl, {keys} FROM {source(levels)}),
{fine_sql}{workers}summed AS ({" UNION ALL ".join(parts)})"""
    if not p90:
        return f"{body}\nSELECT * FROM summed WHERE unit IS NOT NULL"
    timed = " OR ".join(f"{t} IS NOT NULL" for t in _P90)
    pcts = []
    if territorial:
        p_level, p_unit, p_sets = _grouped(territorial)
        pcts.append(
            f"SELECT {p_level} AS level, {p_unit} AS unit, {_p90s(d)} FROM f WHERE {timed} "
            f"GROUP BY GROUPING SETS ({p_sets})"
        )
    # A level beside the territory sorts only the cases that have a unit of it: in one grouping
    # with the others, the many cases with no department (or grade, or stars) were sorted for a
    # percentile of nobody.
    pcts += [
        f"SELECT '{lv}' AS level, CAST({_KEY[lv]} AS TEXT) AS unit, {_p90s(d)} FROM f "
        f"WHERE {_KEY[lv]} IS NOT NULL AND ({timed}) GROUP BY {_KEY[lv]}"
        for lv in grouped
        if lv not in territorial
    ]
    pcts += [f"SELECT level, unit, {', '.join(_P90.values())} FROM workers" for _ in apart]
    return f"""{body},
pct AS ({" UNION ALL ".join(pcts)})
SELECT summed.*, pct.response_p90_s, pct.handling_p90_s
FROM summed LEFT JOIN pct ON pct.level = summed.level AND pct.unit = summed.unit
WHERE summed.unit IS NOT NULL"""


def _sqlite(
    d: Dialect,
    levels: Sequence[str],
    part: str,
    p90: bool,
    sourced: bool,
    actions: Collection[str] | None,
    flags: Collection[str] | None,
) -> str:
    read = {level: origin(level, part) for level in levels}
    sums = "\nUNION ALL\n".join(
        f"SELECT '{level}' AS level, {unit} AS unit, {_sums(part, flags)} "
        f"FROM {table} WHERE {unit} IS NOT NULL GROUP BY {unit}"
        for level, (table, unit) in read.items()
    )
    if not p90:
        # One SELECT per level reads the facts.
        facts = head(d, levels, part, shared=True, sourced=sourced, actions=actions)
        return f"{facts},\nagg AS ({sums})\nSELECT * FROM agg"
    long = "\nUNION ALL\n".join(
        f"SELECT '{level}' AS level, {unit} AS unit, response_s, handling_s "
        f"FROM {table} WHERE {unit} IS NOT NULL"
        for level, (table, unit) in read.items()
    )
    keys = "level, unit"
    return f"""{head(d, levels, part, shared=True, sourced=sourced, actions=actions)},
agg AS ({sums}),
lv AS MATERIALIZED ({long}),
rp AS ({p90_by_rank("lv", keys, "response_s")}),
hp AS ({p90_by_rank("lv", keys, "handling_s")})
SELECT agg.*, rp.p90 AS response_p90_s, hp.p90 AS handling_p90_s
FROM agg
LEFT JOIN rp ON rp.level = agg.level AND rp.unit = agg.unit
LEFT JOIN hp ON hp.level = agg.level AND hp.unit = agg.unit"""


def figures(
    d: Dialect,
    levels: Sequence[str],
    part: str,
    p90: bool = True,
    sourced: bool = False,
    actions: Collection[str] | None = None,
    flags: Collection[str] | None = None,
) -> str:
    """Every asked level's sums of one part, as (level, unit, …) rows, and for the event part
    the 90th percentiles of the times unless ``p90`` is false; of the cases of ``:source``
    only if ``sourced``; of the event part's ``actions`` only if given (``case_sql.ACTIONS``:
    the figures of the others are 0); the part's ``flags`` only if given (the others 0, and
    the people credited with none of them not grouped)."""
    p90 = p90 and part == "events"
    build = _postgres if d.postgres else _sqlite
    return build(d, levels, part, p90, sourced, actions, flags)
