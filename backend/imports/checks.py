"""The rules an imported layer must meet, per kind: pure functions over GeoDataFrames."""

from __future__ import annotations

from itertools import pairwise

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.dtypes import StringDType
from piccolo.columns import Varchar
from piccolo.table import Table

from backend.areas.tables import Area
from backend.buildings.tables import Building
from backend.core.areas import LEVELS, Level
from backend.grids.tables import Grid
from backend.points.tables import ServicePoint
from geo.assign import assign_buildings
from geo.validate import (
    SNAP_M,
    Problem,
    check_and_repair,
    check_geometries,
    find_crossings,
    snap_layer,
    validate_partition,
)

# Problems that stop an import; the others are reported and the import goes on.
BLOCKING = frozenset(
    {
        "invalid_geometry",
        "wrong_geometry_type",
        "empty_geometry",
        "duplicate_code",
        "unknown_parent",
        "overlap",
        "crosses_parent",
        "missing_value",
        "bad_value",
        "area_in_use",
        "child_outside_parent",
    }
)

# The levels of an area, top down (a grid is no area).
AREA_LEVELS = tuple(str(level) for level in reversed(LEVELS) if level is not Level.grid)
MAX_COUNT = 2**31 - 1  # floors and households are 32-bit integer columns
GRID_KINDS = ("community", "village", "dedicated")
_STR = StringDType()
POINT_KINDS = ("party_centre", "driver_home", "warm_station", "red_property")


def _limits(table: type[Table]) -> dict[str, int]:
    return {
        c._meta.name: c.length
        for c in table._meta.columns
        if isinstance(c, Varchar) and c.length is not None
    }


LIMITS = {
    "areas": _limits(Area),
    "grids": _limits(Grid),
    "buildings": _limits(Building),
    "service-points": _limits(ServicePoint),
}


def blocking(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.kind in BLOCKING]


def _strings(column: pd.Series) -> np.ndarray:
    """The values as numpy strings, "" where missing: lengths and blanks are then measured in
    C, where a Python call per value cost a tenth of a second on a city's buildings."""
    return column.to_numpy(dtype=object, na_value="").astype(_STR)


