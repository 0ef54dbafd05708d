"""The assessment of a period: every level's units with their figures, composite score, rank
and change of rank since the previous period; the rows behind a figure (drill-down)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import msgspec

from backend.assessment import case_sql, frozen, other_sql, weights
from backend.assessment.dialect import Dialect
from backend.assessment.indicators import BY_KEY, INDICATORS, RATES, Figures, derive
from backend.assessment.periods import Period, clipped_end, parse_period
from backend.assessment.queries import (
    CASE_ONLY,
    GROUPS,
    MISSING,
    available_levels,
    catalogue,
    installed_sources,
    sums,
    with_seen,
    zero_filled,
)
from backend.assessment.runner import run
from backend.assessment.schemas import (
    AssessmentOut,
    DrillOut,
    IndicatorOut,
    Omitted,
    PublishOut,
    RoleOut,
    UnitOut,
)
from backend.assessment.scoring import ROLES, rank, rank_changes, scores
from backend.cases.tables import Case
from backend.core.errors import Conflict, Invalid

SCORE_FORMULA = (
    "综合得分 = 100 × Σ weight × value / Σ weight over the weighted indicators the unit has a "
    "value for; each value brought to 0..1: a rate as it is (返工率 as 1 − rate), the mean "
    "rating as (mean − 1) / 4, a time as the level's shortest / own, hours as own / the "
    "level's most. Ranks: 1, 2, 2, 4 on the score rounded to 2 decimals."
)
# The rows a figure drills down to: its own cases, or those of its denominator or cohort.
_CASE_ROWS: Mapping[str, str] = (
    {f: f for f in case_sql.FLAGS}
    | {key: bottom for key, (_, bottom) in RATES.items() if bottom in case_sql.FLAGS}
    | {
        "response_mean_s": "accepted",
        "response_p90_s": "accepted",
        "handling_mean_s": "handled",
        "handling_p90_s": "handled",
        "satisfaction_mean": "rated",
    }
)


_OTHER_SOURCES = ("patrol", "tasks", "hours")


def check_level(level: str, area: str | None = None) -> str:
    levels = available_levels()
    if level not in levels:
        raise Invalid("invalid_level", f"level is one of {', '.join(levels)}, not {level!r}")
    if level in CASE_ONLY and area is not None:
        raise Invalid("invalid_area", f"{level} groups the whole city; it takes no area")
    return level


def check_source(source: str | None) -> str | None:
    """None, or a door cases come in by (``case_record.source``): 422 ``invalid_source``."""
    if source is not None and source not in case_sql.SOURCES:
        raise Invalid(
            "invalid_source",
            f"source is one of {', '.join(case_sql.SOURCES)}, not {source!r}",
            field="source",
        )
    return source


def visible_indicators(level: str, source: str | None = None) -> list[str]:
    cases_only = level in CASE_ONLY or source is not None
    sources = {"cases"} if cases_only else installed_sources() | {"cases"}
    return [i.key for i in INDICATORS if i.source in sources]


def omitted(level: str, source: str | None = None) -> list[Omitted]:
    out = []
    for kind in _OTHER_SOURCES:
        keys = [i.key for i in INDICATORS if i.source == kind]
        if kind not in installed_sources():
            out.append(Omitted(kind, keys, MISSING[kind]))
        elif level in CASE_ONLY:
            out.append(Omitted(kind, keys, f"not grouped by {level}: case indicators only"))
        elif source is not None:
            out.append(Omitted(kind, keys, "not by the door cases came in by: case indicators"))
    return out


async def level_weights(level: str) -> dict[str, float]:
    """A grouping is scored with the weights of the level it groups."""
    return await weights.effective(GROUPS.get(level, level))


@dataclass(frozen=True)
class Scoring:
    """What scores the units: each level's weights, each role's (the worker level's role
    scores), how much a self-handled case counts, and the door the cases came in by (None:
    all)."""

    levels: Mapping[str, Mapping[str, float]]
    roles: Mapping[str, Mapping[str, float]]
    self_weight: float = 1.0
    source: str | None = None


async def scoring_for(levels: Sequence[str], source: str | None = None) -> Scoring:
    """The weights the city admin set (the defaults until then) for ``levels`` and the roles."""
    used, roles, self_weight = await asyncio.gather(
        asyncio.gather(*map(level_weights, levels)),
        asyncio.gather(*map(weights.effective, ROLES)),
        weights.self_handled_weight(),
    )
    return Scoring(
        dict(zip(levels, used, strict=True)),
        dict(zip(ROLES, roles, strict=True)),
        self_weight,
        source,
    )


def _figures(
    level: str,
    raw: Mapping[str, dict[str, Any]],
    names: Mapping[str, str],
    how: Scoring,
    only: Collection[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Each unit's figures (those in ``only``, if given)."""
    keys = [k for k in visible_indicators(level, how.source) if only is None or k in only]
    out = {}
    for code in names:
        derived = derive(zero_filled(level, raw.get(code)), how.self_weight)
        out[code] = {k: derived.get(k) for k in keys}
    return out


