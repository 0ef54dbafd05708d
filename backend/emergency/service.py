"""Emergency modes as others read them: the active modes and the factor they put on a case's
new clock (the hook of the case workflow), and the modes for banners and history. Switching is
backend/emergency/switching.py's.

Creating a case must stay one cheap step, so the list of active modes (a handful of rows) is
kept in memory and read again at most once a second. The process that switches
replaces it as soon as its switch commits; other processes see the switch within
``MAX_AGE_S``. A clock started in that second with the old factor is corrected by the next
switch of its area, which recomputes every open case there (backend/cases/clocks.py).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from piccolo.columns.combination import Or

from backend.core.areas import parent_code, scope_prefix
from backend.core.db import on_engine_change
from backend.core.errors import Invalid
from backend.emergency.kinds import KIND_LABELS, KINDS, is_code, related
from backend.emergency.kinds import ActiveMode as ActiveMode
from backend.emergency.kinds import effective_factor as effective_factor
from backend.emergency.kinds import place_of as place_of
from backend.emergency.schemas import CurrentModes, KindOut, ModeHistory, ModeOut
from backend.emergency.tables import EmergencyMode
from backend.grids.service import place_names

MAX_AGE_S = 1.0


@dataclass
class _Snapshot:
    modes: tuple[ActiveMode, ...]
    read_at: float  # time.monotonic()


# This process's list; emptied when the tables are bound to another database (tests, tools).
_snapshot: _Snapshot | None = None


@on_engine_change
def _forget_snapshot() -> None:
    global _snapshot
    _snapshot = None


async def read_active() -> tuple[ActiveMode, ...]:
    """The active modes as the database has them now (inside the caller's transaction, if any)."""
    rows = (
        await EmergencyMode.select(
            EmergencyMode.id, EmergencyMode.area_code, EmergencyMode.kind, EmergencyMode.factor
        )
        .where(EmergencyMode.ended_at.is_null())
        .order_by(EmergencyMode.id)
    )
    return tuple(ActiveMode(r["id"], r["area_code"], r["kind"], r["factor"]) for r in rows)


def remember(modes: tuple[ActiveMode, ...]) -> None:
    """Hold ``modes`` as this process's list, after a switch made here committed."""
    global _snapshot
    _snapshot = _Snapshot(modes, time.monotonic())


async def active_modes() -> tuple[ActiveMode, ...]:
    """The active modes, at most ``MAX_AGE_S`` old."""
    global _snapshot
    held = _snapshot
    now = time.monotonic()
    if held is not None and now - held.read_at <= MAX_AGE_S:
        return held.modes
    if held is not None:
        held.read_at = now  # callers meanwhile use the old list instead of all reading again
    modes = await read_active()
    if _snapshot is held:  # else a switch here (or another database) came meanwhile
        _snapshot = _Snapshot(modes, now)
    return modes


async def factor_for(code: str | None) -> float:
    """The time-limit factor for a new clock of a case lying in ``code`` (its grid, or the
    smallest area around it): the smallest among the active modes around it, 1.0 in peacetime.

    The hook of the case workflow: every clock a case starts (submit, accept, escalate, reopen,
    unshelve) takes its limit times this factor (``backend.cases.timing.time_limit``).
    """
    if not code:
        return 1.0
    return effective_factor(await active_modes(), code)


async def case_factor(row: Mapping[str, Any]) -> float:
    """``factor_for`` the place of a case row (its ``grid_code`` and ``area_codes``)."""
    return await factor_for(place_of(row["grid_code"], row["area_codes"]))


def kinds() -> list[KindOut]:
    return [KindOut(k, KIND_LABELS[k], f) for k, f in KINDS.items()]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def mode_out(row: dict[str, Any], names: dict[str, str], retimed: int | None = None) -> ModeOut:
    return ModeOut(
        id=row["id"],
        area_code=row["area_code"],
        area_name=names.get(row["area_code"], ""),
        kind=row["kind"],
        kind_label=KIND_LABELS.get(row["kind"], row["kind"]),
        factor=row["factor"],
        reason=row["reason"],
        started_at=row["started_at"].isoformat(),
        started_by=row["started_by"],
        active=row["ended_at"] is None,
        ended_at=_iso(row["ended_at"]),
        ended_by=row["ended_by"],
        end_reason=row["end_reason"],
        cases_retimed=retimed,
    )


def _area_filter(area: str | None) -> str | None:
    if area is not None and not is_code(area):
        raise Invalid("unknown_area", f"not an area or grid code: {area!r}", area=area)
    return area


def _around_or_inside(area: str) -> Or:
    """Modes whose area contains ``area`` (its chain) or lies inside it."""
    chain = [area]
    while (up := parent_code(chain[-1])) is not None:
        chain.append(up)
    return EmergencyMode.area_code.is_in(chain) | EmergencyMode.area_code.like(
        scope_prefix(area) + "%"
    )


async def current(area: str | None) -> CurrentModes:
    """The active modes for a banner: around and inside ``area`` (all of them without one)."""
    area = _area_filter(area)
    found = await EmergencyMode.select().where(EmergencyMode.ended_at.is_null())
    rows = {r["id"]: r for r in found}
    modes = [_mode(r) for r in rows.values()]
    shown = modes if area is None else related(modes, area)
    factor = 1.0 if area is None else effective_factor(shown, area)
    active = [rows[m.id] for m in shown]
    names = await place_names(r["area_code"] for r in active)
    ordered = sorted(active, key=lambda r: (len(r["area_code"]), r["area_code"]))
    return CurrentModes(area, factor, [mode_out(r, names) for r in ordered])


def _mode(row: dict[str, Any]) -> ActiveMode:
    return ActiveMode(row["id"], row["area_code"], row["kind"], row["factor"])


async def history(area: str | None, limit: int, offset: int) -> ModeHistory:
    """Every switch, newest first: around and inside ``area`` (all without one)."""
    area = _area_filter(area)
    query = EmergencyMode.select()
    count = EmergencyMode.count()
    if area is not None:
        query = query.where(_around_or_inside(area))
        count = count.where(_around_or_inside(area))
    rows = await query.order_by(EmergencyMode.id, ascending=False).limit(limit).offset(offset)
    names = await place_names(r["area_code"] for r in rows)
    return ModeHistory([mode_out(r, names) for r in rows], await count)
