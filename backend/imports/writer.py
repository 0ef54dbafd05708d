"""Writing a planned import: adds, changes and removals of one kind, in the caller's transaction.

Rows arrive as tuples in the order of ``rows.FIELDS``; ``extra`` holds, per code, what is
derived from the geometry: ``(min_lon, min_lat, max_lon, max_lat, lon, lat)``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from piccolo.table import Table

from backend import bulk
from backend.areas.tables import Area
from backend.buildings.tables import Building
from backend.grids.tables import Grid
from backend.imports.checks import AREA_LEVELS
from backend.imports.rows import Diff, Rows
from backend.points.tables import ServicePoint

Extra = dict[str, tuple[float, ...]]
FOOTPRINT = ("min_lon", "min_lat", "max_lon", "max_lat")


async def _ids(table: type[Table]) -> dict[str, int]:
    return {r["code"]: r["id"] for r in await table.select(table.id, table.code)}


async def _upsert(
    table: type[Table], columns: tuple[str, ...], values: dict[str, tuple], diff: Diff
) -> None:
    """Insert the added and update the changed among the codes in ``values``.

    ``values`` rows start with their code, so that inserts take them as they are.
    """
    added = [values[c] for c in diff.added if c in values]
    changed = [(*values[c][1:], c) for c in diff.changed if c in values]
    await bulk.insert(table, ("code", *columns), added)
    await bulk.update(table, "code", columns, changed)


async def write_areas(rows: Rows, extra: Extra, diff: Diff) -> None:
    columns = ("name", "level", "parent", "geom", *FOOTPRINT, "updated_at")
    now = datetime.now(UTC)
    # Top-down: a parent has its id before its children are written.
    for level in AREA_LEVELS:
        ids = await _ids(Area)
        values = {
            c: (c, name, level, ids.get(parent), geom, *extra[c][:4], now)
            for c, (name, row_level, parent, geom) in rows.items()
            if row_level == level
        }
        await _upsert(Area, columns, values, diff)
    levels = await Area.select(Area.code, Area.level).where(Area.code.is_in(diff.removed or [""]))
    for level in reversed(AREA_LEVELS):
        await bulk.delete(Area, "code", [r["code"] for r in levels if r["level"] == level])


async def write_grids(rows: Rows, extra: Extra, diff: Diff) -> None:
    communities = await _ids(Area)
    columns = ("name", "kind", "community", "geom", *FOOTPRINT, "updated_at")
    now = datetime.now(UTC)
    values = {
        c: (c, name, kind, communities[parent], geom, *extra[c][:4], now)
        for c, (name, kind, parent, geom) in rows.items()
    }
    await _upsert(Grid, columns, values, diff)
    await bulk.delete(Grid, "code", diff.removed)


async def write_buildings(rows: Rows, extra: Extra, diff: Diff) -> None:
    grids = await _ids(Grid)
    columns = ("name", "address", "floors", "households", "grid", "geom", *FOOTPRINT, "lon", "lat")
    values = {
        c: (c, name or "", address or "", floors, households, grids.get(grid), geom, *extra[c])
        for c, (name, address, floors, households, grid, geom) in rows.items()
    }
    await _upsert(Building, columns, values, diff)
    await bulk.delete(Building, "code", diff.removed)


async def reassign_buildings(assignment: dict[str, str | None]) -> int:
    """Point buildings at the grids they now lie in; returns how many moved."""
    grids = await _ids(Grid)
    current = {
        r["code"]: r["grid.code"] for r in await Building.select(Building.code, Building.grid.code)
    }
    moved = [(grids.get(g), c) for c, g in assignment.items() if current.get(c) != g]
    await bulk.update(Building, "code", ("grid",), moved)
    return len(moved)


async def write_points(rows: Rows, diff: Diff) -> None:
    areas, grids = await _ids(Area), await _ids(Grid)
    columns = ("name", "kind", "level", "area", "grid", "address", "hours", "phone", "lon", "lat")
    values: dict[str, tuple[Any, ...]] = {
        c: (
            c,
            name,
            kind,
            level,
            areas.get(link),
            grids.get(link),  # a 红色物业 names the grid it serves
            address or "",
            hours or "",
            phone or "",
            lon,
            lat,
        )
        for c, (name, kind, level, link, address, hours, phone, lon, lat) in rows.items()
    }
    await _upsert(ServicePoint, columns, values, diff)
    await bulk.delete(ServicePoint, "code", diff.removed)
