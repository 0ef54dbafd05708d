from typing import Annotated, Any

import msgspec

Number = int | float | None


class IndicatorOut(msgspec.Struct):
    key: str
    name: str
    formula: str  # how the figure is computed, as docs/assessment.md states it
    unit: str  # count, rate, seconds, rating, hours, days
    better: str | None  # higher, lower, or None for volumes
    weight: float  # its weight in this level's score (0: not scored)


class Omitted(msgspec.Struct):
    source: str
    indicators: list[str]
    reason: str


class RoleOut(msgspec.Struct):
    score: float  # with the role's weights, over the role's figures
    rank: int  # among the workers scored in the role


class UnitOut(msgspec.Struct):
    code: str  # an area or grid code; a worker's person id
    name: str
    figures: dict[str, Number]  # indicator key → value (None: nothing to divide by)
    score: float | None
    rank: int | None
    previous_rank: int | None
    rank_change: int | None  # previous rank − rank: positive when the unit moved up
    # A worker: their score and rank in each role they have a figure of (scoring.ROLES).
    roles: dict[str, RoleOut] | None = None


class AssessmentOut(msgspec.Struct):
    period: str
    level: str
    area: str | None
    start: str
    end: str  # the period's end, or the time of asking while it is still running
    previous_period: str
    score_formula: str
    indicators: list[IndicatorOut]
    omitted: list[Omitted]
    units: list[UnitOut]  # best first; unscored units last
    # Set when the period is published (公示): the units are the figures stored then.
    published_at: str | None = None
    published_by: int | None = None
    # Asked with recompute: the figures as the cases stand now, beside the published ones.
    recomputed: list[UnitOut] | None = None
    # How much a self-handled case (自处置) counted in 结案率 and 按期结案率 (the city's).
    self_handled_weight: float = 1.0
    # The worker level: each role's weights, which its ``roles`` scores were made with.
    role_weights: dict[str, dict[str, float]] | None = None
    # Only the cases that came in by this door (case_record.source), if asked.
    source: str | None = None


class DrillOut(msgspec.Struct):
    period: str
    level: str
    unit: str
    indicator: str
    formula: str
    rows_are: str  # which rows are listed: the indicator's own, or its denominator's
    count: int  # rows in the whole list; ``rows`` is the asked page of it
    rows: list[dict[str, Any]]


Weight = Annotated[float, msgspec.Meta(ge=0, le=1000)]


class WeightsIn(msgspec.Struct, forbid_unknown_fields=True):
    # indicator key → weight; an empty mapping goes back to the default weights.
    weights: dict[Annotated[str, msgspec.Meta(max_length=32)], Weight]


class WeightsOut(msgspec.Struct):
    level: str
    weights: dict[str, float]
    default: bool  # True: no admin has set this level's weights
    set_by: int | None = None
    set_at: str | None = None


class PublishIn(msgspec.Struct, forbid_unknown_fields=True):
    period: Annotated[str, msgspec.Meta(max_length=8)]


class PublishOut(msgspec.Struct):
    period: str
    published_at: str
    published_by: int
    levels: list[str]
