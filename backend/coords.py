"""Coordinates as clients send them: checked, then converted to WGS 84 once, at the edge."""

from __future__ import annotations

import math

from backend.errors import Invalid
from geo.crs import CRS_NAMES, to_wgs84


def wgs84_point(lon: float, lat: float, crs: str = "wgs84") -> tuple[float, float]:
    """Validate a point in ``crs`` and return it in WGS 84; 422 with a reason otherwise."""
    if crs not in CRS_NAMES:
        raise Invalid(
            "unknown_crs", f"crs must be one of {', '.join(CRS_NAMES)}, not {crs!r}", crs=crs
        )
    if not (math.isfinite(lon) and -180 <= lon <= 180):
        raise Invalid("invalid_coordinate", f"longitude {lon} is outside -180..180", lon=lon)
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        raise Invalid("invalid_coordinate", f"latitude {lat} is outside -90..90", lat=lat)
    x, y = to_wgs84(lon, lat, crs)
    return float(x), float(y)
