"""Where a new case belongs: the grid containing its point, or else the smallest area that does.

Grids may leave gaps inside a community (an import reports them and goes on), and a resident
standing in one must not lose the report: the case is then owned by the deepest area around
the point (community, else street, district, city), with no grid. Only a point outside every
area of the city is refused (422 ``outside_all_grids``, the code ``/api/locate`` answers too).

The grid is found in the process's in-memory index; the rare fallback asks the area table,
which is always current, so that it needs no index of its own to keep fresh.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import shapely

from backend.areas.service import area_rows, chain_of
from backend.areas.tables import Area
from backend.core.areas import level_of_code, rank
from backend.core.errors import Invalid
from backend.grids.service import GridIndex


@dataclass(frozen=True)
class Place:
    grid_code: str | None  # None: in no grid
    owner_code: str  # the grid, or the smallest area containing the point
    area_codes: str  # the areas from the city down to the owner's own, comma-separated


def in_grid(index: GridIndex, lon: float, lat: float) -> Place | None:
    found = index.locate(lon, lat)
    if found is None:
        return None
    return Place(found.grid.code, found.grid.code, ",".join(a.code for a in found.chain))


def smallest(candidates: Sequence[Mapping[str, Any]], lon: float, lat: float) -> str | None:
    """The code of the deepest area among ``candidates`` (code, level, geom as GeoJSON) whose
    polygon covers the point; of two at one level, the smaller polygon.

    >>> box = shapely.to_geojson(shapely.box(0, 0, 2, 2))
    >>> small = shapely.to_geojson(shapely.box(0, 0, 1, 1))
    >>> rows = [{"code": "150302", "geom": box}, {"code": "150302001", "geom": small}]
    >>> smallest(rows, 0.5, 0.5), smallest(rows, 1.5, 1.5), smallest(rows, 3, 3)
    ('150302001', '150302', None)
    """
    point = shapely.Point(lon, lat)
    covering = [
        (rank(level_of_code(r["code"])), shape.area, r["code"])
        for r in candidates
        for shape in [shapely.from_geojson(r["geom"])]
        if shape.covers(point)
    ]
    if not covering:
        return None
    return min(covering)[2]


async def in_area(lon: float, lat: float) -> Place:
    """The case's place when no grid contains the point; 422 when no area does either."""
    candidates = await Area.select(Area.code, Area.geom).where(
        (Area.min_lon <= lon)
        & (Area.max_lon >= lon)
        & (Area.min_lat <= lat)
        & (Area.max_lat >= lat)
    )
    code = smallest(candidates, lon, lat)
    if code is None:
        raise Invalid(
            "outside_all_grids",
            f"({lon:.6f}, {lat:.6f}) lies outside every area of this city; nothing was saved",
        )
    by_code = {a["code"]: a for a in await area_rows()}
    chain = [a.code for a in chain_of(code, by_code)] + [code]
    return Place(None, code, ",".join(chain))


async def place(index: GridIndex, lon: float, lat: float) -> Place:
    return in_grid(index, lon, lat) or await in_area(lon, lat)
