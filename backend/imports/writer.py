"""Writing a planned import: adds, changes and removals of one kind, in the caller's transaction.

The file's rows arrive as columns (``rows.Incoming``), geometries as shapely objects; they are
taken and encoded (GeoJSON, bbox) a chunk at a time, while the previous chunk is being written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import shapely
from piccolo.table import Table

from backend.areas.tables import Area
from backend.buildings.tables import Building
from backend.core import bulk
from backend.core.areas import enclosing
from backend.core.events import layer_changed
from backend.events.service import NewEvent, append
from backend.grids.tables import Grid
from backend.imports.checks import AREA_LEVELS
from backend.imports.rows import Diff, Incoming, field
from backend.points.tables import ServicePoint

CHUNK = 10_000
FOOTPRINT = ("min_lon", "min_lat", "max_lon", "max_lat")
# Makes the database rows' columns (code first) from a chunk's codes, its file columns, their
# GeoJSON and their bboxes (n × 4): column-wise, since a Python call per row would cost more
# than the database's own work.
Make = Callable[[list[str], list[np.ndarray], list[str], np.ndarray], list[Any]]


async def _ids(table: type[Table]) -> dict[str, int]:
    code = table._meta.get_column_by_name("code")
    return {r["code"]: r["id"] for r in await table.select(table._meta.primary_key, code)}


def _chunks(incoming: Incoming, codes: list[str], make: Make) -> Iterator[Iterator[tuple]]:
    """The database rows of ``codes``, a chunk at a time; each chunk's rows are made as the
    driver takes them (a list of 10⁵ tuples made Python's collector sweep the heap)."""
    at, rows = field(incoming.kind, "geom"), incoming.positions(codes)
    for start in range(0, len(codes), CHUNK):
        part, where = codes[start : start + CHUNK], rows[start : start + CHUNK]
        columns = incoming.take(where)
        texts = shapely.to_geojson(columns[at]).tolist()
        made = make(part, columns, texts, shapely.bounds(columns[at]))
        # Lists, not arrays: the drivers bind Python objects, and zip walks lists faster.
        made = [c.tolist() if isinstance(c, np.ndarray) else c for c in made]
        yield zip(*made, strict=True)


async def _write(
    table: type[Table],
    columns: tuple[str, ...],
    incoming: Incoming,
    diff: Diff,
    make: Make,
    codes: set[str] | None = None,
) -> None:
    """Insert the added and update the changed rows (those among ``codes``, if given)."""
    added = [c for c in diff.added if codes is None or c in codes]
    changed = [c for c in diff.changed if codes is None or c in codes]
    await bulk.insert(table, ("code", *columns), _chunks(incoming, added, make))
    updates = [(*r[1:], r[0]) for chunk in _chunks(incoming, changed, make) for r in chunk]
    await bulk.update(table, "code", columns, updates)


async def write_areas(incoming: Incoming, diff: Diff) -> None:
    columns = ("name", "level", "parent", "geom", *FOOTPRINT, "updated_at")
    now = datetime.now(UTC)
    # Top-down: a parent has its id before its children are written.
    for level in AREA_LEVELS:
        ids = await _ids(Area)

        def make(codes: list, cols: list, texts: list, b: np.ndarray, ids: dict = ids) -> list:
            name, row_level, parent, _ = cols
            parents = [ids.get(p) for p in parent.tolist()]
            return [codes, name, row_level, parents, texts, *b.T.tolist(), [now] * len(codes)]

        row_levels = zip(incoming.codes, incoming.column("level").tolist(), strict=True)
        codes = {c for c, row_level in row_levels if row_level == level}
        await _write(Area, columns, incoming, diff, make, codes)
    levels = await Area.select(Area.code, Area.level).where(Area.code.is_in(diff.removed or [""]))
    for level in reversed(AREA_LEVELS):
        await bulk.delete(Area, "code", [r["code"] for r in levels if r["level"] == level])


async def write_grids(incoming: Incoming, diff: Diff) -> None:
    communities = await _ids(Area)
    columns = ("name", "kind", "community", "geom", *FOOTPRINT, "updated_at")
    now = datetime.now(UTC)

    def make(codes: list, cols: list, texts: list, b: np.ndarray) -> list:
        name, kind, parent, _ = cols
        ids = [communities[p] for p in parent.tolist()]
        return [codes, name, kind, ids, texts, *b.T.tolist(), [now] * len(codes)]

    await _write(Grid, columns, incoming, diff, make)
    await bulk.delete(Grid, "code", diff.removed)


async def announce(layer: str, diff: Diff) -> None:
    """One event per import that changed the map: every server process reloads its point →
    grid index when it hears it (backend/live), and clients under its scope redraw. Called
    last in the import's transaction: the event clock stays locked from here to the commit,
    and on PostgreSQL every other writer waits for it (backend/events/service.py)."""
    codes = [*diff.added, *diff.changed, *diff.removed]
    if codes:
        payload = dict(added=len(diff.added), changed=len(diff.changed), removed=len(diff.removed))
        if layer in ("areas", "grids"):
            scope = enclosing(codes)
        else:  # buildings and points have codes of their own: the scope is the city
            city = await Area.select(Area.code).where(Area.parent.is_null()).first()
            scope = "" if city is None else city["code"]
        await append([NewEvent(layer_changed(layer), layer, scope, payload)])


async def write_buildings(incoming: Incoming, diff: Diff) -> None:
    grids = await _ids(Grid)
    columns = ("name", "address", "floors", "households", "grid", "geom", *FOOTPRINT, "lon", "lat")

    def make(codes: list, cols: list, texts: list, b: np.ndarray) -> list:
        name, address, floors, households, grid, _ = cols
        # The box's centre stands for the building in distance questions (patrols nearby).
        centre = [((b[:, 0] + b[:, 2]) / 2).tolist(), ((b[:, 1] + b[:, 3]) / 2).tolist()]
        return [
            codes,
            [n or "" for n in name.tolist()],
            [a or "" for a in address.tolist()],
            floors,
            households,
            [grids.get(g) for g in grid.tolist()],
            texts,
            *b.T.tolist(),
            *centre,
        ]

    await _write(Building, columns, incoming, diff, make)
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
    moved = [
        (None if g is None else grids.get(g), c)
        for c, g in assignment.items()
        if current.get(c) != g
    ]
    await bulk.update(Building, "code", ("grid",), moved)
    return len(moved)


async def write_points(incoming: Incoming, diff: Diff) -> None:
    areas, grids = await _ids(Area), await _ids(Grid)
    columns: tuple[str, ...]
    columns = ("name", "kind", "level", "area", "grid", "address", "hours", "phone")
    columns = (*columns, "lon", "lat", "grid_located")

    def db_row(c: str) -> tuple:
        name, kind, level, link, address, hours, phone, lon, lat = incoming[c]
        # A 红色物业 names the grid it serves; other points the area they serve. One that
        # names no grid is placed in the grid it lies in afterwards (link_red_properties).
        link_ids = (areas.get(link), grids.get(link))
        text = (address or "", hours or "", phone or "")
        return (c, name, kind, level, *link_ids, *text, lon, lat, False)

    await bulk.insert(ServicePoint, ("code", *columns), [[db_row(c) for c in diff.added]])
    await bulk.update(ServicePoint, "code", columns, [(*db_row(c)[1:], c) for c in diff.changed])
    await bulk.delete(ServicePoint, "code", diff.removed)
