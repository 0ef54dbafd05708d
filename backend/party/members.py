"""双报到: a person registers as a party member with the community they live in."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from piccolo.query.functions.aggregate import Count, Sum

from backend.areas.schemas import AreaRef
from backend.areas.tables import Area
from backend.core.db import write_transaction
from backend.core.errors import ApiError, Invalid, NotFound
from backend.core.events import EventType
from backend.core.principal import Principal
from backend.core.roles import AREA_ROLES
from backend.events.service import NewEvent, append
from backend.party.rules import normalise_unit
from backend.party.schemas import MemberOut, RegisterIn
from backend.party.scope import prefix_of, require_within, staff_area
from backend.party.tables import NeedClaim, PartyMember

MEMBERS_LIMIT = 10_000
_COLUMNS = (
    PartyMember.id,
    PartyMember.person.id.as_alias("person_id"),
    PartyMember.person.name.as_alias("name"),
    PartyMember.work_unit,
    PartyMember.home_community,
    PartyMember.registered_at,
)


async def community_ref(code: str) -> AreaRef:
    """The community (or village) named by ``code``; 422 when it is none."""
    row = await Area.select(Area.code, Area.name, Area.level).where(Area.code == code).first()
    if row is None:
        raise Invalid("unknown_community", f"no community or village {code!r}", community=code)
    if row["level"] != "community":
        raise Invalid(
            "not_a_community",
            f"{code} is a {row['level']}; members register with a community or village",
            community=code,
        )
    return AreaRef(row["code"], row["name"], row["level"])


async def area_names(codes: Iterable[str]) -> dict[str, str]:
    wanted = list(set(codes)) or [""]
    rows = await Area.select(Area.code, Area.name).where(Area.code.is_in(wanted))
    return {a["code"]: a["name"] for a in rows}


async def register(principal: Principal, data: RegisterIn) -> tuple[MemberOut, bool]:
    """Register the asker (any role), or change their unit or community; True when new."""
    unit = normalise_unit(data.work_unit)
    community = await community_ref(data.home_community)
    now = datetime.now(UTC)
    async with write_transaction(PartyMember._meta.db):
        row = (
            await PartyMember.select(PartyMember.id)
            .where(PartyMember.person == principal.id)
            .first()
        )
        values: dict[str, Any] = {
            "work_unit": unit,
            "home_community": community.code,
            "updated_at": now,
        }
        if row is None:
            inserted = await PartyMember.insert(
                PartyMember(person=principal.id, registered_at=now, **values)
            ).returning(PartyMember.id)
            member_id, kind = inserted[0]["id"], EventType.party_member_registered
        else:
            member_id, kind = row["id"], EventType.party_member_updated
            await PartyMember.update(**values).where(PartyMember.id == member_id)
        payload = {"member": member_id, "person": principal.id, "work_unit": unit}
        await append(
            [NewEvent(kind, f"party_member:{member_id}", community.code, payload, principal.id)]
        )
    return await member(member_id), row is None


async def member_row_of(person_id: int) -> dict[str, Any]:
    """The asker's membership; 404 ``not_registered`` when they have not registered."""
    row = await PartyMember.select(*_COLUMNS).where(PartyMember.person == person_id).first()
    if row is None:
        raise ApiError(
            404, "not_registered", "register as a party member first (双报到)", person=person_id
        )
    return row


async def member(member_id: int) -> MemberOut:
    row = await PartyMember.select(*_COLUMNS).where(PartyMember.id == member_id).first()
    if row is None:
        raise NotFound("party member", member_id)
    return (await _outs([row]))[0]


async def mine(principal: Principal) -> MemberOut:
    return (await _outs([await member_row_of(principal.id)]))[0]


async def members_in(principal: Principal, area: str | None, unit: str | None) -> list[MemberOut]:
    """Members registered in ``area`` (the asker's own by default), optionally of one unit."""
    own = staff_area(principal, AREA_ROLES)
    area = area or own
    require_within(area, own)
    prefix = f"{prefix_of(area)}%"
    query = PartyMember.select(*_COLUMNS).where(PartyMember.home_community.like(prefix))
    claims = NeedClaim.member.home_community.like(prefix)
    if unit is not None:
        query = query.where(PartyMember.work_unit == normalise_unit(unit))
        claims &= NeedClaim.member.work_unit == normalise_unit(unit)
    query = query.order_by(PartyMember.home_community).order_by(PartyMember.id)
    rows = await query.limit(MEMBERS_LIMIT + 1)
    if len(rows) > MEMBERS_LIMIT:
        raise Invalid("too_many_rows", f"more than {MEMBERS_LIMIT} members; name an area or unit")
    return await _outs(rows, claims)


async def _outs(rows: list[dict[str, Any]], claims: Any = None) -> list[MemberOut]:
    """Members with their confirmed hours of all time; ``claims`` narrows the claims summed
    to those of the listed members (by default, by their ids)."""
    if claims is None:
        claims = NeedClaim.member.is_in([r["id"] for r in rows] or [0])
    totals = {
        t["member"]: t
        for t in await NeedClaim.select(
            NeedClaim.member, Sum(NeedClaim.hours, alias="hours"), Count(alias="services")
        )
        .where(claims, NeedClaim.status == "confirmed")
        .group_by(NeedClaim.member)
    }
    names = await area_names(r["home_community"] for r in rows)
    return [
        MemberOut(
            id=r["id"],
            person_id=r["person_id"],
            name=r["name"],
            work_unit=r["work_unit"],
            home_community=AreaRef(
                r["home_community"], names.get(r["home_community"], ""), "community"
            ),
            registered_at=r["registered_at"].isoformat(),
            confirmed_hours=round(float(totals.get(r["id"], {}).get("hours") or 0), 2),
            services=int(totals.get(r["id"], {}).get("services") or 0),
        )
        for r in rows
    ]
