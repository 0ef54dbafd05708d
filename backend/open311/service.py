"""Cases and categories for Open311: the queries behind the endpoints, the jurisdiction, a
request handed in, and the public thumbnails of public cases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from backend.areas.tables import Area, AreaLevel
from backend.cases.collection import PUBLIC
from backend.cases.service import (
    category_names,
    department_names,
    photos_folder,
    submit_open311,
)
from backend.cases.tables import Case, CasePhoto, Category
from backend.core.errors import BadRequest, NotFound
from backend.core.settings import Settings
from backend.geocode.service import Geocoder
from backend.grids.service import GridIndex, place_names
from backend.open311.filters import LIMIT, RequestFilter
from backend.open311.mapping import (
    Names,
    Service,
    ServiceDefinition,
    ServiceRequest,
    Submission,
    definition,
    service_request,
    services,
)


class Created(msgspec.Struct):
    """The answer to a POST: the request's id at once (every service is ``realtime``)."""

    service_request_id: str
    service_notice: str
    account_id: str | None


async def all_services() -> list[Service]:
    # A retired category takes no new case: it is no service to ask for any more.
    rows = await Category.select(Category.code, Category.name, Category.parent).where(
        Category.retired.eq(False)
    )
    return services(rows)


async def check_jurisdiction(jurisdiction_id: str | None) -> None:
    """The server serves one city, whose area code (乌海市: 150300) is its jurisdiction_id:
    optional, as the standard allows then, and 404 when it names another."""
    if not jurisdiction_id or not jurisdiction_id.strip():
        return
    cities = await Area.select(Area.code, Area.name).where(Area.level == AreaLevel.city)
    if jurisdiction_id.strip() not in {c["code"] for c in cities}:
        served = ", ".join(f"{c['code']} ({c['name']})" for c in cities) or "no city yet"
        raise NotFound(
            "jurisdiction",
            jurisdiction_id,
            f"jurisdiction_id {jurisdiction_id!r} was not found; this server serves {served}",
        )


async def service_definition(code: str) -> ServiceDefinition:
    row = (
        await Category.select(Category.code, Category.accept_hours, Category.limits)
        .where(Category.code == code, Category.parent.is_not_null(), Category.retired.eq(False))
        .first()
    )
    if row is None:
        raise NotFound("service", code, f"no service_code {code!r}")
    return definition(row)


# Places precise enough to put a request at: a coarser one (a street, a district) names no spot.
_PLACED_AT = frozenset({"building", "point", "grid", "community"})


async def _located(address: str, geocoder: Geocoder) -> tuple[float, float]:
    """The point of the place the city's geocoder finds first for ``address``."""
    found = await geocoder.search(address, 1)
    if not found or found[0].kind not in _PLACED_AT:
        raise BadRequest(
            "address_not_found",
            f"address_string {address!r} names no building, service point, grid or "
            "community of this city; send lat and long",
        )
    return found[0].lon, found[0].lat


async def submit(system: str, request: Submission, index: GridIndex, geocoder: Geocoder) -> Created:
    """Make the case a client system's POST asks for, at its point or where its address is;
    404 for an unknown service_code."""
    await service_definition(request.service_code)  # a leaf category, or 404 as the standard says
    lon, lat = request.point or await _located(request.address, geocoder)
    row = await submit_open311(
        system,
        category=request.service_code,
        description=request.description,
        lon=lon,
        lat=lat,
        address=request.address,
        contact_phone=request.phone,
        priority=request.priority,
        index=index,
    )
    due = row["due_at"].isoformat(timespec="minutes") if row["due_at"] else None
    notice = "已收到，待受理" + (f"（受理时限至 {due}）" if due else "")
    return Created(str(row["id"]), notice, None)


async def thumbnail(name: str, settings: Settings) -> Path:
    """The file of a public case's photo thumbnail (a ``media_url``); 404 otherwise."""
    row = (
        await CasePhoto.select(CasePhoto.thumb_id, CasePhoto.case_id)
        .where(CasePhoto.thumb_id == name)
        .first()
        if name.isascii() and name.isalnum()
        else None
    )
    if row is None or not await Case.exists().where(PUBLIC, Case.id == row["case_id"]):
        raise NotFound("media", name)
    path = photos_folder(settings) / row["thumb_id"]
    if not path.is_file():  # a database restored without its photos folder
        raise NotFound("media", name)
    return path


def _where(f: RequestFilter) -> list[Any]:
    if f.ids:
        return [PUBLIC, Case.id.is_in(list(f.ids))]
    where = [PUBLIC, Case.created_at >= f.start, Case.created_at <= f.end]
    if f.service_codes:
        where.append(Case.category.is_in(list(f.service_codes)))
    if f.statuses:
        where.append(Case.status.is_in(list(f.statuses)))
    return where


async def find(f: RequestFilter, base_url: str) -> list[ServiceRequest]:
    """The public requests ``f`` asks for, newest first, at most LIMIT."""
    rows = (
        await Case.select()
        .where(*_where(f))
        .order_by(Case.created_at, Case.id, ascending=False)
        .limit(LIMIT)
    )
    return await _as_requests(rows, base_url)


async def one(request_id: int, base_url: str) -> ServiceRequest:
    rows = await Case.select().where(PUBLIC, Case.id == request_id)
    if not rows:
        raise NotFound("service request", request_id)
    return (await _as_requests(rows, base_url))[0]


async def _as_requests(rows: list[dict[str, Any]], base_url: str) -> list[ServiceRequest]:
    if not rows:
        return []
    names = Names(
        categories=await category_names(r["category"] for r in rows),
        places=await place_names(r["owner_code"] for r in rows),
        departments=await department_names({r["department"] for r in rows if r["department"]}),
    )
    photos = await _first_photos([r["id"] for r in rows])
    return [
        service_request(
            r,
            names,
            f"{base_url}/open311/v2/media/{photos[r['id']]}.jpg" if r["id"] in photos else None,
        )
        for r in rows
    ]


async def _first_photos(case_ids: list[int]) -> dict[int, str]:
    """The thumbnail's file id of each case's first photo."""
    rows = (
        await CasePhoto.select(CasePhoto.case_id, CasePhoto.thumb_id)
        .where(CasePhoto.case_id.is_in(case_ids))
        .order_by(CasePhoto.id)
    )
    first: dict[int, str] = {}
    for r in rows:
        first.setdefault(r["case_id"], r["thumb_id"])
    return first
