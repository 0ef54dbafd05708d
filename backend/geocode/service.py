"""The geocoder: address search over the city's own places (areas, grids, buildings, service
points), from an index each process keeps in memory.

The index is built on first use, and built anew whenever an import changes a layer: the live
hub hears the layer's event in every process (backend/live/lifespan.py) and calls
:meth:`Geocoder.reload`; searches go on using the old index until the new one is ready.
"""

from __future__ import annotations

import asyncio

import anyio
import shapely

from backend.areas.tables import Area
from backend.buildings.tables import Building
from backend.core.areas import parent_code
from backend.geocode.index import Place, PlaceIndex
from backend.grids.tables import Grid
from backend.points.tables import ServicePoint

__all__ = ["Geocoder", "Place", "load_places"]


async def load_places() -> list[Place]:
    """Every place the geocoder finds, as the layers hold them now."""
    areas = await Area.select(Area.code, Area.name, Area.level, Area.geom)
    grids = await Grid.select(Grid.code, Grid.name, Grid.geom, Grid.community.code)
    buildings = await Building.select(
        Building.code, Building.name, Building.address, Building.lon, Building.lat
    )
    points = await ServicePoint.select(
        ServicePoint.code,
        ServicePoint.name,
        ServicePoint.address,
        ServicePoint.lon,
        ServicePoint.lat,
    )
    return await anyio.to_thread.run_sync(_places, areas, grids, buildings, points)


def _places(areas: list, grids: list, buildings: list, points: list) -> list[Place]:
    names = {a["code"]: a["name"] for a in areas}

    def above(code: str | None) -> str:
        # The names of the areas from the district down to ``code``, as addresses write them.
        chain: list[str] = []
        while code is not None and parent_code(code) is not None:
            chain.append(names.get(code, ""))
            code = parent_code(code)
        return "".join(reversed(chain))

    def spots(rows: list) -> list[shapely.Point]:
        return list(shapely.point_on_surface(shapely.from_geojson([r["geom"] for r in rows])))

    found = [
        Place(a["level"], a["code"], a["name"], above(a["code"]), p.x, p.y)
        for a, p in zip(areas, spots(areas), strict=True)
    ]
    found += [
        Place("grid", g["code"], g["name"], above(g["community.code"]) + g["name"], p.x, p.y)
        for g, p in zip(grids, spots(grids), strict=True)
    ]
    found += [
        Place("point", r["code"], r["name"], r["address"], r["lon"], r["lat"]) for r in points
    ]
    found += [
        Place("building", r["code"], r["name"], r["address"], r["lon"], r["lat"]) for r in buildings
    ]
    return found


async def build_index() -> PlaceIndex:
    places = await load_places()
    return await anyio.to_thread.run_sync(PlaceIndex, places)


class Geocoder:
    """One process's index, built when first asked and rebuilt on :meth:`reload`."""

    def __init__(self) -> None:
        self._index: PlaceIndex | None = None
        self._building = asyncio.Lock()

    async def index(self) -> PlaceIndex:
        if self._index is None:
            async with self._building:
                if self._index is None:
                    self._index = await build_index()
        return self._index

    async def reload(self) -> None:
        """Build the index anew if it was built: a layer changed."""
        if self._index is not None:
            self._index = await build_index()

    async def search(self, query: str, limit: int) -> list[Place]:
        index = await self.index()
        return index.search(query, limit)
