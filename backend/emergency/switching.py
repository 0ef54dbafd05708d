"""Switching an area into emergency and back.

Who: a district admin inside their district, a city admin anywhere in the city. Each switch is
one write transaction: the mode row, the due times of the area's open cases (the cases'
``retime_area``), then the events, ``mode.changed`` first (scope: the area's code), last in the
transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg

from backend.cases.service import retime_area
from backend.core.areas import code_within
from backend.core.db import write_transaction
from backend.core.errors import ApiError, Conflict, Forbidden, Invalid
from backend.core.events import EventType
from backend.core.principal import Principal
from backend.core.roles import ADMINS
from backend.emergency.kinds import factor_of, is_code, reason_of
from backend.emergency.schemas import ModeOut, SwitchOff, SwitchOn
from backend.emergency.service import mode_out, read_active, remember
from backend.emergency.tables import EmergencyMode
from backend.events.service import NewEvent, append
from backend.grids.service import place_names


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
    return mode_out(row, {data.area_code: name}, retimed)


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
    return mode_out(row, {code: name}, retimed)
