"""The category tree, seeded from categories.json, with each category's time limits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from backend.cases.tables import Category

SEED = Path(__file__).with_name("categories.json")
PRIORITIES = ("urgent", "high", "normal")


@dataclass(frozen=True)
class Limits:
    accept: dict[str, timedelta]  # to accept (立案), by priority
    close: dict[str, timedelta]  # to close, by priority
    post: str | None  # the grid post that receives it by default


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
    return len(rows)


async def limits_of(code: str) -> Limits | None:
    """The limits of a leaf category; None for an unknown code or a category without limits."""
    row = await Category.select().where(Category.code == code).first()
    if row is None or row["limits"] == "{}":
        return None
    return Limits(
        _hours(json.loads(row["accept_hours"])), _hours(json.loads(row["limits"])), row["post"]
    )
