"""Great-circle distances in metres, vectorised."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numpy.typing import ArrayLike

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)


def haversine_m(
    lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike
) -> npt.NDArray[np.float64]:
    """Distance in metres between points given in WGS 84 degrees (arrays broadcast).

    >>> round(float(haversine_m(106.8, 39.6, 106.8, 39.7)))
    11120
    """
    x1, y1, x2, y2 = (np.radians(np.asarray(v, np.float64)) for v in (lon1, lat1, lon2, lat2))
    dlat, dlon = y2 - y1, x2 - x1
    a = np.sin(dlat / 2) ** 2 + np.cos(y1) * np.cos(y2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def degree_box(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    """A lon/lat box that contains every point within ``radius_m`` of (lon, lat).

    >>> box = degree_box(106.8, 39.6, 1000)
    >>> box[0] < 106.8 < box[2] and box[1] < 39.6 < box[3]
    True
    """
    dlat = np.degrees(radius_m / EARTH_RADIUS_M)
    coslat = max(np.cos(np.radians(min(abs(lat) + dlat, 90.0))), 1e-9)
    dlon = min(float(np.degrees(radius_m / (EARTH_RADIUS_M * coslat))), 180.0)
    return (
        max(lon - dlon, -180.0),
        max(lat - float(dlat), -90.0),
        min(lon + dlon, 180.0),
        min(lat + float(dlat), 90.0),
    )
