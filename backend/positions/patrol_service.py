"""The patrol log of a worker and day (``GET /api/patrol/...``): who may read it, and the data
it is computed from.

A worker reads their own; a grid leader the logs of the staff of their grids; centre staff and
admins those of grid staff inside their area. The day is the local day of the settings'
timezone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import shapely

from backend.auth.service import principal_of
from backend.buildings.tables import Building
from backend.core.errors import Forbidden, Invalid, NotFound
from backend.core.principal import Principal
from backend.core.roles import GRID_ROLES, Role
from backend.positions.coverage import passed_within
from backend.positions.patrol import duty_seconds, walked_m, walks
from backend.positions.schemas import PatrolOut
from backend.positions.service import grids_of
from backend.positions.store import Store
from backend.positions.tables import DutyPeriod, TrackPoint


def parse_day(text: str, tz: ZoneInfo, now: datetime) -> date:
    """``YYYY-MM-DD`` or ``today`` (in ``tz``); 422 otherwise.

    >>> parse_day("today", ZoneInfo("Asia/Shanghai"), datetime(2026, 11, 25, 17, tzinfo=UTC))
    datetime.date(2026, 11, 26)
    """
    if text == "today":
        return now.astimezone(tz).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid("invalid_date", f"a day is YYYY-MM-DD or today, not {text!r}") from None


def _may_read(principal: Principal, person: int, grids: tuple[str, ...]) -> bool:
    if principal.id == person:
        return True
    if principal.role == Role.grid_leader:
        return bool(set(grids) & principal.territory.grid_codes)
    if principal.role in GRID_ROLES or principal.role == Role.resident:
        return False
    return any(principal.territory.covers(g) for g in grids)


async def _duty_periods(
    person: int, start: datetime, end: datetime, on_duty_now: bool, now: datetime
) -> list[tuple[float, float]]:
    """Periods overlapping the day. The newest open one runs until now if the worker is on
    duty; any other open one was cut by a process dying, and counts from its start only (the
    walks rule covers what it has fixes for)."""
    rows = (
        await DutyPeriod.select(DutyPeriod.started_at, DutyPeriod.ended_at)
        .where(
            (DutyPeriod.person == person)
            & (DutyPeriod.started_at < end)
            & (DutyPeriod.ended_at.is_null() | (DutyPeriod.ended_at > start))
        )
        .order_by(DutyPeriod.started_at)
    )
    periods = []
    for i, r in enumerate(rows):
        ended = r["ended_at"]
        if ended is None:
            ended = now if on_duty_now and i == len(rows) - 1 else r["started_at"]
        periods.append((r["started_at"].timestamp(), ended.timestamp()))
    return periods


async def patrol_log(
    principal: Principal, person: int, day_text: str, tz: ZoneInfo, store: Store
) -> PatrolOut:
    now = datetime.now(UTC)
    day = parse_day(day_text, tz, now)
    worker = await principal_of(person)
    if worker is None or worker.role not in GRID_ROLES:
        raise NotFound("grid staff", person)
    grids = grids_of(worker.territory)
    if not _may_read(principal, person, grids):
        raise Forbidden("forbidden", f"the patrol log of person {person} is not yours to read")
    start = datetime.combine(day, time(0), tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(UTC)
    fixes = (
        await TrackPoint.select(TrackPoint.at, TrackPoint.lon, TrackPoint.lat, TrackPoint.accuracy)
        .where((TrackPoint.person == person) & (TrackPoint.at >= start) & (TrackPoint.at < end))
        .order_by(TrackPoint.at)
    )
    t = np.array([f["at"].timestamp() for f in fixes], dtype=float)
    lon, lat, acc = (
        np.array([f[k] for f in fixes], dtype=float) for k in ("lon", "lat", "accuracy")
    )
    presence = [e for e in (await store.latest(grids[0])) if e.person == person] if grids else []
    on_duty_now = bool(presence) and presence[0].on_duty
    periods = await _duty_periods(person, start, end, on_duty_now, now)
    buildings = (
        await Building.select(Building.code, Building.geom)
        .where(Building.grid.code.is_in(list(grids)))
        .order_by(Building.code)
        if grids
        else []
    )
    footprints = shapely.from_geojson(np.array([b["geom"] for b in buildings], dtype=object))
    lonlat = np.column_stack([lon, lat])
    runs = walks(t)
    passed = passed_within(footprints, [lonlat[w] for w in runs])
    total = len(buildings)
    return PatrolOut(
        person=person,
        name=worker.name,
        date=day.isoformat(),
        timezone=str(tz),
        grids=list(grids),
        fixes=len(fixes),
        distance_m=round(walked_m(lon, lat, acc, t), 1),
        on_duty_seconds=round(duty_seconds(periods, t, start.timestamp(), end.timestamp()), 1),
        buildings_total=total,
        buildings_passed=int(passed.sum()),
        coverage=round(float(passed.sum()) / total, 4) if total else None,
        passed=[b["code"] for b, hit in zip(buildings, passed.tolist(), strict=True) if hit],
        # Six decimals are 0.1 m: finer than any phone's fix.
        track=[[(x, y) for x, y in np.round(lonlat[w], 6).tolist()] for w in runs],
    )
