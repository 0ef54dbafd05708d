"""Coordinates as clients send them: checked, then converted to WGS 84 once, at the edge."""

from __future__ import annotations

import math
from typing import Annotated

from litestar.params import QueryParameter

from backend.core.errors import BadRequest, Invalid
from geo.crs import CRS_NAMES, to_wgs84

# Query parameters of every endpoint that takes a point. Numbers are parsed by parse_number.
Lon = Annotated[str, QueryParameter(description="longitude (a number), in the crs given")]
Lat = Annotated[str, QueryParameter(description="latitude (a number), in the crs given")]
Crs = Annotated[
    str, QueryParameter(description="wgs84 (GPS), gcj02 (Gaode, Tencent) or bd09 (Baidu)")
]


def parse_number(name: str, text: str) -> float:
    """A query parameter as a float; 400 when it is not a number at all.

    Parsed here rather than by the framework so that ``1e400`` (infinity) is answered like
    any other out-of-range coordinate, with a 422.
    """
    try:
        return float(text)
    except ValueError:
        raise BadRequest("invalid_request", f"{name} must be a number, not {text!r}") from None


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
