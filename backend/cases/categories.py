"""The category tree, seeded from categories.json, with each category's time limits.

Every case created or moved needs its category's limits, and the table changes rarely (seeded,
then edited by the city admin). Each process keeps the whole table in memory, read again after
``FRESH_S`` seconds and at once after a change: here, or in another process, whose
``category.changed`` event the live hub reads (backend/live/hub.py).

A limit runs in the city's working time (backend/calendar/) unless its category says that,
for its stage and priority, it counts calendar hours: emergencies (突发事件) and urgent cases.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from backend.calendar.service import city_calendar
from backend.cases.tables import Category
from backend.core.recent import Recent
from backend.core.worktime import WorkingCalendar

SEED = Path(__file__).with_name("categories.json")
PRIORITIES = ("urgent", "high", "normal")
# The limits of a category, by priority: to accept (立案), dispatch, handle, verify (核查),
# close. The workflow's clocks run against accept (from submission) and close (from
# acceptance); the others set the deadlines the assessment counts on-time stages against.
STAGES = ("accept", "dispatch", "handle", "verify", "close")
FRESH_S = 60.0


@dataclass(frozen=True)
class Limits:
    accept: dict[str, timedelta]  # to accept (立案), by priority
    close: dict[str, timedelta]  # to close, by priority
    post: str | None  # the grid post that receives it by default
    calendar_hours: frozenset[tuple[str, str]] = frozenset()  # (stage, priority) on the clock
    retired: bool = False  # takes no new case
    # To dispatch once accepted, to handle once dispatched, to verify once handled, by
    # priority: the deadlines the assessment counts 按时派遣率, 按时处置率 and 按时核查率
    # against (none for a priority the category has no limit for).
    dispatch: Mapping[str, timedelta] = field(default_factory=dict)
    handle: Mapping[str, timedelta] = field(default_factory=dict)
    verify: Mapping[str, timedelta] = field(default_factory=dict)

    def of_stage(self, stage: str) -> Mapping[str, timedelta]:
        """A stage's limits by priority."""
        by_stage = {"accept": self.accept, "dispatch": self.dispatch, "handle": self.handle}
        return (by_stage | {"verify": self.verify, "close": self.close})[stage]

    def calendar(self, stage: str, priority: str) -> bool:
        """Whether this stage's limit for ``priority`` counts calendar hours."""
        return (stage, priority) in self.calendar_hours


# Code → limits of every leaf category.
_tables: Recent[dict[str, Limits]] = Recent(FRESH_S, size=1)


def _hours(mapping: dict[str, float]) -> dict[str, timedelta]:
    return {p: timedelta(hours=h) for p, h in mapping.items()}


def forget_categories() -> None:
    """Drop this process's copy of the table: a category changed."""
    _tables.forget("limits")


def calendar_pairs(by_stage: dict[str, list[str]]) -> frozenset[tuple[str, str]]:
    """``{stage: [priority, …]}`` as (stage, priority) pairs."""
    return frozenset((stage, p) for stage, ps in by_stage.items() for p in ps)


async def seed_categories() -> int:
    """Write the seed file's categories that the table does not have yet (a category is never
    deleted, and one the city edited is left as it is); returns how many were added."""
    seed = json.loads(SEED.read_text())
    have = {r["code"] for r in await Category.select(Category.code)}
    rows = [r for r in seed["categories"] if r["code"] not in have]
    if not rows:
        return 0
    # Leaves in calendar hours unless they say otherwise: the file's default for urgent cases.
    default_calendar = seed["calendar_hours"]
    await Category.insert(
        *(
            Category(
                code=r["code"],
                name=r["name"],
                parent=r["parent"],
                post=r.get("post"),
                department=r.get("department"),
                accept_hours=json.dumps(r.get("accept_hours", {})),
                dispatch_hours=json.dumps(r.get("dispatch_hours", {})),
                handle_hours=json.dumps(r.get("handle_hours", {})),
                verify_hours=json.dumps(
                    r.get("verify_hours", seed["verify_hours"] if "limits" in r else {})
                ),
                limits=json.dumps(r.get("limits", {})),
                calendar_hours=json.dumps(
                    r.get("calendar_hours", default_calendar if "limits" in r else {})
                ),
            )
            for r in rows
        )
    )
    forget_categories()
    return len(rows)


async def limits_of(code: str) -> Limits | None:
    """The limits of a leaf category; None for an unknown code or a category without limits."""
    limits = _tables.get("limits")
    if limits is None:
        before = _tables.forgets
        rows = await Category.select(
            Category.code,
            Category.post,
            Category.accept_hours,
            Category.dispatch_hours,
            Category.handle_hours,
            Category.verify_hours,
            Category.limits,
            Category.calendar_hours,
            Category.retired,
        ).where(Category.limits != "{}")
        limits = {
            r["code"]: Limits(
                _hours(json.loads(r["accept_hours"])),
                _hours(json.loads(r["limits"])),
                r["post"],
                calendar_pairs(json.loads(r["calendar_hours"])),
                bool(r["retired"]),
                _hours(json.loads(r["dispatch_hours"])),
                _hours(json.loads(r["handle_hours"])),
                _hours(json.loads(r["verify_hours"])),
            )
            for r in rows
        }
        _tables.put("limits", limits, read_after=before)
    return limits.get(code)


async def calendar_for(limits: Limits, stage: str, priority: str) -> WorkingCalendar | None:
    """What a clock of ``stage`` runs on for a case of ``priority``: the city's working
    calendar, or None for a limit in calendar hours."""
    if limits.calendar(stage, priority):
        return None
    return await city_calendar()
