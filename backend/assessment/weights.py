"""The weights of the composite score, per level, and of each role's score at the worker level
(``scoring.ROLES``); and the city's weights that belong to no level: how much a self-handled
case (自处置) counts in the closure rates. Set by the city's admin, the defaults of ``scoring``
(and a self-handled case as any other) until then. Setting them is an event
(``assessment.weights``) in the city's scope."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime

from backend.areas.tables import Area
from backend.assessment.indicators import BY_KEY
from backend.assessment.queries import WEIGHTED_LEVELS, installed_sources
from backend.assessment.schemas import WeightsOut
from backend.assessment.scoring import DEFAULT_ROLE_WEIGHTS, DEFAULT_WEIGHTS, ROLES, SCORABLE
from backend.assessment.tables import AssessmentWeight
from backend.core.db import write_transaction
from backend.core.errors import Invalid
from backend.core.events import EventType
from backend.events.service import NewEvent, append

# The city's weights of no level: a self-handled case's in 结案率 and 按期结案率, 0 to 1.
CITY = "city"
SELF_HANDLED = "self_handled"
SETTABLE = (*WEIGHTED_LEVELS, *ROLES, CITY)


def _defaults(level: str) -> dict[str, float]:
    if level == CITY:
        return {SELF_HANDLED: 1.0}
    return dict(DEFAULT_ROLE_WEIGHTS.get(level, DEFAULT_WEIGHTS))


def _allowed(level: str) -> frozenset[str]:
    if level == CITY:
        return frozenset({SELF_HANDLED})
    return ROLES.get(level, SCORABLE)


def _usable(weights: Mapping[str, float]) -> dict[str, float]:
    # An indicator whose source is not installed has no value anywhere: it weighs nothing.
    sources = installed_sources() | {"cases"}
    return {k: w for k, w in weights.items() if BY_KEY[k].source in sources}


async def stored(level: str) -> WeightsOut:
    rows = await AssessmentWeight.select().where(AssessmentWeight.level == level)
    if not rows:
        return WeightsOut(level, _defaults(level), True)
    latest = max(rows, key=lambda r: r["set_at"])
    return WeightsOut(
        level,
        {r["indicator"]: r["weight"] for r in rows},
        False,
        latest["set_by"],
        latest["set_at"].isoformat(),
    )


async def effective(level: str) -> dict[str, float]:
    """The weights that score ``level`` (or a role) now."""
    return _usable((await stored(level)).weights)


async def self_handled_weight() -> float:
    """How much a self-handled case counts in the closure rates: 1 as any other, 0 not at all."""
    return (await stored(CITY)).weights.get(SELF_HANDLED, 1.0)


def check(level: str, weights: Mapping[str, float]) -> None:
    if level not in SETTABLE:
        raise Invalid("invalid_level", f"level is one of {', '.join(SETTABLE)}, not {level!r}")
    allowed = _allowed(level)
    for key, weight in weights.items():
        if key not in allowed:
            raise Invalid(
                "invalid_indicator",
                f"{key!r} cannot be weighted for {level}; choose from {', '.join(sorted(allowed))}",
                indicator=key,
            )
        if not math.isfinite(weight) or weight < 0:
            raise Invalid("invalid_weight", f"the weight of {key} must be 0 or more")
        if level == CITY and weight > 1:
            raise Invalid("invalid_weight", f"{key} is 0 (not counted) to 1 (counted in full)")
    if level == CITY:
        return
    if weights and not any(_usable(weights).values()):
        raise Invalid("invalid_weight", "at least one installed indicator needs a weight above 0")


async def replace(level: str, weights: Mapping[str, float], admin: int) -> WeightsOut:
    """Make ``weights`` the level's weights (all of them; none: back to the defaults)."""
    check(level, weights)
    now = datetime.now(UTC)
    async with write_transaction(AssessmentWeight._meta.db):
        await AssessmentWeight.delete().where(AssessmentWeight.level == level)
        if weights:
            await AssessmentWeight.insert(
                *(
                    AssessmentWeight(
                        level=level, indicator=k, weight=float(w), set_by=admin, set_at=now
                    )
                    for k, w in sorted(weights.items())
                )
            )
        city = await Area.select(Area.code).where(Area.level == "city").first()
        await append(
            [
                NewEvent(
                    EventType.assessment_weights,
                    f"assessment:{level}",
                    city["code"] if city else "",
                    {"level": level, "weights": dict(weights), "default": not weights},
                    admin,
                )
            ]
        )
    return await stored(level)
