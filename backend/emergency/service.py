"""Switching an area into emergency and back, and reading the modes for banners and history.

Who: a district admin inside their district, a city admin anywhere in the city. Each switch is
one write transaction: the mode row, the due times of the area's open cases (``retime``), then
the events, ``mode.changed`` first (scope: the area's code), last in the transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
from piccolo.columns.combination import Or

from backend.core.areas import code_within, parent_code, scope_prefix
from backend.core.db import write_transaction
from backend.core.errors import ApiError, Conflict, Forbidden, Invalid
from backend.core.events import EventType
from backend.core.principal import Principal
from backend.core.roles import ADMINS
from backend.emergency.cache import read_active, remember
from backend.emergency.kinds import (
    KIND_LABELS,
    KINDS,
    ActiveMode,
    effective_factor,
    factor_of,
    is_code,
    reason_of,
    related,
)
from backend.emergency.retime import retime_area
from backend.emergency.schemas import (
    CurrentModes,
    KindOut,
    ModeHistory,
    ModeOut,
    SwitchOff,
    SwitchOn,
)
from backend.emergency.tables import EmergencyMode
from backend.events.log import NewEvent, append
from backend.grids.names import place_names


def kinds() -> list[KindOut]:
    return [KindOut(k, KIND_LABELS[k], f) for k, f in KINDS.items()]


def _admin_area(principal: Principal) -> str:
    if principal.role not in ADMINS:
        raise Forbidden(
            "forbidden", "a district or city admin switches emergency mode", allowed=ADMINS
        )
    area = principal.territory.centre_area
    if area is None:
        raise Forbidden("forbidden", "your account works for no area")
    return area


def _within(code: str, admin_area: str) -> None:
    if not code_within(code, admin_area):
        raise Forbidden(
            "outside_your_area", f"{code} is not inside your area {admin_area}", area=code
        )


async def _existing(code: str) -> str:
    """The area's (or grid's) name; 422 ``unknown_area`` for a code that names neither."""
    name = (await place_names([code])).get(code) if is_code(code) else None
    if name is None:
        raise Invalid("unknown_area", f"no area or grid {code!r}", area=code)
    return name


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _out(row: dict[str, Any], names: dict[str, str], retimed: int | None = None) -> ModeOut:
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


async def _active_in(code: str) -> dict[str, Any] | None:
    return (
        await EmergencyMode.select()
        .where((EmergencyMode.area_code == code) & EmergencyMode.ended_at.is_null())
        .first()
    )


def _already(row: dict[str, Any]) -> ApiError:
    return Conflict(
        "already_in_emergency",
        f"{row['area_code']} is in emergency already ({row['kind']}, factor {row['factor']}); "
        "end that mode first to switch it again",
        mode=row["id"],
        kind=row["kind"],
        factor=row["factor"],
    )


def _changed(row: dict[str, Any], name: str, principal: Principal, retimed: int) -> NewEvent:
    on = row["ended_at"] is None
    payload = {
        "mode": row["id"],
        "area_code": row["area_code"],
        "area_name": name,
        "kind": row["kind"],
        "factor": row["factor"],
        "reason": row["reason"] if on else row["end_reason"],
        "on": on,
        "who": principal.id,
        "who_name": principal.name,
        "at": (row["started_at"] if on else row["ended_at"]).isoformat(),
        "cases_retimed": retimed,
    }
    subject = f"emergency:{row['id']}"
    return NewEvent(EventType.mode_changed, subject, row["area_code"], payload, principal.id)


async def _settle(row: dict[str, Any], name: str, principal: Principal, now: datetime) -> int:
    """Inside the switch's transaction: retime the area's cases and append the events."""
    modes = await read_active()
    cases = await retime_area(row["area_code"], modes, now, row["id"], principal.id)
    await append([_changed(row, name, principal, len(cases)), *cases])
    return len(cases)


async def switch_on(data: SwitchOn, principal: Principal) -> ModeOut:
    admin_area = _admin_area(principal)
    name = await _existing(data.area_code)
    _within(data.area_code, admin_area)
    factor = factor_of(data.kind, data.factor)
    reason = reason_of(data.reason)
    now = datetime.now(UTC)
    try:
        async with write_transaction(EmergencyMode._meta.db):
            earlier = await _active_in(data.area_code)
            if earlier is not None:
                raise _already(earlier)
            row: dict[str, Any] = {
                "area_code": data.area_code,
                "kind": data.kind,
                "factor": factor,
                "reason": reason,
                "started_at": now,
                "started_by": principal.id,
                "ended_at": None,
                "ended_by": None,
                "end_reason": "",
            }
            inserted = await EmergencyMode.insert(EmergencyMode(**row)).returning(EmergencyMode.id)
            row["id"] = inserted[0]["id"]
            retimed = await _settle(row, name, principal, now)
    except asyncpg.UniqueViolationError:
        # Another admin's switch of this area committed while ours waited on the index.
        raced = await _active_in(data.area_code)
        if raced is None:
            reason = "another switch of this area came at the same time; try again"
            raise Conflict("conflict", reason) from None
        raise _already(raced) from None
    remember(await read_active())
    return _out(row, {data.area_code: name}, retimed)


async def switch_off(code: str, data: SwitchOff, principal: Principal) -> ModeOut:
    admin_area = _admin_area(principal)
    name = await _existing(code)
    _within(code, admin_area)
    reason = reason_of(data.reason)
    now = datetime.now(UTC)
    async with write_transaction(EmergencyMode._meta.db):
        row = await _active_in(code)
        if row is None:
            around = [m.area_code for m in await read_active() if code_within(code, m.area_code)]
            where = f"; it lies in the emergency of {', '.join(around)}" if around else ""
            raise Conflict(
                "not_in_emergency",
                f"{code} has no emergency of its own to end{where}",
                covered_by=around,
            )
        row |= {"ended_at": now, "ended_by": principal.id, "end_reason": reason}
        await EmergencyMode.update(
            {
                EmergencyMode.ended_at: now,
                EmergencyMode.ended_by: principal.id,
                EmergencyMode.end_reason: reason,
            }
        ).where(EmergencyMode.id == row["id"])
        retimed = await _settle(row, name, principal, now)
    remember(await read_active())
    return _out(row, {code: name}, retimed)


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
    return CurrentModes(area, factor, [_out(r, names) for r in ordered])


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
    return ModeHistory([_out(r, names) for r in rows], await count)
