"""The category tree, seeded from categories.json, with each category's time limits.

Every case created or moved needs its category's limits, and the table changes only when it
is seeded (before a server starts). Each process keeps the whole table in memory, read again
after ``FRESH_S`` seconds (another process may have seeded it) and at once after seeding here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from backend.cases.tables import Category
from backend.core.recent import Recent

SEED = Path(__file__).with_name("categories.json")
PRIORITIES = ("urgent", "high", "normal")
FRESH_S = 60.0


@dataclass(frozen=True)
class Limits:
    accept: dict[str, timedelta]  # to accept (立案), by priority
    close: dict[str, timedelta]  # to close, by priority
    post: str | None  # the grid post that receives it by default


# Code → limits of every leaf category.
_tables: Recent[dict[str, Limits]] = Recent(FRESH_S, size=1)


def _hours(mapping: dict[str, float]) -> dict[str, timedelta]:
    return {p: timedelta(hours=h) for p, h in mapping.items()}


async def seed_categories() -> int:
    """Write the seed file's categories if there are none yet; returns how many were added."""
    if await Category.count() > 0:
        return 0
    rows = json.loads(SEED.read_text())["categories"]
    await Category.insert(
        *(
            Category(
                code=r["code"],
                name=r["name"],
                parent=r["parent"],
                post=r.get("post"),
                accept_hours=json.dumps(r.get("accept_hours", {})),
                limits=json.dumps(r.get("limits", {})),
            )
            for r in rows
        )
    )
    _tables.forget("limits")
    return len(rows)


async def limits_of(code: str) -> Limits | None:
    """The limits of a leaf category; None for an unknown code or a category without limits."""
    limits = _tables.get("limits")
    if limits is None:
        rows = await Category.select(
            Category.code, Category.post, Category.accept_hours, Category.limits
        ).where(Category.limits != "{}")
        limits = {
            r["code"]: Limits(
                _hours(json.loads(r["accept_hours"])), _hours(json.loads(r["limits"])), r["post"]
            )
            for r in rows
        }
        _tables.put("limits", limits)
    return limits.get(code)