def missing_values(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[Problem]:
    """Required text columns left blank.

    >>> frame = pd.DataFrame({"code": ["A", "B", "C"], "name": ["一", " ", None]})
    >>> [p.codes for p in missing_values(frame, ("name",))]
    [('B',), ('C',)]
    """
    problems = []
    for column in columns:
        blank = np.strings.strip(_strings(frame[column])) == ""
        problems += [
            Problem("missing_value", (str(code),), f"{column} is empty")
            for code in frame["code"].to_numpy()[blank]
        ]
    return problems


def too_long(frame: pd.DataFrame, limits: dict[str, int]) -> list[Problem]:
    """Text longer than its column holds (PostgreSQL would refuse it; SQLite would not).

    >>> frame = pd.DataFrame({"code": ["A", "B"], "name": ["一二三", None]})
    >>> [p.reason for p in too_long(frame, {"name": 2})]
    ['name is longer than 2 characters']
    """
    problems = []
    for column, limit in limits.items():
        if column not in frame:
            continue
        long = np.strings.str_len(_strings(frame[column])) > limit
        problems += [
            Problem("bad_value", (str(c),), f"{column} is longer than {limit} characters")
            for c in frame["code"].to_numpy()[long]
        ]
    return problems


def duplicate_codes(codes: pd.Series) -> list[Problem]:
    """Codes used more than once (counted among the repeated ones only: most are unique).

    >>> [p.reason for p in duplicate_codes(pd.Series(["A", "B", "A"]))]
    ['code A is used by 2 features']
    """
    counts = codes[codes.duplicated(keep=False)].value_counts()
    return [
        Problem("duplicate_code", (str(c),), f"code {c} is used by {n} features")
        for c, n in counts.items()
    ]


def unknown_values(frame: pd.DataFrame, column: str, allowed: tuple[str, ...]) -> list[Problem]:
    bad = frame[column].notna() & ~frame[column].isin(allowed)
    return [
        Problem("bad_value", (str(c),), f"{column} {v!r} is not one of {', '.join(allowed)}")
        for c, v in zip(frame.loc[bad, "code"], frame.loc[bad, column], strict=True)
    ]


def check_areas(
    areas: gpd.GeoDataFrame, stored: gpd.GeoDataFrame, snap_m: float = SNAP_M
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """An area tree in one file: each level must tile its parent level in the file; a parent
    not in the file must be stored (then its children must lie inside it). Returns the
    areas with slivers from rounding cut off (`geo.validate.snap_layer`)."""
    problems = missing_values(areas, ("code", "name", "level"))
    problems += too_long(areas, LIMITS["areas"])
    problems += unknown_values(areas, "level", AREA_LEVELS)
    problems += check_geometries(areas, min_area_m2=1000.0)
    codes = areas["code"].astype(str)
    problems += duplicate_codes(codes)
    known = set(codes) | set(stored["code"].astype(str))
    has_parent = areas["parent_code"].notna()
    orphan = has_parent & ~areas["parent_code"].astype(str).isin(known)
    problems += [
        Problem("unknown_parent", (c,), f"parent code {p} is neither in the file nor stored")
        for c, p in zip(codes[orphan], areas.loc[orphan, "parent_code"], strict=True)
    ]
    roots = areas[~has_parent]
    problems += [
        Problem("bad_value", (c,), "only the city may have no parent")
        for c in roots.loc[roots["level"] != "city", "code"]
    ]
    if blocking(problems):
        return areas, problems  # the partition checks need sound shapes and links
    outer = stored[~stored["code"].isin(codes)]
    snapped = []
    for parent_level, level in pairwise(AREA_LEVELS):
        children = areas[areas["level"] == level]
        if not len(children):
            continue
        inside = children["parent_code"].isin(codes)
        parents = areas[
            (areas["level"] == parent_level) & areas["code"].isin(children["parent_code"])
        ]
        children, warnings = snap_layer(children, pd.concat([parents, outer]), snap_m)
        problems += warnings
        snapped.append(children)
        if inside.any():
            problems += validate_partition(children[inside], parents, snap_m=snap_m)
        # Children of a stored parent are a part of its children: they must lie inside it.
        problems += find_crossings(children[~inside], outer)
    cities = areas[areas["level"] == "city"]
    return gpd.GeoDataFrame(pd.concat([cities, *snapped]).loc[areas.index], crs=areas.crs), problems


def check_grids(
    grids: gpd.GeoDataFrame, communities: gpd.GeoDataFrame, snap_m: float = SNAP_M
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Grids against the stored communities: each community they name must be tiled.
    Returns the grids with slivers from rounding cut off (`geo.validate.snap_layer`)."""
    problems = missing_values(grids, ("code", "name"))
    problems += too_long(grids, LIMITS["grids"])
    problems += unknown_values(grids, "kind", GRID_KINDS)
    named = communities[communities["code"].isin(grids["parent_code"])]
    grids, warnings = snap_layer(grids, named, snap_m)
    return grids, problems + warnings + validate_partition(grids, named, snap_m=snap_m)


def check_buildings(
    buildings: gpd.GeoDataFrame, grids: gpd.GeoDataFrame
) -> tuple[pd.Series, list[Problem]]:
    """Buildings get the grid they overlap most; shapes and numbers are checked."""
    problems = missing_values(buildings, ("code",))
    problems += too_long(buildings, LIMITS["buildings"])
    shape_problems, footprints = check_and_repair(buildings, min_area_m2=0.0)
    problems += shape_problems
    codes = buildings["code"].astype(str)
    problems += duplicate_codes(codes)
    for column in ("floors", "households"):
        values = pd.to_numeric(buildings[column], errors="coerce")
        bad = values.isna() | (values < 0) | (values != np.floor(values)) | (values > MAX_COUNT)
        problems += [
            Problem("bad_value", (c,), f"{column} {v!r} is not a whole number ≥ 0")
            for c, v in zip(codes[bad], buildings.loc[bad, column], strict=True)
        ]
    assigned, placement = assign_buildings(buildings, grids, footprints=footprints)
    return assigned, problems + placement


def check_points(
    points: gpd.GeoDataFrame, area_codes: set[str], grid_codes: set[str]
) -> list[Problem]:
    """Service points: real points, known kinds and levels, an area or grid that exists."""
    problems = missing_values(points, ("code", "name", "kind"))
    problems += too_long(points, LIMITS["service-points"])
    problems += unknown_values(points, "kind", POINT_KINDS)
    problems += unknown_values(points, "level", AREA_LEVELS)
    geoms = np.asarray(points.geometry.array)
    codes = points["code"].astype(str).to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    not_point = ~empty & (shapely.get_type_id(geoms) != shapely.GeometryType.POINT)
    problems += [
        Problem("empty_geometry", (c,), "geometry is missing or empty") for c in codes[empty]
    ]
    problems += [
        Problem("wrong_geometry_type", (c,), f"{g.geom_type} is not a point", None, g)
        for c, g in zip(codes[not_point], geoms[not_point], strict=True)
    ]
    problems += duplicate_codes(points["code"].astype(str))
    named = points["area_code"].notna()
    unknown = named & ~points["area_code"].astype(str).isin(area_codes | grid_codes)
    problems += [
        Problem("unknown_parent", (c,), f"area or grid {a} does not exist")
        for c, a in zip(codes[unknown.to_numpy()], points.loc[unknown, "area_code"], strict=True)
    ]
    return problems
