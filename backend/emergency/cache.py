"""The active modes as each process holds them, for the factor of a case's new clock.

Creating a case must stay one cheap step, so the list of active modes (a handful of rows) is
kept in memory per database and read again at most once a second. The process that switches
replaces it as soon as its switch commits; other processes see the switch within
``MAX_AGE_S``. A clock started in that second with the old factor is corrected by the next
switch of its area, which recomputes every open case there (see ``clocks``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from piccolo.engine import Engine

from backend.emergency.kinds import ActiveMode, effective_factor, place_of
from backend.emergency.tables import EmergencyMode

MAX_AGE_S = 1.0


@dataclass
class _Snapshot:
    engine: Engine
    modes: tuple[ActiveMode, ...]
    read_at: float  # time.monotonic()


# By engine (its id; engines take no weak references): a process serves one database, tests
# run apps on many. A few are kept, so a test run does not hold on to every engine it made.
_snapshots: dict[int, _Snapshot] = {}
_KEPT = 8


def _held(engine: Engine) -> _Snapshot | None:
    held = _snapshots.get(id(engine))
    return held if held is not None and held.engine is engine else None


def _hold(snapshot: _Snapshot) -> None:
    if len(_snapshots) >= _KEPT and id(snapshot.engine) not in _snapshots:
        _snapshots.clear()
    _snapshots[id(snapshot.engine)] = snapshot


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
    _hold(_Snapshot(EmergencyMode._meta.db, modes, time.monotonic()))


async def active_modes() -> tuple[ActiveMode, ...]:
    """The active modes, at most ``MAX_AGE_S`` old."""
    engine = EmergencyMode._meta.db
    held = _held(engine)
    now = time.monotonic()
    if held is not None and now - held.read_at <= MAX_AGE_S:
        return held.modes
    if held is not None:
        held.read_at = now  # callers meanwhile use the old list instead of all reading again
    modes = await read_active()
    if _held(engine) is held:  # else a switch here stored a newer list meanwhile
        _hold(_Snapshot(engine, modes, now))
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
