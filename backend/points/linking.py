"""红色物业 → the grid they serve, by point-in-polygon when their file names no grid."""

from __future__ import annotations

import numpy as np
import shapely

from backend.core import bulk
from backend.grids.tables import Grid
from backend.points.tables import PointKind, ServicePoint
from geo.router import GridRouter


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
