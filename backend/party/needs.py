"""Community needs (volunteer tasks, 微心愿): published by a community, listed, read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from backend.areas.schemas import AreaRef
from backend.cases.service import in_area
from backend.core.areas import code_within
from backend.core.coords import wgs84_point
from backend.core.db import write_transaction
from backend.core.errors import Conflict, Invalid, NotFound
from backend.core.events import EventType
from backend.core.principal import Principal
from backend.core.roles import AREA_ROLES, COMMUNITY_CENTRES
from backend.events.service import NewEvent, append
from backend.party.claims import claim_outs
from backend.party.members import area_names, community_ref
from backend.party.rules import NEED_KINDS, check_window, window_hours
from backend.party.schemas import NeedIn, NeedOut
from backend.party.scope import prefix_of, require_within, staff_area
from backend.party.tables import CommunityNeed, NeedClaim, PartyMember

LIST_LIMIT = 200


async def check_place(community_code: str, lon: float, lat: float) -> None:
    """A need takes place in its community's street: a point elsewhere is a slip of the
    finger (0, 0 is in the sea), and members would walk to the wrong place."""
    street = community_code[:9]
    where = await in_area(lon, lat)  # 422 outside_all_grids outside the city
    if street not in where.area_codes.split(",") and not where.owner_code.startswith(street):
        raise Invalid(
            "place_outside_street",
            f"({lon:.6f}, {lat:.6f}) is not in the street of community {community_code}",
            street=street,
        )


async def publish(principal: Principal, data: NeedIn) -> tuple[NeedOut, bool]:
    """A community's staff (or its street's) publish a need; the same client_id twice makes
    one need. True when made now."""
    own = staff_area(principal, COMMUNITY_CENTRES)
    existing = await CommunityNeed.select().where(CommunityNeed.client_id == data.client_id).first()
    if existing is not None:
        if existing["created_by"] != principal.id:
            raise Conflict("client_id_taken", "this client_id names someone else's need")
        return await _out(existing, principal), False
    community = await community_ref(data.community_code)
    require_within(community.code, own)
    lon, lat = wgs84_point(data.lon, data.lat, data.crs)
    await check_place(community.code, lon, lat)
    now = datetime.now(UTC)
    check_window(data.starts_at, data.ends_at, now)
    title = data.title.strip()
    if not title:
        raise Invalid("empty_title", "give the need a title")
    row: dict[str, Any] = {
        "client_id": data.client_id,
        "community_code": community.code,
        "kind": data.kind,
        "title": title,
        "description": data.description,
        "place": data.place,
        "lon": lon,
        "lat": lat,
        "starts_at": data.starts_at,
        "ends_at": data.ends_at,
        "capacity": data.capacity,
        "claimed": 0,
        "created_by": principal.id,
        "created_at": now,
    }
    async with write_transaction(CommunityNeed._meta.db):
        inserted = await CommunityNeed.insert(CommunityNeed(**row)).returning(CommunityNeed.id)
        need_id = inserted[0]["id"]
        payload = {"need": need_id, "kind": data.kind, "title": row["title"]}
        payload |= {"capacity": data.capacity, "starts_at": data.starts_at.isoformat()}
        event = NewEvent(
            EventType.party_need_published, f"need:{need_id}", community.code, payload, principal.id
        )
        await append([event])
    return await read(need_id, principal), True


async def need_row(need_id: int) -> dict[str, Any]:
    row = await CommunityNeed.select().where(CommunityNeed.id == need_id).first()
    if row is None:
        raise NotFound("need", need_id)
    return row


async def read(need_id: int, principal: Principal) -> NeedOut:
    return await _out(await need_row(need_id), principal)


async def listing(
    principal: Principal, area: str | None, kind: str | None, include_ended: bool
) -> list[NeedOut]:
    """Needs in ``area`` (by default the asker's home community as a member, else the area
    they work for), soonest first; ended ones only when asked."""
    if kind is not None and kind not in NEED_KINDS:
        raise Invalid("unknown_kind", f"kind is one of {', '.join(NEED_KINDS)}", kind=kind)
    area = area or await _default_area(principal)
    query = CommunityNeed.select().where(CommunityNeed.community_code.like(f"{prefix_of(area)}%"))
    if kind is not None:
        query = query.where(CommunityNeed.kind == kind)
    if not include_ended:
        query = query.where(CommunityNeed.ends_at > datetime.now(UTC))
    rows = (
        await query.order_by(CommunityNeed.starts_at).order_by(CommunityNeed.id).limit(LIST_LIMIT)
    )
    return await _outs(rows, principal)


async def _default_area(principal: Principal) -> str:
    member = (
        await PartyMember.select(PartyMember.home_community)
        .where(PartyMember.person == principal.id)
        .first()
    )
    if member is not None:
        return member["home_community"]
    code = principal.territory.area_code
    if code is None:
        raise Invalid("area_required", "say which area's needs to list (area=…)")
    return code


def sees_claims(principal: Principal, community_code: str) -> bool:
    """The community's staff, its street's, and admins above it see every claim of a need."""
    if principal.role not in AREA_ROLES:
        return False
    own = principal.territory.area_code
    return own is not None and code_within(community_code, own)


async def _out(row: dict[str, Any], principal: Principal) -> NeedOut:
    """One need, with every claim when the asker is the community's staff or above."""
    need = (await _outs([row], principal))[0]
    if sees_claims(principal, row["community_code"]):
        need = msgspec.structs.replace(need, claims=await claim_outs(NeedClaim.need == row["id"]))
    return need


async def _outs(rows: list[dict[str, Any]], principal: Principal) -> list[NeedOut]:
    """Needs as the asker sees them, with the asker's own claim: three queries in all."""
    ids = [r["id"] for r in rows] or [0]
    names = await area_names(r["community_code"] for r in rows)
    mine = {
        c.need_id: c
        for c in await claim_outs(
            NeedClaim.need.is_in(ids) & (NeedClaim.member.person == principal.id)
        )
    }
    return [
        NeedOut(
            id=r["id"],
            client_id=str(r["client_id"]),
            community=AreaRef(r["community_code"], names.get(r["community_code"], ""), "community"),
            kind=r["kind"],
            kind_label=NEED_KINDS[r["kind"]],
            title=r["title"],
            description=r["description"],
            place=r["place"],
            lon=r["lon"],
            lat=r["lat"],
            starts_at=r["starts_at"].isoformat(),
            ends_at=r["ends_at"].isoformat(),
            hours_max=round(window_hours(r["starts_at"], r["ends_at"]), 2),
            capacity=r["capacity"],
            claimed=r["claimed"],
            created_by=r["created_by"],
            created_at=r["created_at"].isoformat(),
            mine=mine.get(r["id"]),
        )
        for r in rows
    ]
