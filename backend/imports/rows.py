"""Rows of each kind keyed by code, as the file has them and as the database has them.

Both sides use codes for their links (parent, community, grid, area), never row ids, so a
re-import of the same layer compares equal and reports no change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from backend.areas.tables import Area
from backend.buildings.tables import Building
from backend.grids.tables import Grid
from backend.points.tables import ServicePoint

# code -> values in the order of FIELDS[kind]; tuples, since a city has 10⁵–10⁶ buildings.
Rows = dict[str, tuple[Any, ...]]

FIELDS: dict[str, tuple[str, ...]] = {
    "areas": ("name", "level", "parent_code", "geom"),
    "grids": ("name", "kind", "parent_code", "geom"),
    "buildings": ("name", "address", "floors", "households", "grid_code", "geom"),
    "service-points": (
        "name",
        "kind",
        "level",
        "area_code",
        "address",
        "hours",
        "phone",
        "lon",
        "lat",
    ),
}


@dataclass
class Diff:
    added: list[str]
    changed: list[str]
    removed: list[str]
    unchanged: int


# Coordinates that differ by less than this (about 0.1 mm) are the same: a layer that went
# through a reprojection and back must not come out as every feature changed.
SAME_COORDINATE_DEG = 1e-9


def diff(
    incoming: Rows, stored: Rows, *, kind: str | None = None, keep_missing: bool = False
) -> Diff:
    """What writing ``incoming`` over ``stored`` would do, code by code.

    Incoming rows of a ``kind`` with a ``geom`` field hold shapely geometries, stored rows
    their GeoJSON: the rows on both sides are compared shape to shape.

    >>> d = diff({"a": (1,), "b": (2,)}, {"b": (3,), "c": (4,)})
    >>> d.added, d.changed, d.removed, d.unchanged
    (['a'], ['b'], ['c'], 0)
    """
    added = [c for c in incoming if c not in stored]
    common = [c for c in incoming if c in stored]
    if kind is not None and "geom" in FIELDS[kind] and common:
        at = field(kind, "geom")
        same_shape = shapely.equals_exact(
            np.array([incoming[c][at] for c in common], dtype=object),
            shapely.from_geojson([stored[c][at] for c in common]),
            tolerance=SAME_COORDINATE_DEG,
        )
        changed = [
            c
            for c, same in zip(common, same_shape.tolist(), strict=True)
            if not same or _without(incoming[c], at) != _without(stored[c], at)
        ]
    else:
        changed = [c for c in common if incoming[c] != stored[c]]
    removed = [] if keep_missing else [c for c in stored if c not in incoming]
    return Diff(added, changed, removed, len(common) - len(changed))


def _without(row: tuple[Any, ...], at: int) -> tuple[Any, ...]:
    return row[:at] + row[at + 1 :]


def _texts(frame: pd.DataFrame, column: str) -> list[Any]:
    values = frame[column].astype(object)
    return values.where(values.notna(), None).tolist()


def incoming_rows(kind: str, frame: gpd.GeoDataFrame, grid_codes: pd.Series | None = None) -> Rows:
    """The file's rows, geometries as shapely objects (encoded only when compared or written);
    for buildings, ``grid_codes`` is the assignment by geometry."""
    geoms = np.asarray(frame.geometry.array)
    columns: dict[str, list[Any]] = {}
    for name in FIELDS[kind]:
        if name == "geom":
            columns[name] = geoms.tolist()
        elif name in ("lon", "lat"):
            columns[name] = (shapely.get_x if name == "lon" else shapely.get_y)(geoms).tolist()
        elif name == "grid_code":
            columns[name] = _texts(pd.DataFrame({"g": grid_codes}), "g")
        elif name in ("floors", "households"):
            counts = pd.to_numeric(frame[name], errors="coerce").fillna(0)
            columns[name] = counts.clip(0, 2**31 - 1).astype(int).tolist()
        else:
            columns[name] = _texts(frame, name)
    codes = frame["code"].astype(str).tolist()
    return dict(zip(codes, zip(*columns.values(), strict=True), strict=True))


_SELECTS = {
    "areas": lambda: Area.select(
        Area.code, Area.name, Area.level, Area.parent.code.as_alias("parent_code"), Area.geom
    ),
    "grids": lambda: Grid.select(
        Grid.code, Grid.name, Grid.kind, Grid.community.code.as_alias("parent_code"), Grid.geom
    ),
    "buildings": lambda: Building.select(
        Building.code,
        Building.name,
        Building.address,
        Building.floors,
        Building.households,
        Building.grid.code.as_alias("grid_code"),
        Building.geom,
    ),
    "service-points": lambda: ServicePoint.select(
        ServicePoint.code,
        ServicePoint.name,
        ServicePoint.kind,
        ServicePoint.level,
        ServicePoint.area.code.as_alias("area_code"),
        ServicePoint.grid.code.as_alias("grid_code"),
        ServicePoint.address,
        ServicePoint.hours,
        ServicePoint.phone,
        ServicePoint.lon,
        ServicePoint.lat,
    ),
}


async def stored_rows(kind: str) -> Rows:
    out: Rows = {}
    for row in await _SELECTS[kind]():
        code = row.pop("code")
        if kind == "service-points":
            # One link column in files: the grid a 红色物业 serves, else the area.
            grid = row.pop("grid_code")
            row["area_code"] = grid or row["area_code"]
        out[code] = tuple(row[f] for f in FIELDS[kind])
    return out


def field(kind: str, name: str) -> int:
    """Where ``name`` sits in a row of ``kind``."""
    return FIELDS[kind].index(name)


async def stored_frame(kind: str, **where: Any) -> gpd.GeoDataFrame:
    """Stored areas or grids as a GeoDataFrame (code, parent_code, level/kind, geometry)."""
    query = _SELECTS[kind]()
    if "level" in where:
        query = query.where(Area.level == where["level"])
    rows = await query
    frame = pd.DataFrame(rows, columns=["code", *FIELDS[kind]])
    geometry = shapely.from_geojson(frame.pop("geom").tolist()) if len(frame) else []
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=4326)
