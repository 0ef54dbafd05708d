"""Checking an offline upload: every fix on its own, then the good ones in time order, each
against the one before it. Pure.

>>> from datetime import UTC, datetime
>>> now = datetime(2026, 11, 25, 10, tzinfo=UTC)
>>> items = [{"lon": 106.8, "lat": 39.6, "accuracy": 5, "at": f"2026-11-25T09:0{s}:00Z"}
...          for s in (2, 1, 1)] + [{"lon": 106.9, "lat": 39.6, "accuracy": 5,
...                                  "at": "2026-11-25T09:03:00Z"}, "junk"]
>>> timed, refused = read_batch(items, now)
>>> [i for _, i, _ in timed], [(r.index, r.code) for r in refused]
([1, 2, 0, 3], [(4, 'invalid_value')])
>>> fixes, repeated, refused = chain(timed, None, now)
>>> len(fixes), repeated, [(r.index, r.code) for r in refused]
(2, 1, [(3, 'impossible_jump')])
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from backend.positions.checks import BATCH_MAX_AGE, Fix, Rejected, check
from backend.positions.schemas import RejectedFix

Timed = tuple[datetime, int, dict[str, Any]]  # the fix's time, its index, the item


def read_batch(items: Sequence[Any], now: datetime) -> tuple[list[Timed], list[RejectedFix]]:
    """The items that pass the checks of a fix on its own, in time order (then upload order),
    and the refusals of the others."""
    timed: list[Timed] = []
    refused: list[RejectedFix] = []
    for i, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise Rejected("invalid_value", "each position is an object")
            timed.append((check(item, None, now, BATCH_MAX_AGE).at, i, item))
        except Rejected as no:
            refused.append(RejectedFix(i, no.code, no.reason))
    timed.sort(key=lambda t: (t[0], t[1]))
    return timed, refused


def chain(
    timed: Sequence[Timed], previous: Fix | None, now: datetime
) -> tuple[list[Fix], int, list[RejectedFix]]:
    """Check each fix against the last good one (``previous``: the stored fix before them):
    the fixes that pass, how many repeat the time of the one before (a retried upload), and the
    refusals."""
    fixes: list[Fix] = []
    refused: list[RejectedFix] = []
    repeated = 0
    for at, i, item in timed:
        if previous is not None and at == previous.at:
            repeated += 1
            continue
        try:
            previous = check(item, previous, now, BATCH_MAX_AGE)
        except Rejected as no:
            refused.append(RejectedFix(i, no.code, no.reason))
            continue
        fixes.append(previous)
    return fixes, repeated, refused
