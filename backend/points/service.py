from __future__ import annotations

import numpy as np

from backend.core.spatial import point_in_bbox
from backend.points.schemas import Nearby, NearbyPoint
from backend.points.tables import KIND_LABELS, ServicePoint
from geo.distance import degree_box, haversine_m


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