def _roles(figures: Mapping[str, Figures], how: Scoring) -> dict[str, dict[str, RoleOut]]:
    """unit → role → its score and rank in each role it has a figure of."""
    out: dict[str, dict[str, RoleOut]] = {code: {} for code in figures}
    for role, w in how.roles.items():
        for r in rank(scores(figures, w)):
            if r.score is not None and r.rank is not None:
                out[r.code][role] = RoleOut(r.score, r.rank)
    return out


async def level_tables(
    period: Period,
    levels: Sequence[str],
    tz: tzinfo,
    now: datetime,
    area: str | None,
    how: Scoring,
) -> dict[str, list[UnitOut]]:
    """Every unit of each level, best first, with figures, score (by the level's weights),
    rank and rank change, and a worker's scores and ranks by role.

    The rank change is against the previous period as published (公示) if it was: the ranks
    the city saw, which later work on its cases no longer moves; else as it stands now."""
    # The previous period is only ranked: it needs no more than the weighted indicators.
    weighted = {k for w in how.levels.values() for k, v in w.items() if v > 0}
    source = how.source
    earlier = period.previous()
    # The period's figures and the units' names are under way while the previous period's
    # publication is read (a city's is megabytes), and that period's figures after it, where
    # it has none; its ranks are worked out while the period's own figures are still summed.
    async with asyncio.TaskGroup() as group:
        running = group.create_task(sums(period, levels, tz, now, source=source))
        named = group.create_task(_catalogues(levels, area))
        publication = await frozen.read(earlier.label, sourced=source is not None)
        scored = {
            level: publication.scores(level, source) if publication else None for level in levels
        }
        published = {level: scores for level, scores in scored.items() if scores is not None}
        unpublished = [level for level in levels if level not in published]
        before = await sums(earlier, unpublished, tz, now, weighted, source)
        catalogues = await named
        previous_of = {
            level: await _previous_ranks(
                level, area, names, published.get(level), before.get(level, {}), how
            )
            for level, names in zip(levels, catalogues, strict=True)
        }
    current = running.result()
    tables = {}
    for level, names in zip(levels, catalogues, strict=True):
        w = how.levels[level]
        then = published.get(level)
        seen = then.keys() if then is not None else before[level].keys()
        names = await with_seen(level, area, names, current[level].keys() | seen)
        figures = _figures(level, current[level], names, how)
        ranked = rank(scores(figures, w))
        previous = previous_of[level]
        changes = rank_changes(ranked, previous)
        roles = _roles(figures, how) if level == "worker" else {}
        tables[level] = [
            UnitOut(
                r.code,
                names[r.code],
                figures[r.code],
                r.score,
                r.rank,
                previous.get(r.code),
                changes[r.code],
                roles.get(r.code),
            )
            for r in ranked
        ]
    return tables


async def _previous_ranks(
    level: str,
    area: str | None,
    names: Mapping[str, str],
    then: Mapping[str, float | None] | None,
    before: Mapping[str, dict[str, Any]],
    how: Scoring,
) -> dict[str, int | None]:
    """unit → its rank in the previous period: as published (``then``, the scores of the
    whole city), among the units inside ``area``; else as the period's sums ``before`` stand
    now, among the units something happened in then (a unit new this period has no previous
    rank, and no change)."""
    seen = then.keys() if then is not None else before.keys()
    names = await with_seen(level, area, dict(names), seen)
    if then is not None:
        kept = {code: score for code, score in then.items() if code in names}
        return {r.code: r.rank for r in rank(kept)}
    w = how.levels[level]
    active = {c: names[c] for c, raw in before.items() if c in names and _active(raw)}
    return {r.code: r.rank for r in rank(scores(_figures(level, before, active, how, w), w))}


