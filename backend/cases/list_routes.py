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
Cursor = Annotated[
    str | None,
    QueryParameter(max_length=200, description="where the page before ended (its next_cursor)"),
]
Search = Annotated[
    str | None, QueryParameter(max_length=200, description="text in description or address")
]

_REPEATABLE = frozenset({"area", "grid", "status", "category", "kind", "source"})
_SINGLE = frozenset({"overdue", "bbox", "q", "mine"})
_PAGING = frozenset({"limit", "offset", "cursor"})


class CasePage(msgspec.Struct):
    items: list[CaseOut]
    # camelCase as in the collections (OGC API) pages. Counted up to listing.COUNT_CAP: past
    # it numberMatched is the cap and numberMatchedCapped true ("1000+").
    numberMatched: int
    numberMatchedCapped: bool
    links: list[Link]
    next_cursor: str | None  # the next page's ``cursor``; null on the last page


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


def _page_url(request: Request, offset: int, cursor: str | None = None) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in _MOVES]
    moves = [("offset", str(offset))] + ([] if cursor is None else [("cursor", cursor)])
    return str(request.url.with_replacements(query=urlencode([*params, *moves])))


_MOVES = frozenset({"offset", "cursor"})


def _links(request: Request, offset: int, limit: int, next_cursor: str | None) -> list[Link]:
    # ``next`` reads by keyset (the cursor); its offset only numbers the page, for ``prev``.
    links = [Link(str(request.url), "self", JSON)]
    if next_cursor is not None:
        links.append(Link(_page_url(request, offset + limit, next_cursor), "next", JSON))
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
            "assigned to you. Follow the `next` link (or pass `next_cursor` as `cursor`) for "
            "more: pages read by keyset, so cases arriving meanwhile neither repeat nor hide "
            "one; with a `cursor`, `offset` only numbers the page for its `prev` link. "
            f"`numberMatched` counts up to {listing.COUNT_CAP}; past it, it is "
            f"{listing.COUNT_CAP} and `numberMatchedCapped` is true."
        ),
    )
    async def list_cases(
        self,
        request: Request,
        principal: NamedDependency[Principal],
        filters: NamedDependency[Filters],
        limit: Limit = 50,
        offset: Offset = 0,
        cursor: Cursor = None,
    ) -> CasePage:
        _refuse_strays(request, _REPEATABLE | _SINGLE | _PAGING)
        found = await listing.page(filters, principal, limit=limit, offset=offset, cursor=cursor)
        return CasePage(
            items=found.items,
            numberMatched=found.matched,
            numberMatchedCapped=found.capped,
            links=_links(request, offset, limit, found.next_cursor),
            next_cursor=found.next_cursor,
        )

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
