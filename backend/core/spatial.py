"""How geometry is stored: GeoJSON text plus bounding-box columns, the same in SQLite and
PostgreSQL (Piccolo has no geometry type, and SpatiaLite is not available).

Coordinates are WGS 84, longitude first. The bbox columns serve ``bbox`` filters in SQL; exact
point-in-polygon questions are answered by the in-memory STRtree (``geo.router``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from piccolo.columns import Column, DoublePrecision, Text
from piccolo.custom_types import Combinable
from piccolo.table import Table

from backend.core.errors import BadRequest


class Footprint:
    """Columns of a table whose rows have a polygon (mixed into Piccolo tables).

    The bbox columns carry no index: a B-tree on one coordinate barely narrows a box query,
    and maintaining it made bulk imports three times slower. A spatial index (SQLite R*Tree,
    PostGIS GiST) is the step to take when a city's layers outgrow a scan.
    """

    geom = Text()
    min_lon = DoublePrecision()
    min_lat = DoublePrecision()
    max_lon = DoublePrecision()
    max_lat = DoublePrecision()


def footprint_values(geometries: Sequence[shapely.Geometry] | np.ndarray) -> list[dict[str, Any]]:
    """The Footprint column values of many geometries at once.

    >>> footprint_values([shapely.box(1, 2, 3, 4)])[0]["max_lat"]
    4.0
    """
    geoms = np.asarray(geometries, dtype=object)
    texts = shapely.to_geojson(geoms)
    bounds = shapely.bounds(geoms)
    return [
        {"geom": t, "min_lon": b[0], "min_lat": b[1], "max_lon": b[2], "max_lat": b[3]}
        for t, b in zip(texts.tolist(), bounds.tolist(), strict=True)
    ]


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """Parse ``minLon,minLat,maxLon,maxLat`` as OGC API – Features does; 400 when it isn't."""
    parts = text.split(",")
    try:
        if len(parts) != 4:
            raise ValueError
        min_lon, min_lat, max_lon, max_lat = (float(p) for p in parts)
    except ValueError:
        raise BadRequest(
            "invalid_bbox",
            f"bbox must be four numbers minLon,minLat,maxLon,maxLat, not {text!r}",
        ) from None
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise BadRequest("invalid_bbox", f"bbox {text!r} is not a WGS 84 box with min <= max")
    return min_lon, min_lat, max_lon, max_lat


def bbox_overlaps(table: type[Table], bbox: tuple[float, float, float, float]) -> Combinable:
    """Rows whose bounding box intersects ``bbox`` (a Footprint table)."""
    min_lon, min_lat, max_lon, max_lat = bbox
    column = table._meta.get_column_by_name
    return (
        (column("max_lon") >= min_lon)
        & (column("min_lon") <= max_lon)
        & (column("max_lat") >= min_lat)
        & (column("min_lat") <= max_lat)
    )


def point_in_bbox(lon: Column, lat: Column, bbox: tuple[float, float, float, float]) -> Combinable:
    min_lon, min_lat, max_lon, max_lat = bbox
    return (lon >= min_lon) & (lon <= max_lon) & (lat >= min_lat) & (lat <= max_lat)
