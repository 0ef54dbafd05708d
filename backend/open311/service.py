"""Reading cases and categories for Open311: the queries behind the endpoints."""

from __future__ import annotations

from typing import Any

from piccolo.columns.combination import WhereRaw

from backend.cases.service import category_names, department_names
from backend.cases.tables import Case, CasePhoto, Category
from backend.core.errors import NotFound
from backend.grids.service import place_names
from backend.open311.filters import LIMIT, RequestFilter
from backend.open311.mapping import (
    PRIVATE_GROUPS,
    Names,
    Service,
    ServiceRequest,
    service_request,
    services,
)

# Category codes start with their group's two digits (categories.json).
_PUBLIC = WhereRaw(
    "substr(category, 1, 2) NOT IN ({})".format(", ".join("{}" for _ in PRIVATE_GROUPS)),
    *sorted(PRIVATE_GROUPS),
)


async def all_services() -> list[Service]:
    rows = await Category.select(Category.code, Category.name, Category.parent)
    return services(rows)


def _where(f: RequestFilter) -> list[Any]:
    if f.ids:
        return [_PUBLIC, Case.id.is_in(list(f.ids))]
    where = [_PUBLIC, Case.created_at >= f.start, Case.created_at <= f.end]
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
    rows = await Case.select().where(_PUBLIC, Case.id == request_id)
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
            r, names, None if r["id"] not in photos else f"{base_url}/api/photos/{photos[r['id']]}"
        )
        for r in rows
    ]


async def _first_photos(case_ids: list[int]) -> dict[int, str]:
    """The file id of each case's first photo."""
    rows = (
        await CasePhoto.select(CasePhoto.case_id, CasePhoto.file_id)
        .where(CasePhoto.case_id.is_in(case_ids))
        .order_by(CasePhoto.id)
    )
    first: dict[int, str] = {}
    for r in rows:
        first.setdefault(r["case_id"], r["file_id"])
    return first