async def _catalogues(levels: Sequence[str], area: str | None) -> list[dict[str, str]]:
    return list(await asyncio.gather(*(catalogue(level, area) for level in levels)))


def _active(raw: Mapping[str, Any]) -> bool:
    """Whether anything happened in a unit: a count above 0 (the grid-days a grid could be
    patrolled are not something that happened)."""
    return any(isinstance(v, int | float) and v > 0 for k, v in raw.items() if k != "patrol_days")


async def assessments(
    period_text: str,
    levels: Sequence[str],
    area: str | None,
    tz: tzinfo,
    now: datetime,
    *,
    recompute: bool = False,
    source: str | None = None,
) -> dict[str, AssessmentOut]:
    """The assessment of several levels at once (one query per period for all of them), of
    the cases that came in by ``source`` only if given. A published period answers its
    published figures, with the recomputation beside them if ``recompute``."""
    period = parse_period(period_text)
    for level in levels:
        check_level(level, area)
    check_source(source)
    publication = await frozen.read(period.label, sourced=source is not None)
    if publication is None:
        return await computed(period, levels, area, tz, now, source)
    live = await computed(period, levels, area, tz, now, source) if recompute else {}
    out = {}
    for level in levels:
        stored = publication.answer(level, source)
        if stored is None:  # a level this installation did not have when it published
            stored = (
                live.get(level) or (await computed(period, [level], area, tz, now, source))[level]
            )
        else:
            stored = await _inside(stored, level, area)
        out[level] = msgspec.structs.replace(
            stored,
            published_at=publication.published_at.astimezone(UTC).isoformat(),
            published_by=publication.published_by,
            recomputed=live[level].units if recompute else None,
        )
    return out


async def _inside(answer: AssessmentOut, level: str, area: str | None) -> AssessmentOut:
    """A published answer of the whole city cut to the units inside ``area``, ranks as
    published (among the whole city's units)."""
    if area is None:
        return answer
    codes = [u.code for u in answer.units]
    kept = await with_seen(level, area, await catalogue(level, area), codes)
    return msgspec.structs.replace(
        answer, area=area, units=[u for u in answer.units if u.code in kept]
    )


async def publish(period_text: str, tz: tzinfo, now: datetime, admin: int) -> PublishOut:
    """Store a period's figures at every level as they stand (公示). Only a period that is
    over: 409 ``period_not_over`` while it runs, ``already_published`` the second time."""
    period = parse_period(period_text)
    if clipped_end(period, tz, now) < period.bounds(tz)[1]:
        raise Conflict(
            "period_not_over", f"{period.label} is still running; publish it once it is over"
        )
    if await frozen.exists(period.label):
        raise frozen.already(period.label)
    levels = available_levels()
    # The whole city's answers, and those of each door the cases came in by.
    answers: dict[str, AssessmentOut] = {}
    for source in (None, *case_sql.SOURCES):
        by_source = await computed(period, levels, None, tz, now, source)
        answers |= {frozen.key(level, source): a for level, a in by_source.items()}
    stored = await frozen.store(period.label, answers, admin, now)
    return PublishOut(
        period.label, stored.published_at.astimezone(UTC).isoformat(), admin, list(levels)
    )


async def computed(
    period: Period,
    levels: Sequence[str],
    area: str | None,
    tz: tzinfo,
    now: datetime,
    source: str | None = None,
) -> dict[str, AssessmentOut]:
    """The assessment as the cases stand now."""
    how = await scoring_for(levels, source)
    tables = await level_tables(period, levels, tz, now, area, how)
    start, _ = period.bounds(tz)
    out = {}
    for level in levels:
        out[level] = AssessmentOut(
            period=period.label,
            level=level,
            area=area,
            start=start.isoformat(),
            end=clipped_end(period, tz, now).isoformat(),
            previous_period=period.previous().label,
            score_formula=SCORE_FORMULA,
            indicators=indicator_list(level, how.levels[level], source),
            omitted=omitted(level, source),
            units=tables[level],
            self_handled_weight=how.self_weight,
            role_weights={r: dict(w) for r, w in how.roles.items()} if level == "worker" else None,
            source=source,
        )
    return out


