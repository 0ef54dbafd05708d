"""How a case comes in: the one path every intake takes (a signed-in report, an anonymous one,
and later the hotline's and Open311's), whoever the caller and whatever they answer.

``intake`` checks the category, places the point (a grid, else the smallest area around it),
starts the workflow (submit, with the category's time to accept), and in one write
transaction inserts the row (one plain statement, records.insert_new) and appends the submit
event. A client id sent before makes no second case: the case it made is handed back instead,
whether the first send committed long ago (the insert is refused by the unique key) or it
races this one (the unique key decides under the write lock).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from backend.cases.categories import calendar_for, limits_of
from backend.cases.placement import place
from backend.cases.records import columns_of, insert_new
from backend.cases.states import Source
from backend.cases.tables import Case
from backend.cases.timing import time_limit
from backend.cases.workflow import submit
from backend.core import clock
from backend.core.coords import wgs84_point
from backend.core.db import write_transaction
from backend.core.errors import ApiError, Invalid, Unavailable
from backend.core.events import case_event
from backend.core.territory import Territory
from backend.emergency.service import factor_for
from backend.events.service import NewEvent, append
from backend.grids.service import GridIndex
from geo.cells import cell_of


@dataclass(frozen=True, slots=True)
class Draft:
    """A case as sent, before the server has placed it."""

    client_id: UUID  # as stored (an anonymous one is keyed with the server's secret)
    kind: str
    category: str
    description: str
    lon: float
    lat: float
    crs: str  # of lon and lat, as the client sent them
    address: str
    contact_phone: str | None
    priority: str
    reporter: int | None  # the signed-in reporter, or None
    actor: Territory  # who submits: the reporter's territory, or the anonymous actor
    source: Source  # the door it came in by
    source_system: str | None = None  # the other city system that handed it over (Open311)


@dataclass(frozen=True, slots=True)
class Intake:
    row: dict[str, Any]  # the case as written (with its id), or the one the client id made
    made: bool  # False: the client id was sent before, and ``row`` is its case


async def intake(
    draft: Draft,
    index: GridIndex,
    tracking_key: Callable[[], Awaitable[str]] | None = None,
) -> Intake:
    """Make the case ``draft`` describes, or find the one its client id made before.

    ``tracking_key``, if given, makes the row's tracking key inside the write transaction
    (anonymous.py: the key must be free when the row goes in); a case that has one has two
    unique keys, and a race on either makes no second case.
    """
    try:
        limits = await limits_of(draft.category)
        if limits is None:
            raise Invalid("unknown_category", f"no category {draft.category!r} to report under")
        if limits.retired:
            raise Invalid(
                "retired_category",
                f"category {draft.category!r} is retired: report under another",
                category=draft.category,
            )
        lon, lat = wgs84_point(draft.lon, draft.lat, draft.crs)
        found = await place(index, lon, lat)  # a grid, else the smallest area around the point
    except ApiError:
        # A retry gets the case its first send made, even if categories or grids changed since.
        existing = await _by_client_id(draft.client_id)
        if existing is None:
            raise
        return Intake(existing, made=False)
    now = clock.now()
    limit = time_limit(limits.accept, draft.priority, await factor_for(found.owner_code))
    calendar = await calendar_for(limits, "accept", draft.priority)
    started = submit(
        draft.kind, found.owner_code, draft.actor, now, time_limit=limit, calendar=calendar
    )
    row: dict[str, Any] = {
        # First: the workflow's columns, of which grid_code is overridden by the routing's.
        **columns_of(started.state),
        "client_id": draft.client_id,
        "kind": draft.kind,
        "source": str(draft.source),
        "source_system": draft.source_system,
        "category": draft.category,
        "description": draft.description,
        "lon": lon,
        "lat": lat,
        "cell": cell_of(lon, lat),
        "crs": draft.crs,
        "address": draft.address,
        "grid_code": found.grid_code,
        "area_codes": found.area_codes,
        "reporter": draft.reporter,
        "contact_phone": draft.contact_phone,
        "priority": draft.priority,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    async with write_transaction(Case._meta.db):
        if tracking_key is not None:
            row["tracking_key"] = await tracking_key()
        # A client id sent before inserts nothing: two sends of one case may race here, and
        # the unique index decides under the write lock.
        case_id = await insert_new(row)
        if case_id is not None:
            event = NewEvent(
                case_event(started.event["type"]),
                f"case:{case_id}",
                found.owner_code,
                started.event,
                draft.reporter,
            )
            await append([event])
    if case_id is not None:
        return Intake({**row, "id": case_id}, made=True)
    existing = await _by_client_id(draft.client_id)  # committed by the other send
    if existing is not None:
        return Intake(existing, made=False)
    if tracking_key is not None:  # another client id's case took the same key at the same moment
        raise Unavailable("no_tracking_code", "the tracking code was taken; send again")
    # Cases are never deleted, and the client id is the only other unique key.
    raise RuntimeError(f"client id {draft.client_id} was taken, yet no case has it")


async def _by_client_id(client_id: UUID) -> dict[str, Any] | None:
    return await Case.select().where(Case.client_id == client_id).first()
