"""Service points: the nearest ones to a place, and 红色物业 linked to the grid they serve (by
point-in-polygon when their file names no grid; the imports call it after a write)."""

from __future__ import annotations

import numpy as np
import shapely

from backend.core import bulk
from backend.core.spatial import point_in_bbox
from backend.grids.tables import Grid
from backend.points.schemas import Nearby, NearbyPoint
from backend.points.tables import KIND_LABELS, PointKind, ServicePoint
from geo.distance import degree_box, haversine_m
from geo.router import GridRouter


async def nearest(
    lon: float, lat: float, *, kinds: list[str], limit: int, within_m: float
) -> Nearby:
    """The ``limit`` nearest service points within ``within_m`` metres, nearest first.

    SQL narrows to a lon/lat box around the point; exact distances are computed here.
    """
    where = [point_in_bbox(ServicePoint.lon, ServicePoint.lat, degree_box(lon, lat, within_m))]
    if kinds:
        where.append(ServicePoint.kind.is_in(kinds))
    rows = await ServicePoint.select(
        ServicePoint.code,
        ServicePoint.name,
        ServicePoint.kind,
        ServicePoint.level,
        ServicePoint.address,
        ServicePoint.hours,
        ServicePoint.phone,
        ServicePoint.lon,
        ServicePoint.lat,
    ).where(*where)
    if not rows:
        return Nearby(lon, lat, within_m, [])
    dist = haversine_m(lon, lat, [r["lon"] for r in rows], [r["lat"] for r in rows])
    order = [i for i in np.argsort(dist, kind="stable") if dist[i] <= within_m][:limit]
    return Nearby(
        lon,
        lat,
        within_m,
        [
            NearbyPoint(
                **rows[i],
                kind_label=KIND_LABELS[rows[i]["kind"]],
                distance_m=round(float(dist[i]), 1),
            )
            for i in order
        ],
    )


async def link_red_properties() -> int:
    """Give every 红色物业 that names no grid the grid it lies in; returns how many changed.

    Runs inside the caller's write transaction, after points or grids were written: a point
    whose grid was removed, or whose located grid changed shape, is placed again. A grid its
    file named stays as it is.
    """
    points = await ServicePoint.select(
        ServicePoint.id, ServicePoint.lon, ServicePoint.lat, ServicePoint.grid
    ).where(
        (ServicePoint.kind == PointKind.red_property.value)
        & (ServicePoint.grid.is_null() | (ServicePoint.grid_located == True))  # noqa: E712
    )
    if not points:
        return 0
    grids = await Grid.select(Grid.id, Grid.geom).order_by(Grid.code)
    found = np.full(len(points), -1)
    if grids:
        router = GridRouter(shapely.from_geojson([g["geom"] for g in grids]))
        found = router.locate_many(
            np.array([p["lon"] for p in points]), np.array([p["lat"] for p in points])
        )
    moved = []
    for point, at in zip(points, found.tolist(), strict=True):
        grid = grids[at]["id"] if at >= 0 else None
        if grid != point["grid"]:
            moved.append((grid, grid is not None, point["id"]))
    await bulk.update(ServicePoint, "id", ("grid", "grid_located"), moved)
    return len(moved)
