"""Writing a planned import: adds, changes and removals of one kind, in the caller's transaction.

Rows arrive as tuples in the order of ``rows.FIELDS``, geometries as shapely objects; they are
encoded (GeoJSON, bbox) a chunk at a time, while the previous chunk is being written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely
from piccolo.table import Table

from backend import bulk
from backend.areas.tables import Area
from backend.buildings.tables import Building
from backend.grids.tables import Grid
from backend.imports.checks import AREA_LEVELS
from backend.imports.rows import Diff, Rows, field
from backend.points.tables import ServicePoint

CHUNK = 10_000
FOOTPRINT = ("min_lon", "min_lat", "max_lon", "max_lat")
# Makes the database rows' columns (code first) from a chunk's codes, its file rows (as
# columns), their GeoJSON and their bboxes (n × 4): column-wise, since a Python call per row
# would cost more than the database's own work.
Make = Callable[[list[str], list[tuple], list[str], np.ndarray], list[list[Any]]]


async def _ids(table: type[Table]) -> dict[str, int]:
    return {r["code"]: r["id"] for r in await table.select(table.id, table.code)}


def _chunks(rows: Rows, codes: list[str], at: int, make: Make) -> Iterator[list[tuple]]:
    for start in range(0, len(codes), CHUNK):
        part = codes[start : start + CHUNK]
        columns = list(zip(*(rows[c] for c in part), strict=True))
        geoms = np.array(columns[at], dtype=object)
        texts = shapely.to_geojson(geoms).tolist()
        yield list(zip(*make(part, columns, texts, shapely.bounds(geoms)), strict=True))


async def _write(
    table: type[Table],
    columns: tuple[str, ...],
    rows: Rows,
    kind: str,
    diff: Diff,
    make: Make,
    codes: set[str] | None = None,
) -> None:
    """Insert the added and update the changed rows (those among ``codes``, if given)."""
    at = field(kind, "geom")
    added = [c for c in diff.added if codes is None or c in codes]
    changed = [c for c in diff.changed if codes is None or c in codes]
    await bulk.insert(table, ("code", *columns), _chunks(rows, added, at, make))
    updates = [(*r[1:], r[0]) for chunk in _chunks(rows, changed, at, make) for r in chunk]
    await bulk.update(table, "code", columns, updates)


async def write_areas(rows: Rows, diff: Diff) -> None:
    columns = ("name", "level", "parent", "geom", *FOOTPRINT, "updated_at")
    now = datetime.now(UTC)
    # Top-down: a parent has its id before its children are written.
    for level in AREA_LEVELS:
        ids = await _ids(Area)

        def make(codes: list, cols: list, texts: list, b: np.ndarray, ids: dict = ids) -> list:
            name, row_level, parent, _ = cols
            parents = [ids.get(p) for p in parent]
            return [codes, name, row_level, parents, texts, *b.T.tolist(), [now] * len(codes)]

        codes = {c for c, r in rows.items() if r[field("areas", "level")] == level}
        await _write(Area, columns, rows, "areas", diff, make, codes)
    levels = await Area.select(Area.code, Area.level).where(Area.code.is_in(diff.removed or [""]))
    for level in reversed(AREA_LEVELS):
        await bulk.delete(Area, "code", [r["code"] for r in levels if r["level"] == level])


async def write_grids(rows: Rows, diff: Diff) -> None:
    communities = await _ids(Area)
    columns = ("name", "kind", "community", "geom", *FOOTPRINT, "updated_at")
    now = datetime.now(UTC)

    def make(codes: list, cols: list, texts: list, b: np.ndarray) -> list:
        name, kind, parent, _ = cols
        ids = [communities[p] for p in parent]
        return [codes, name, kind, ids, texts, *b.T.tolist(), [now] * len(codes)]

    await _write(Grid, columns, rows, "grids", diff, make)
    await bulk.delete(Grid, "code", diff.removed)


async def write_buildings(rows: Rows, diff: Diff) -> None:
    grids = await _ids(Grid)
    columns = ("name", "address", "floors", "households", "grid", "geom", *FOOTPRINT, "lon", "lat")

    def make(codes: list, cols: list, texts: list, b: np.ndarray) -> list:
        name, address, floors, households, grid, _ = cols
        # The box's centre stands for the building in distance questions (patrols nearby).
        centre = [((b[:, 0] + b[:, 2]) / 2).tolist(), ((b[:, 1] + b[:, 3]) / 2).tolist()]
        return [
            codes,
            [n or "" for n in name],
            [a or "" for a in address],
            floors,
            households,
            [grids.get(g) for g in grid],
            texts,
            *b.T.tolist(),
            *centre,
        ]

    await _write(Building, columns, rows, "buildings", diff, make)
    await bulk.delete(Building, "code", diff.removed)


async def building_grids() -> dict[str, str | None]:
    """Each stored building's grid code."""
    return {
        r["code"]: r["grid.code"] for r in await Building.select(Building.code, Building.grid.code)
    }


async def reassign_buildings(assignment: dict[str, str | None]) -> int:
    """Point buildings at the grids they now lie in; returns how many moved."""
    grids = await _ids(Grid)
    current = await building_grids()
    moved = [(grids.get(g), c) for c, g in assignment.items() if current.get(c) != g]
    await bulk.update(Building, "code", ("grid",), moved)
    return len(moved)


async def write_points(rows: Rows, diff: Diff) -> None:
    areas, grids = await _ids(Area), await _ids(Grid)
    columns = ("name", "kind", "level", "area", "grid", "address", "hours", "phone", "lon", "lat")

    def db_row(c: str) -> tuple:
        name, kind, level, link, address, hours, phone, lon, lat = rows[c]
        # A 红色物业 names the grid it serves; other points the area they serve.
        link_ids = (areas.get(link), grids.get(link))
        return (c, name, kind, level, *link_ids, address or "", hours or "", phone or "", lon, lat)

    await bulk.insert(ServicePoint, ("code", *columns), [[db_row(c) for c in diff.added]])
    await bulk.update(ServicePoint, "code", columns, [(*db_row(c)[1:], c) for c in diff.changed])
    await bulk.delete(ServicePoint, "code", diff.removed)
