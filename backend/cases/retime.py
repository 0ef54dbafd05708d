"""Recomputing the due times of an area's open cases when its mode changes (rule: ``clocks``);
the switch of backend/emergency/switching.py calls it through the cases' service.

Runs inside the switch's write transaction. Each case whose due time moves gets a new version,
so a handler who loaded it before the switch is told to reload (409 ``stale_version``), and a
``case.due_changed`` event in its timeline says why it moved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import msgspec
from piccolo.engine import PostgresEngine

from backend.cases.categories import Limits, calendar_for, limits_of
from backend.cases.clocks import CLOCK_EVENTS, Clock, clock_of, due_under
from backend.cases.states import OPEN, WorkflowError
from backend.cases.tables import Case
from backend.core import bulk
from backend.core.areas import code_within, parent_code, scope_prefix
from backend.core.events import EventType
from backend.emergency.service import ActiveMode, effective_factor, place_of
from backend.events.service import NewEvent
from backend.events.tables import Event

_OPEN = sorted(str(s) for s in OPEN)
_CHUNK = 500


def _chain(code: str) -> list[str]:
    """The code and every area above it, up to the city."""
    chain: list[str] = []
    current: str | None = code
    while current is not None:
        chain.append(current)
        current = parent_code(current)
    return chain


async def _open_cases(area_code: str) -> list[dict[str, Any]]:
    """Open cases with a due time lying in the area, each with its ``place``."""
    prefix = scope_prefix(area_code)
    # A case in no grid lies in the deepest of its areas; its list of areas names one inside
    # this area (then checked exactly below) if the case lies here.
    lies_here = Case.grid_code.like(prefix + "%") | (
        Case.grid_code.is_null() & Case.area_codes.like(f"%{prefix}%")
    )
    query = (
        Case.select(
            Case.id,
            Case.grid_code,
            Case.area_codes,
            Case.owner_code,
            Case.category,
            Case.priority,
            Case.due_at,
            Case.version,
        )
        .where(Case.status.is_in(_OPEN) & Case.due_at.is_not_null() & lies_here)
        .order_by(Case.id)
    )
    if isinstance(Case._meta.db, PostgresEngine):
        # Held until the switch commits: a handler's write waits, then finds a new version.
        query = query.lock_rows("UPDATE")
    found = []
    for row in await query:
        place = place_of(row["grid_code"], row["area_codes"])
        if place is not None and code_within(place, area_code):
            found.append(row | {"place": place})
    return sorted(found, key=lambda r: (r["place"], r["id"]))


async def _clocks(cases: Sequence[dict[str, Any]]) -> dict[int, Clock]:
    """Each case's running clock, read from the event log in chunks of cases.

    A case's events are scoped to its owner at the time, always its grid or an area above it:
    filtering by those scopes lets the database use the log's scope index.
    """
    found: dict[int, Clock] = {}
    for start in range(0, len(cases), _CHUNK):
        chunk = cases[start : start + _CHUNK]
        scopes = sorted({code for c in chunk for code in _chain(c["place"])})
        rows = (
            await Event.select(Event.subject, Event.type, Event.payload)
            .where(
                Event.scope.is_in(scopes)
                & Event.subject.is_in([f"case:{c['id']}" for c in chunk])
                & Event.type.is_in(list(CLOCK_EVENTS))
            )
            .order_by(Event.id)
        )
        events: dict[int, list[tuple[str, Any]]] = defaultdict(list)
        for r in rows:
            events[int(r["subject"].removeprefix("case:"))].append(
                (r["type"], msgspec.json.decode(r["payload"]))
            )
        for case_id, logged in events.items():
            clock = clock_of(logged)
            if clock is not None:
                found[case_id] = clock
    return found


async def _new_due(
    case: dict[str, Any],
    clock: Clock,
    factor: float,
    known: dict[str, Limits | None],
) -> datetime | None:
    category = case["category"]
    if category not in known:
        known[category] = await limits_of(category)
    limits = known[category]
    if limits is None:
        return None
    table = limits.accept if clock.limit == "accept" else limits.close
    calendar = await calendar_for(limits, clock.limit, case["priority"])
    try:
        return due_under(clock, table, case["priority"], factor, calendar)
    except WorkflowError:  # no limit for this priority: the workflow gave it none either
        return None


async def retime_area(
    area_code: str, modes: Iterable[ActiveMode], now: datetime, mode_id: int, actor: int
) -> list[NewEvent]:
    """Put every open case located in ``area_code`` on the factor ``modes`` give it; the
    events of the cases whose due time moved (to append last, with the switch's own)."""
    modes = tuple(modes)
    cases = await _open_cases(area_code)
    clocks = await _clocks(cases)
    known: dict[str, Limits | None] = {}
    updates: list[tuple[Any, ...]] = []
    events: list[NewEvent] = []
    for case in cases:
        clock = clocks.get(case["id"])
        if clock is None:
            continue
        factor = effective_factor(modes, case["place"])
        due = await _new_due(case, clock, factor, known)
        if due is None or due == case["due_at"]:
            continue
        updates.append((due, case["version"] + 1, now, case["id"]))
        payload = {
            "type": "due_changed",
            "due_at": due.isoformat(),
            "from_due_at": case["due_at"].isoformat(),
            "factor": factor,
            "mode": mode_id,
            "at": now.isoformat(),
        }
        subject = f"case:{case['id']}"
        events.append(
            NewEvent(EventType.case_due_changed, subject, case["owner_code"], payload, actor)
        )
    await bulk.update(Case, "id", ["due_at", "version", "updated_at"], updates)
    return events
