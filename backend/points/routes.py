from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from backend.core.coords import Crs, Lat, Lon, parse_number, wgs84_point
from backend.core.errors import Invalid
from backend.points import service
from backend.points.schemas import Nearby
from backend.points.tables import PointKind


class PointsController(Controller):
    path = "/api/service-points"
    tags = ["service points"]

    @get("/nearest", summary="The nearest service points to a point, with distances in metres")
    async def nearest(
        self,
        lon: Lon,
        lat: Lat,
        crs: Crs = "wgs84",
        kind: Annotated[
            list[str] | None,
            QueryParameter(
                description="party_centre, driver_home, warm_station, red_property; repeatable"
            ),
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 10,
        within_m: Annotated[float, QueryParameter(gt=0, le=100_000)] = 10_000,
    ) -> Nearby:
        x, y = wgs84_point(parse_number("lon", lon), parse_number("lat", lat), crs)
        kinds = kind or []
        unknown = sorted(set(kinds) - set(PointKind))
        if unknown:
            raise Invalid(
                "unknown_kind",
                f"unknown service point kind {unknown[0]!r}",
                known=[k.value for k in PointKind],
            )
        return await service.nearest(x, y, kinds=kinds, limit=limit, within_m=within_m)
