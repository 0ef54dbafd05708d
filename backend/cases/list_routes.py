"""The case list over HTTP: a grid leader's inbox (paged JSON) and its CSV export.

Served under /api/case-list: Litestar refuses a second controller on /api/cases, where
CasesController's POST already made the route (and its OPTIONS handler).
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter
from litestar.response import Stream

from backend.cases import export, listing
from backend.cases.listing import Filters
from backend.cases.schemas import CaseOut
from backend.core.errors import BadRequest
from backend.core.geojson import Link
from backend.core.principal import Principal

JSON = "application/json"

Many = Annotated[list[str] | None, QueryParameter(description="repeatable: any of the values")]
Limit = Annotated[int, QueryParameter(ge=1, le=500, description="cases per page")]
Offset = Annotated[int, QueryParameter(ge=0, le=2**31 - 1, description="cases to skip")]
Search = Annotated[
    str | None, QueryParameter(max_length=200, description="text in description or address")
]

_REPEATABLE = frozenset({"area", "grid", "status", "category", "kind", "source"})
_SINGLE = frozenset({"overdue", "bbox", "q", "mine"})
_PAGING = frozenset({"limit", "offset"})


class CasePage(msgspec.Struct):
    items: list[CaseOut]
    numberMatched: int  # camelCase as in the collections (OGC API) pages
    links: list[Link]


def provide_filters(
    area: Many = None,
    grid: Many = None,
    status: Many = None,
    category: Many = None,
    kind: Many = None,
    source: Many = None,
    overdue: Annotated[bool | None, QueryParameter(description="open and past due")] = None,
    bbox: Annotated[str | None, QueryParameter(description="minLon,minLat,maxLon,maxLat")] = None,
    q: Search = None,
    mine: Annotated[bool, QueryParameter(description="reported by or assigned to me")] = False,
) -> Filters:
    """The filters both routes take: codes by prefix (area, category), the rest exact."""
    return listing.parse_filters(
        areas=area or (),
        grids=grid or (),
        statuses=status or (),
        categories=category or (),
        kinds=kind or (),
        sources=source or (),
        overdue=overdue,
        bbox=bbox,
        q=q,
        mine=mine,
    )


def _refuse_strays(request: Request, allowed: frozenset[str]) -> None:
    # A misspelt filter ("stauts") would otherwise list everything, as if none were given.
    counts = Counter(name for name, _ in request.query_params.multi_items())
    for name, count in counts.items():
        if name not in allowed:
            raise BadRequest(
                "unknown_parameter", f"cases cannot be filtered by {name!r}", name=name
            )
        if name not in _REPEATABLE and count > 1:
            raise BadRequest("repeated_parameter", f"{name} may be given once", name=name)


def _page_url(request: Request, offset: int) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "offset"]
    query = urlencode([*params, ("offset", str(offset))])
    return str(request.url.with_replacements(query=query))


def _links(request: Request, offset: int, limit: int, returned: int, matched: int) -> list[Link]:
    links = [Link(str(request.url), "self", JSON)]
    if offset + returned < matched:
        links.append(Link(_page_url(request, offset + limit), "next", JSON))
    if offset > 0:
        links.append(Link(_page_url(request, max(offset - limit, 0)), "prev", JSON))
    return links


class CaseListController(Controller):
    path = "/api/case-list"
    tags = ["cases"]
    dependencies = {"filters": Provide(provide_filters, sync_to_thread=False)}

    @get(
        "/",
        summary="The cases you may see, filtered; overdue and due soonest first",
        description=(
            "`area` and `category` match by code prefix, `grid`, `status`, `kind` and `source` "
            "(app, anonymous, hotline, patrol, task, open311) exactly; "
            "each may be repeated (any of them). `overdue=true`: open and past due. "
            "`bbox=minLon,minLat,maxLon,maxLat` in WGS 84. `mine=true`: reported by or "
            "assigned to you. Follow the `next` link for more."
        ),
    )
    async def list_cases(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        filters: NamedDependency[Filters],
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> CasePage:
        _refuse_strays(request, _REPEATABLE | _SINGLE | _PAGING)
        found = await listing.page(filters, principal, limit=limit, offset=offset)
        links = _links(request, offset, limit, len(found.items), found.matched)
        return CasePage(items=found.items, numberMatched=found.matched, links=links)

    @get(
        "/export.csv",
        summary="The same list as a spreadsheet (CSV, UTF-8), without contact phones",
        description=f"Every matching case in id order, at most {export.EXPORT_LIMIT}.",
    )
    async def export_cases(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        filters: NamedDependency[Filters],
    ) -> Stream:
        _refuse_strays(request, _REPEATABLE | _SINGLE)
        rows = await export.export(filters, principal)
        return Stream(
            rows,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="cases.csv"'},
        )