def indicator_list(
    level: str, w: Mapping[str, float], source: str | None = None
) -> list[IndicatorOut]:
    shown = visible_indicators(level, source)
    return [
        IndicatorOut(i.key, i.name, i.formula, i.unit, i.better, w.get(i.key, 0.0))
        for i in INDICATORS
        if i.key in shown
    ]


def _drill_sql(d: Dialect, level: str, indicator: str, sourced: bool) -> tuple[str, str]:
    source = BY_KEY[indicator].source
    if level in CASE_ONLY and source != "cases":
        raise Invalid("indicator_not_grouped", f"{indicator} is not grouped by {level}")
    if sourced and source != "cases":
        raise Invalid("indicator_not_grouped", f"{indicator} is not counted by source")
    if source == "cases":
        flag = _CASE_ROWS[indicator]
        return case_sql.drill(d, level, flag, sourced), flag
    if source not in installed_sources():
        raise Invalid("indicator_not_installed", MISSING[source], indicator=indicator)
    if source == "patrol":
        return other_sql.patrol_drill(d, level), "patrolled grid-days"
    if source == "tasks":
        return other_sql.tasks_drill(level), "task_items"
    if level == "grid":
        raise Invalid("no_grid_figure", "volunteer hours have no grid figure")
    return other_sql.hours_drill(level), "confirmed need claims"


async def drill(
    period_text: str,
    level: str,
    unit: str,
    indicator: str,
    tz: tzinfo,
    now: datetime,
    *,
    limit: int = 1000,
    offset: int = 0,
    source: str | None = None,
) -> DrillOut:
    """The rows behind one figure of one unit, ``limit`` from ``offset``, of the cases that
    came in by ``source`` only if given; ``count`` is the length of the whole list."""
    period = parse_period(period_text)
    check_level(level)
    check_source(source)
    if indicator not in BY_KEY:
        raise Invalid("invalid_indicator", f"no indicator {indicator!r}")
    sourced = source is not None
    sql, rows_are = _drill_sql(Dialect.of(Case._meta.db), level, indicator, sourced)
    start, _ = period.bounds(tz)
    params: dict[str, tuple[str, Any]] = {
        f"p{i}": ("text", label) for i, label in enumerate(period.labels(), start=1)
    }
    params |= {"s": ("timestamp", start), "e": ("timestamp", clipped_end(period, tz, now))}
    params |= {"unit": ("text", unit)}
    if source is not None:
        params["source"] = ("text", source)
    rows = await run(f"{sql} LIMIT {int(limit)} OFFSET {int(offset)}", **params)
    if not rows and offset:  # past the end: the list's length all the same
        rows_before = await run(f"{sql} LIMIT 1", **params)
        count = rows_before[0]["matched"] if rows_before else 0
    else:
        count = rows[0]["matched"] if rows else 0
    return DrillOut(
        period.label,
        level,
        unit,
        indicator,
        BY_KEY[indicator].formula,
        rows_are,
        count,
        [_plain(r, period) for r in rows],
    )


_TIMES = {"created_at", "accepted_at", "dispatched_at", "handled_at", "verified_at"}
_TIMES |= {"due_at", "closed_at", "accept_due_at", "dispatch_due_at", "handle_due_at"}
_TIMES |= {"verify_due_at"}
_TIMES |= {"done_at", "starts_at", "confirmed_at"}


def _plain(row: dict[str, Any], period: Period) -> dict[str, Any]:
    """A row as JSON the same on both databases: times in UTC ISO 8601, flags as booleans, a
    patrol's day also as its local date."""
    out = {}
    for key, value in row.items():
        if key == "matched":
            continue
        if key == "day":
            out["date"] = (period.first + timedelta(days=value)).isoformat()
        if key in _TIMES and value is not None:
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
            value = moment.astimezone(UTC).isoformat()
        elif key in case_sql.FLAGS or key == "self_handled":
            value = bool(value)
        out[key] = value
    return out
