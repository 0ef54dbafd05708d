"""A worker's patrol log for one day (巡查日志), from their track and duty periods. Pure.

Times are seconds since the epoch, positions WGS 84 degrees, in arrays sorted by time. The
rules:

- **Walks.** Fixes closer in time than :data:`GAP_S` belong to one walk. Across a longer gap
  nobody knows the way taken (the phone was off, the worker went home), so the straight line
  counts neither as distance nor as passing buildings.
- **Distance** is the sum of a walk's segment lengths (haversine), with GPS jitter left out: a
  fix counts once it lies farther from the last counted fix than the two fixes' accuracies
  added up (at most :data:`JITTER_CAP_M`). Two noisy fixes of one spot are rarely that far
  apart, so standing still for an hour adds next to nothing; walking adds its way, cutting
  corners by at most that much. Jumps were refused on arrival (backend.positions.checks), so
  they are not in the track at all.
- **Time on duty** is the length of the union of the duty periods ("duty on" to "duty off" or
  the socket closing) and the walks (first to last fix), each cut to the day. Either source
  alone falls short: fixes collected offline come with no duty message, and a worker on duty
  standing still sends few fixes.

>>> t = np.array([0.0, 10, 20, 1000, 1010])
>>> lon, lat = np.array([106.8, 106.8001, 106.8002, 106.81, 106.8101]), np.full(5, 39.6)
>>> round(walked_m(lon, lat, np.full(5, 3.0), t), 1)
25.7
>>> duty_seconds([(5.0, 15.0)], t, 0.0, 86400.0)
30.0
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from backend.positions.checks import distance_m

GAP_S = 300.0
JITTER_CAP_M = 50.0


def walks(t: np.ndarray, gap_s: float = GAP_S) -> list[slice]:
    """The runs of fixes with no gap longer than ``gap_s`` between neighbours.

    >>> walks(np.array([0.0, 60, 1000, 1010]))
    [slice(0, 2, None), slice(2, 4, None)]
    """
    if len(t) == 0:
        return []
    cuts = np.flatnonzero(np.diff(t) > gap_s) + 1
    bounds = [0, *cuts.tolist(), len(t)]
    return [slice(a, b) for a, b in itertools.pairwise(bounds)]


def walked_m(
    lon: np.ndarray, lat: np.ndarray, accuracy: np.ndarray, t: np.ndarray, gap_s: float = GAP_S
) -> float:
    """Metres walked, by the rules of the module docstring."""
    x, y, acc = lon.tolist(), lat.tolist(), accuracy.tolist()
    total = 0.0
    for walk in walks(t, gap_s):
        anchor = walk.start
        for i in range(walk.start + 1, walk.stop):
            d = distance_m(x[anchor], y[anchor], x[i], y[i])
            if d > min(acc[anchor] + acc[i], JITTER_CAP_M):
                total += d
                anchor = i
    return total


def _union_length(intervals: list[tuple[float, float]]) -> float:
    total, reach = 0.0, -np.inf
    for start, end in sorted(intervals):
        if end <= reach:
            continue
        total += end - max(start, reach)
        reach = end
    return total


def duty_seconds(
    periods: Sequence[tuple[float, float]],
    t: np.ndarray,
    day_start: float,
    day_end: float,
    gap_s: float = GAP_S,
) -> float:
    """Seconds on duty within [day_start, day_end), by the rules of the module docstring.

    >>> duty_seconds([(-100.0, 50.0), (40.0, 60.0)], np.array([]), 0.0, 100.0)
    60.0
    """
    spans = [(float(t[w.start]), float(t[w.stop - 1])) for w in walks(t, gap_s)]
    clipped = [(max(a, day_start), min(b, day_end)) for a, b in [*periods, *spans] if b > day_start]
    return _union_length([(a, b) for a, b in clipped if b > a and a < day_end])
