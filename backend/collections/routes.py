"""OGC API – Features over the map layers: the landing page ``/api/``, conformance, the
collections, their items (paged by ``offset`` in ``next`` links), single features and
queryables. The OpenAPI document Litestar serves is the ``service-desc``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, QueryParameter
from piccolo.columns import Integer, Serial

from backend.auth.service import bearer_token, principal_from_token
from backend.collections import service
from backend.collections.catalog import COLLECTIONS
from backend.collections.ogc import (
    CONFORMANCE,
    CRS84,
    DEFAULT_LIMIT,
    GEOJSON,
    GREGORIAN,
    HTML,
    JSON,
    MAX_LIMIT,
    OPENAPI,
    SCHEMA_JSON,
    check_crs,
    clamp_limit,
    parse_datetime,
)
from backend.core.errors import BadRequest, NotFound
from backend.core.geojson import Collection, FeatureCollection, Link, LinkedFeature, encode
from backend.core.principal import Principal
from backend.core.spatial import parse_bbox

# Query parameters of the standard, not property filters. ``f`` (a format) is tolerated: JSON
# and GeoJSON are all there is.
_STANDARD = {"bbox", "bbox-crs", "crs", "datetime", "limit", "offset", "f"}
_CONTENT_CRS = {"Content-Crs": f"<{CRS84}>"}


def _collection(name: str) -> Collection:
    if name not in COLLECTIONS:
        raise NotFound("collection", name)
    return COLLECTIONS[name]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def _asker(request: Request, state: State) -> Principal | None:
    """The signed-in person, if a bearer token came (401 if it is bad); None for anyone."""
    token = bearer_token(request)
    return None if token is None else await principal_from_token(token, state.settings)


def _link(href: str, rel: str, type_: str, title: str | None = None) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": type_} | ({"title": title} if title else {})


def _extent(extent: service.Extent) -> dict[str, Any] | None:
    if extent.bbox is None:
        return None
    out: dict[str, Any] = {"spatial": {"bbox": [list(extent.bbox)], "crs": CRS84}}
    if extent.interval is not None:
        start, end = extent.interval
        out["temporal"] = {"interval": [[start.isoformat(), end.isoformat()]], "trs": GREGORIAN}
    return out


def _describe(spec: Collection, base: str, extent: service.Extent) -> dict[str, Any]:
    url = f"{base}/api/collections/{spec.name}"
    out: dict[str, Any] = {
        "id": spec.name,
        "title": spec.title,
        "description": spec.description,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "filters": sorted(spec.filters),
        "links": [
            _link(url, "self", JSON, "this collection"),
            _link(f"{url}/items", "items", GEOJSON, "its features"),
            _link(
                f"{url}/queryables",
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                SCHEMA_JSON,
                "what its features can be filtered by",
            ),
        ],
    }
    described = _extent(extent)
    if described is not None:
        out["extent"] = described
    return out


class CollectionsController(Controller):
    """The whole OGC API under ``/api``: its landing page is the API's root."""

    path = "/api"
    tags = ["collections"]

    @get("/", summary="OGC API – Features landing page")
    async def landing(self, request: Request) -> dict[str, Any]:
        base = _base(request)
        return {
            "title": "Wangge 网格化服务管理",
            "description": (
                "Areas, grids, buildings, service points and cases as OGC API – Features."
            ),
            "links": [
                _link(f"{base}/api/", "self", JSON, "this document"),
                _link(f"{base}/api/openapi", "service-desc", OPENAPI, "the API definition"),
                _link(f"{base}/schema", "service-doc", HTML, "the API documentation"),
                _link(f"{base}/api/conformance", "conformance", JSON, "conformance classes"),
                _link(f"{base}/api/collections", "data", JSON, "the map layers"),
            ],
        }

    @get("/openapi", include_in_schema=False)
    async def service_desc(self, request: Request) -> Response[bytes]:
        """Litestar's OpenAPI document under the media type OGC clients look for: GDAL (and
        so QGIS) refuses ``/schema/openapi.json``'s bare ``application/vnd.oai.openapi+json``."""
        return Response(encode(request.app.openapi_schema.to_schema()), media_type=OPENAPI)

    @get("/conformance", summary="OGC API conformance classes")
    async def conformance(self) -> dict[str, list[str]]:
        return {"conformsTo": CONFORMANCE}

    @get("/collections", summary="The map layers (OGC API – Features collections)")
    async def list_collections(self, request: Request, state: State) -> dict[str, Any]:
        base, asker = _base(request), await _asker(request, state)
        return {
            "collections": [
                _describe(c, base, await service.extent(c, asker)) for c in COLLECTIONS.values()
            ],
            "links": [_link(f"{base}/api/collections", "self", JSON, "the map layers")],
        }

    @get("/collections/{name:str}", summary="One collection, with its extent")
    async def get_collection(
        self, name: FromPath[str], request: Request, state: State
    ) -> dict[str, Any]:
        spec = _collection(name)
        extent = await service.extent(spec, await _asker(request, state))
        return _describe(spec, _base(request), extent)

    @get(
        "/collections/{name:str}/queryables",
        summary="What a collection's features can be filtered by (JSON Schema)",
        media_type=SCHEMA_JSON,
    )
    async def get_queryables(self, name: FromPath[str], request: Request) -> dict[str, Any]:
        spec = _collection(name)
        return {
            "$schema": "https://json-schema.org/draft/2019-09/schema",
            "$id": f"{_base(request)}/api/collections/{name}/queryables",
            "type": "object",
            "title": spec.title,
            "properties": {
                key: {
                    "title": key,
                    "type": "integer" if isinstance(column, Integer | Serial) else "string",
                }
                for key, column in sorted(spec.filters.items())
            },
            "additionalProperties": False,
        }

    @get(
        "/collections/{name:str}/items",
        summary="Features of a collection, filtered by bbox, datetime and properties, paged",
        description=(
            "GeoJSON FeatureCollection in WGS 84 (CRS84). `bbox=minLon,minLat,maxLon,maxLat` "
            "keeps features whose bounding box intersects it. `datetime` (an instant, a date or "
            "an interval start/end, `..` for an open end) filters collections with a time "
            "(cases: when reported) and is ignored by the others. Other query parameters filter "
            "by equality on the collection's queryables. Follow the `next` link for more; a "
            f"`limit` above {MAX_LIMIT} is served as {MAX_LIMIT}."
        ),
        media_type=GEOJSON,
    )
    async def get_items(
        self,
        name: FromPath[str],
        request: Request,
        state: State,
        bbox: FromQuery[str | None] = None,
        datetime_: Annotated[str | None, QueryParameter(name="datetime")] = None,
        crs: FromQuery[str | None] = None,
        bbox_crs: Annotated[str | None, QueryParameter(name="bbox-crs")] = None,
        limit: Annotated[
            int, QueryParameter(ge=1, le=2**31 - 1, schema_extra={"maximum": MAX_LIMIT})
        ] = DEFAULT_LIMIT,
        offset: Annotated[int, QueryParameter(ge=0, le=2**31 - 1)] = 0,
    ) -> Response[bytes]:
        spec = _collection(name)
        check_crs(crs, "crs")
        check_crs(bbox_crs, "bbox-crs")
        pairs = [(k, v) for k, v in request.query_params.multi_items() if k not in _STANDARD]
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
        limit = clamp_limit(limit)
        query = service.Query(
            asker=await _asker(request, state),
            bbox=parse_bbox(bbox) if bbox is not None else None,
            interval=parse_datetime(datetime_) if datetime_ is not None else None,
            filters=filters,
        )
        page = await service.items(spec, query, limit=limit, offset=offset)
        links = [Link(str(request.url), "self", GEOJSON, "this page")]
        if offset + len(page.features) < page.matched:
            links.append(Link(_page_url(request, offset + limit), "next", GEOJSON, "next page"))
        if offset > 0:
            previous = _page_url(request, max(offset - limit, 0))
            links.append(Link(previous, "prev", GEOJSON, "previous page"))
        links.append(Link(f"{_base(request)}/api/collections/{name}", "collection", JSON))
        body = FeatureCollection(
            features=page.features,
            numberMatched=page.matched,
            numberReturned=len(page.features),
            links=links,
            timeStamp=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        return Response(encode(body), media_type=GEOJSON, headers=_CONTENT_CRS)

    @get(
        "/collections/{name:str}/items/{feature_id:str}", summary="One feature", media_type=GEOJSON
    )
    async def get_item(
        self,
        name: FromPath[str],
        feature_id: FromPath[str],
        request: Request,
        state: State,
        crs: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        spec = _collection(name)
        check_crs(crs, "crs")
        feature = await service.item(spec, feature_id, await _asker(request, state))
        url = f"{_base(request)}/api/collections/{name}"
        linked = LinkedFeature(
            id=feature.id,
            geometry=feature.geometry,
            properties=feature.properties,
            links=[
                Link(f"{url}/items/{quote(feature.id)}", "self", GEOJSON, "this feature"),
                Link(url, "collection", JSON, "its collection"),
            ],
        )
        return Response(encode(linked), media_type=GEOJSON, headers=_CONTENT_CRS)


def _page_url(request: Request, offset: int) -> str:
    return str(request.url.with_replacements(query=_with_offset(request, offset)))


def _with_offset(request: Request, offset: int) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "offset"]
    return urlencode([*params, ("offset", str(offset))])
