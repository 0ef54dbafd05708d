from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, FromQuery, QueryParameter

from backend.collections import service
from backend.collections.catalog import COLLECTIONS
from backend.core.errors import BadRequest, NotFound
from backend.core.geojson import Collection, FeatureCollection, Link, encode
from backend.core.spatial import parse_bbox

GEOJSON = "application/geo+json"
_PAGING = {"bbox", "limit", "offset", "f"}


def _collection(name: str) -> Collection:
    if name not in COLLECTIONS:
        raise NotFound("collection", name)
    return COLLECTIONS[name]


def _describe(spec: Collection, base: str, extent: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": spec.name,
        "title": spec.title,
        "description": spec.description,
        "itemType": "feature",
        "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
        "filters": sorted(spec.filters),
        "links": [
            {
                "href": f"{base}/api/collections/{spec.name}",
                "rel": "self",
                "type": "application/json",
            },
            {"href": f"{base}/api/collections/{spec.name}/items", "rel": "items", "type": GEOJSON},
        ],
    }
    if extent is not None:
        out["extent"] = {"spatial": {"bbox": [list(extent)]}}
    return out


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


class CollectionsController(Controller):
    path = "/api/collections"
    tags = ["collections"]

    @get("/", summary="The map layers (OGC API – Features collections)")
    async def list_collections(self, request: Request) -> dict[str, Any]:
        base = _base(request)
        return {"collections": [_describe(c, base) for c in COLLECTIONS.values()], "links": []}

    @get("/{name:str}", summary="One collection, with its extent")
    async def get_collection(self, name: FromPath[str], request: Request) -> dict[str, Any]:
        spec = _collection(name)
        return _describe(spec, _base(request), await service.extent(spec))

    @get(
        "/{name:str}/items",
        summary="Features of a collection, filtered by bbox and properties, paged",
        description=(
            "GeoJSON FeatureCollection in WGS 84. `bbox=minLon,minLat,maxLon,maxLat` keeps "
            "features whose bounding box intersects it. Other query parameters filter by "
            "equality on the collection's `filters`. Follow the `next` link for more."
        ),
        media_type=GEOJSON,
    )
    async def get_items(
        self,
        name: FromPath[str],
        request: Request,
        bbox: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=10_000)] = 100,
        offset: Annotated[int, QueryParameter(ge=0, le=2**31 - 1)] = 0,
    ) -> Response[bytes]:
        spec = _collection(name)
        pairs = [(k, v) for k, v in request.query_params.multi_items() if k not in _PAGING]
        filters = dict(pairs)
        if len(filters) < len(pairs):
            raise BadRequest("repeated_parameter", "each filter may be given once")
        unknown = sorted(set(filters) - set(spec.filters))
        if unknown:
            raise BadRequest(
                "unknown_parameter",
                f"{name} cannot be filtered by {unknown[0]!r}",
                filters=sorted(spec.filters),
            )
        box = parse_bbox(bbox) if bbox is not None else None
        page = await service.items(spec, bbox=box, limit=limit, offset=offset, filters=filters)
        links = [Link(str(request.url), "self", GEOJSON)]
        if offset + len(page.features) < page.matched:
            links.append(Link(_page_url(request, offset + limit), "next", GEOJSON))
        if offset > 0:
            links.append(Link(_page_url(request, max(offset - limit, 0)), "prev", GEOJSON))
        body = FeatureCollection(
            features=page.features,
            numberMatched=page.matched,
            numberReturned=len(page.features),
            links=links,
        )
        return Response(encode(body), media_type=GEOJSON)

    @get("/{name:str}/items/{feature_id:str}", summary="One feature", media_type=GEOJSON)
    async def get_item(self, name: FromPath[str], feature_id: FromPath[str]) -> Response[bytes]:
        feature = await service.item(_collection(name), feature_id)
        return Response(encode(feature), media_type=GEOJSON)


def _page_url(request: Request, offset: int) -> str:
    return str(request.url.with_replacements(query=_with_offset(request, offset)))


def _with_offset(request: Request, offset: int) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "offset"]
    return urlencode([*params, ("offset", str(offset))])
