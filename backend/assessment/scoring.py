"""The composite score (综合得分) of each unit of a level, its rank, and the change of rank.

Each weighted indicator is first brought to 0..1, higher being better:

- a rate where higher is better counts as it is; 返工率 (lower is better) as 1 − rate;
- the mean rating (1–5) as (mean − 1) / 4;
- a time (lower is better) as best / own, the best being the shortest time of the level;
- volunteer hours as own / most, the most being the largest of the level.

score = 100 × Σ weight × value / Σ weight, over the weighted indicators the unit has a value
for: a unit with no case due is neither rewarded nor punished on 结案率, its other indicators
carry the score. A unit with none has no score and no rank. Ranks are competition ranks of the
score rounded to 2 decimals (1, 2, 2, 4), and a rank change is the previous rank minus this one
(positive: moved up).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from backend.assessment.indicators import BY_KEY, Figures

# Used for a level whose weights no admin has set; they sum to 1.
DEFAULT_WEIGHTS: Mapping[str, float] = {
    "on_time_close_rate": 0.25,
    "close_rate": 0.10,
    "satisfied_share": 0.20,
    "rework_rate": 0.10,
    "accurate_accept_rate": 0.10,
    "on_time_dispatch_rate": 0.10,
    "patrol_coverage": 0.10,
    "task_completion": 0.05,
}
SCORABLE = frozenset(k for k, i in BY_KEY.items() if i.better is not None and i.unit != "count")
# The roles of 数字城管 a worker acts in, and the figures of each (those credited to whoever
# took the role's action, see case_sql.CREDIT): 受理员 / 值班长 accept, 派遣员 dispatch, 处置
# staff handle and answer for the closing of what they hold, 监督员 / grid inspectors verify,
# patrol and do the grid's tasks. A worker has a score in each role they have a figure of,
# with the role's weights (the city admin's, these until then), and a rank among the workers
# scored in it; the composite score is the worker level's weights over all their figures.
ROLES: Mapping[str, frozenset[str]] = {
    "acceptor": frozenset(
        {"on_time_accept_rate", "accurate_accept_rate", "response_mean_s", "response_p90_s"}
    ),
    "dispatcher": frozenset({"on_time_dispatch_rate"}),
    "handler": frozenset(
        {
            "handle_rate",
            "on_time_handle_rate",
            "rework_rate",
            "handling_mean_s",
            "handling_p90_s",
            "close_rate",
            "on_time_close_rate",
            "satisfaction_mean",
            "satisfied_share",
        }
    ),
    "inspector": frozenset({"on_time_verify_rate", "patrol_coverage", "task_completion"}),
}
ROLE_NAMES = {
    "acceptor": "受理员/值班长",
    "dispatcher": "派遣员",
    "handler": "处置人员",
    "inspector": "监督员/网格员",
}
DEFAULT_ROLE_WEIGHTS: Mapping[str, Mapping[str, float]] = {
    "acceptor": {"on_time_accept_rate": 0.5, "accurate_accept_rate": 0.5},
    "dispatcher": {"on_time_dispatch_rate": 1.0},
    "handler": {
        "on_time_handle_rate": 0.3,
        "handle_rate": 0.1,
        "rework_rate": 0.1,
        "on_time_close_rate": 0.2,
        "satisfied_share": 0.3,
    },
    "inspector": {"on_time_verify_rate": 0.4, "patrol_coverage": 0.4, "task_completion": 0.2},
}


@dataclass
class Ranked:
    code: str
    score: float | None
    rank: int | None


def best_of(key: str, column: Sequence[float | None]) -> float | None:
    """What a time or hours value of indicator ``key`` is compared with: the level's shortest
    time or most hours among ``column`` (every unit's value); None for rates and ratings."""
    indicator = BY_KEY[key]
    present = [v for v in column if v is not None]
    if indicator.unit in ("rate", "rating") or not present:
        return None
    return min(present) if indicator.better == "lower" else max(present)


def normalised(key: str, value: float | None, best: float | None) -> float | None:
    """``value`` of indicator ``key`` on 0..1; ``best`` is the level's :func:`best_of`.

    >>> normalised("rework_rate", 0.25, None), normalised("response_mean_s", 200, 100)
    (0.75, 0.5)
    """
    if value is None:
        return None
    indicator = BY_KEY[key]
    if indicator.unit == "rate":
        return value if indicator.better == "higher" else 1 - value
    if indicator.unit == "rating":
        return (value - 1) / 4
    if best is None:
        raise ValueError(f"{key} is compared with the level's best, and none was given")
    if indicator.better == "lower":
        return 1.0 if value == 0 else best / value
    return 1.0 if best == 0 else value / best


def scores(units: Mapping[str, Figures], weights: Mapping[str, float]) -> dict[str, float | None]:
    """The composite score of each unit (see the module's text)."""
    used = {k: w for k, w in weights.items() if w > 0}
    # Once per indicator, not per unit: a level may have a thousand workers.
    best = {k: best_of(k, [f.get(k) for f in units.values()]) for k in used}
    out: dict[str, float | None] = {}
    for code, figures in units.items():
        total = weight = 0.0
        for key, w in used.items():
            value = normalised(key, figures.get(key), best[key])
            if value is not None:
                total += w * value
                weight += w
        out[code] = round(100 * total / weight, 2) if weight else None
    return out


def rank(scored: Mapping[str, float | None]) -> list[Ranked]:
    """Units best first (ties by code), with competition ranks; unscored units last.

    >>> [(r.code, r.rank) for r in rank({"b": 90.0, "a": 90.0, "c": 95.5, "d": None})]
    [('c', 1), ('a', 2), ('b', 2), ('d', None)]
    """
    order = sorted(scored, key=lambda c: (scored[c] is None, -(scored[c] or 0), c))
    ranked: list[Ranked] = []
    for i, code in enumerate(order):
        score = scored[code]
        if score is None:
            ranked.append(Ranked(code, None, None))
        elif ranked and ranked[-1].score == score:
            ranked.append(Ranked(code, score, ranked[-1].rank))
        else:
            ranked.append(Ranked(code, score, i + 1))
    return ranked


def rank_changes(now: Iterable[Ranked], before: Mapping[str, int | None]) -> dict[str, int | None]:
    """Previous rank − current rank for units ranked both times, else None.

    >>> rank_changes([Ranked("a", 90.0, 1), Ranked("b", 80.0, 2)], {"a": 2, "b": None})
    {'a': 1, 'b': None}
    """
    return {
        r.code: None if r.rank is None or (was := before.get(r.code)) is None else was - r.rank
        for r in now
    }
