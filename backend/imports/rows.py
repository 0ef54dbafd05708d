"""Rows of each kind keyed by code, as the file has them and as the database has them.

Both sides use codes for their links (parent, community, grid, area), never row ids, so a
re-import of the same layer compares equal and reports no change. The file's rows stay in
columns (`Incoming`): a city's 10⁵ buildings are checked, compared and written column by
column, and a row tuple is only made for a code that is also stored.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
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


class Incoming(Mapping[str, tuple[Any, ...]]):
    """The file's rows of one kind by code, kept as columns in the order of ``FIELDS[kind]``.

    A repeated code keeps its last row, as a dict would (repeats block the import anyway).

    >>> rows = Incoming("grids", ["G1", "G2"], [np.array(v, dtype=object) for v in
    ...     (["一", "二"], ["community", "village"], ["C1", "C1"], [None, None])])
    >>> rows["G2"], list(rows), rows.column("parent_code").tolist()
    (('二', 'village', 'C1', None), ['G1', 'G2'], ['C1', 'C1'])
    >>> [c.tolist() for c in rows.take(rows.positions(["G2"]))]
    [['二'], ['village'], ['C1'], [None]]
    """

    def __init__(self, kind: str, codes: list[str], columns: list[np.ndarray]) -> None:
        self.kind = kind
        self.codes = codes
        self.columns = columns
        self._at = {code: i for i, code in enumerate(codes)}

    def __getitem__(self, code: str) -> tuple[Any, ...]:
        i = self._at[code]
        return tuple(column[i] for column in self.columns)

    def __contains__(self, code: object) -> bool:
        return code in self._at

    def __iter__(self) -> Iterator[str]:
        return iter(self._at)

    def __len__(self) -> int:
        return len(self._at)

    def column(self, name: str) -> np.ndarray:
        """One field of every row, in file order."""
        return self.columns[field(self.kind, name)]

    def positions(self, codes: list[str]) -> np.ndarray:
        """Where the rows of ``codes`` are, for `take`."""
        if codes == self.codes:  # a new layer: every row, in file order
            return np.arange(len(codes))
        return np.fromiter((self._at[c] for c in codes), dtype=np.intp, count=len(codes))

    def take(self, at: np.ndarray) -> list[np.ndarray]:
        """The columns of the rows at ``at`` (from `positions`), in that order."""
        return [column[at] for column in self.columns]


def diff(
    incoming: Mapping[str, tuple[Any, ...]],
    stored: Rows,
    *,
    kind: str | None = None,
    keep_missing: bool = False,
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
        mine = [incoming[c] for c in common]
        theirs = [stored[c] for c in common]
        # Normalised first: a Shapefile runs its rings the other way round and GIS start
        # them where they like; neither changes the shape.
        same_shape = shapely.equals_exact(
            shapely.normalize(np.array([row[at] for row in mine], dtype=object)),
            shapely.normalize(shapely.from_geojson([row[at] for row in theirs])),
            tolerance=SAME_COORDINATE_DEG,
        )
        changed = [
            c
            for c, a, b, same in zip(common, mine, theirs, same_shape.tolist(), strict=True)
            if not same or _without(a, at) != _without(b, at)
        ]
    else:
        changed = [c for c in common if incoming[c] != stored[c]]
    removed = [] if keep_missing else [c for c in stored if c not in incoming]
    return Diff(added, changed, removed, len(common) - len(changed))


def _without(row: tuple[Any, ...], at: int) -> tuple[Any, ...]:
    return row[:at] + row[at + 1 :]


def _objects(values: pd.Series) -> np.ndarray:
    """Python objects, None where missing (NaN included)."""
    # pandas-stubs type na_value as a scalar that excludes None, which pandas takes
    return values.to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]


def incoming_rows(
    kind: str, frame: gpd.GeoDataFrame, grid_codes: pd.Series | None = None
) -> Incoming:
    """The file's rows, geometries as shapely objects (encoded only when compared or written);
    for buildings, ``grid_codes`` is the assignment by geometry."""
    geoms = np.asarray(frame.geometry.array)
    columns: list[np.ndarray] = []
    for name in FIELDS[kind]:
        if name == "geom":
            columns.append(geoms)
        elif name in ("lon", "lat"):
            coordinate = shapely.get_x if name == "lon" else shapely.get_y
            columns.append(coordinate(geoms).astype(object))
        elif name == "grid_code":
            columns.append(_objects(pd.Series(grid_codes, dtype=object)))
        elif name in ("floors", "households"):
            counts = pd.to_numeric(frame[name], errors="coerce").fillna(0)
            columns.append(counts.clip(0, 2**31 - 1).to_numpy(dtype=np.int64).astype(object))
        else:
            columns.append(_objects(frame[name]))
    return Incoming(kind, frame["code"].astype(str).tolist(), columns)


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
        ServicePoint.grid_located,
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
            # One link column in files: the grid a 红色物业 serves, else the area. A grid found
            # by location was not in the file, so a re-import of the file compares equal.
            grid = row.pop("grid_code")
            if not row.pop("grid_located"):
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
    geometry: npt.NDArray[np.object_] | list[shapely.Geometry] = (
        shapely.from_geojson(frame.pop("geom").tolist()) if len(frame) else []
    )
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=4326)
