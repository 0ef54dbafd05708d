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


def diff(
    incoming: Rows, stored: Rows, *, kind: str | None = None, keep_missing: bool = False
) -> Diff:
    """What writing ``incoming`` over ``stored`` would do, code by code.

    Incoming rows of a ``kind`` with a ``geom`` field hold shapely geometries, stored rows
    their GeoJSON: only the rows on both sides are encoded to be compared.

    >>> d = diff({"a": (1,), "b": (2,)}, {"b": (3,), "c": (4,)})
    >>> d.added, d.changed, d.removed, d.unchanged
    (['a'], ['b'], ['c'], 0)
    """
    added = [c for c in incoming if c not in stored]
    common = [c for c in incoming if c in stored]
    comparable = incoming
    if kind is not None and "geom" in FIELDS[kind] and common:
        at = field(kind, "geom")
        texts = shapely.to_geojson(np.array([incoming[c][at] for c in common], dtype=object))
        comparable = {
            c: (*incoming[c][:at], text, *incoming[c][at + 1 :])
            for c, text in zip(common, texts.tolist(), strict=True)
        }
    changed = [c for c in common if comparable[c] != stored[c]]
    removed = [] if keep_missing else [c for c in stored if c not in incoming]
    return Diff(added, changed, removed, len(common) - len(changed))


def _texts(frame: pd.DataFrame, column: str) -> list[Any]:
    values = frame[column].astype(object)
    return values.where(values.notna(), None).tolist()


def incoming_rows(kind: str, frame: gpd.GeoDataFrame, grid_codes: pd.Series | None = None) -> Rows:
    """The file's rows, geometries as shapely objects (encoded only when compared or written);
    for buildings, ``grid_codes`` is the assignment by geometry."""
    geoms = np.asarray(frame.geometry.array)
    columns: dict[str, list[Any]] = {}
    for field in FIELDS[kind]:
        if field == "geom":
            columns[field] = geoms.tolist()
        elif field in ("lon", "lat"):
            columns[field] = (shapely.get_x if field == "lon" else shapely.get_y)(geoms).tolist()
        elif field == "grid_code":
            columns[field] = _texts(pd.DataFrame({"g": grid_codes}), "g")
        elif field in ("floors", "households"):
            columns[field] = (
                pd.to_numeric(frame[field], errors="coerce").fillna(0).astype(int).tolist()
            )
        else:
            columns[field] = _texts(frame, field)
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
