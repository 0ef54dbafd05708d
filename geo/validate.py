"""Validation of grid and administrative layers: geometry, codes, and exact tiling.

Layers are GeoDataFrames in lon/lat (EPSG:4326; a layer without a CRS is taken as such).
Every check returns `Problem` records instead of raising, so an import screen can list
them all at once. Areas are measured in the layer's local UTM zone, in square metres.

>>> import geopandas as gpd
>>> from shapely import box
>>> parents = gpd.GeoDataFrame({"code": ["P"]}, geometry=[box(106.80, 39.60, 106.82, 39.62)],
...                            crs=4326)
>>> grids = gpd.GeoDataFrame({"code": ["A", "B"], "parent_code": ["P", "P"]},
...                          geometry=[box(106.80, 39.60, 106.81, 39.62),
...                                    box(106.81, 39.60, 106.82, 39.62)], crs=4326)
>>> validate_grids(grids, parents)
[]
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.parallel import on_all_cores

_POLYGONAL_TYPE_IDS = (3, 6)  # Polygon, MultiPolygon
LEVELS = ("city", "district", "street", "community")


@dataclass(frozen=True)
class Problem:
    """One defect found in a layer; `geometry` (lon/lat) shows where it is.

    >>> Problem("gap", ("150302001001",), "not covered", 12.5).to_dict()["area_m2"]
    12.5
    """

    kind: str
    codes: tuple[str, ...]
    reason: str
    area_m2: float | None = None
    geometry: shapely.Geometry | None = None
    # Where the features it names are in the file: their index among the file's features
    # (from 0, empty rows counted) and, for CSV/XLSX, their line (the header is line 1).
    features: tuple[int, ...] = ()
    lines: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        # Codes come from user files: a blank cell (None, NaN) must still print as a code.
        codes = tuple("" if c is None or c != c else str(c) for c in self.codes)
        object.__setattr__(self, "codes", codes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form, the geometry as a GeoJSON mapping."""
        shape = None if self.geometry is None else json.loads(shapely.to_geojson(self.geometry))
        area = None if self.area_m2 is None else float(self.area_m2)
        return {
            "kind": self.kind,
            "codes": list(self.codes),
            "reason": self.reason,
            "area_m2": area,
            "geometry": shape,
            "features": list(self.features),
            "lines": list(self.lines),
        }


def with_crs(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The layer itself, taken as lon/lat (EPSG:4326) if it has no CRS."""
    return gdf if gdf.crs is not None else gdf.set_crs(4326)


def crs_of(gdf: gpd.GeoDataFrame) -> CRS:
    """The CRS of a layer that went through ``with_crs``."""
    if gdf.crs is None:
        raise ValueError("the layer has no CRS: give it one with with_crs first")
    return gdf.crs


def metric_crs(gdf: gpd.GeoDataFrame) -> CRS:
    """The UTM zone at the layer's centre (a PROJ database lookup would cost ~50 ms a call)."""
    crs = CRS(gdf.crs)
    if crs.is_projected:
        return crs
    west, south, east, north = gdf.total_bounds
    if not np.isfinite([west, south, east, north]).all():
        return CRS(6933)  # nothing to measure; any equal-area CRS will do
    zone = int(((west + east) / 2 + 180) // 6) % 60 + 1
    return CRS((32600 if south + north >= 0 else 32700) + zone)


def _areas(geoms: np.ndarray, crs: CRS, metric: CRS) -> np.ndarray:
    return gpd.GeoSeries(geoms, crs=crs).to_crs(metric).area.to_numpy(dtype=float)


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Drop the lines and points an overlay leaves where shapes only touch."""
    parts = shapely.get_parts(geom)
    return shapely.union_all(parts[np.isin(shapely.get_type_id(parts), _POLYGONAL_TYPE_IDS)])


def nonfinite(geoms: np.ndarray) -> np.ndarray:
    """Which geometries have a NaN or infinite coordinate (GEOS cannot repair those).

    >>> from shapely import Point
    >>> nonfinite(np.array([Point(1, 2), Point(float("nan"), 2)])).tolist()
    [False, True]
    """
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    out = np.zeros(len(geoms), dtype=bool)
    out[index[~np.isfinite(coords).all(axis=1)]] = True
    return out


def repair_polygons(geoms: np.ndarray) -> np.ndarray:
    """Polygonal shape of every feature, invalid ones made valid, the rest None."""
    fixed = geoms.copy()
    fixed[nonfinite(geoms)] = None
    broken = np.flatnonzero(~on_all_cores(shapely.is_valid, fixed) & ~shapely.is_missing(fixed))
    return _repaired(fixed, broken, shapely.make_valid(geoms[broken]))


def _repaired(fixed: np.ndarray, invalid: np.ndarray, made_valid: np.ndarray) -> np.ndarray:
    """``fixed`` with the ``invalid`` ones replaced by the polygons of their repair and
    whatever is not polygonal then set to None."""
    fixed[invalid] = [_polygonal(g) for g in made_valid]
    fixed[~np.isin(shapely.get_type_id(fixed), _POLYGONAL_TYPE_IDS)] = None
    return fixed


def is_usable(geoms: np.ndarray) -> np.ndarray:
    """Which geometries are valid, non-empty polygons: the only ones worth measuring."""
    polygonal = np.isin(shapely.get_type_id(geoms), _POLYGONAL_TYPE_IDS)
    return polygonal & ~shapely.is_empty(geoms) & shapely.is_valid(geoms)


def check_geometries(gdf: gpd.GeoDataFrame, *, min_area_m2: float = 100.0) -> list[Problem]:
    """Empty, non-polygonal, invalid (with a proposed repair) and tiny features.

    >>> import geopandas as gpd
    >>> from shapely import Polygon
    >>> bowtie = Polygon([(106.8, 39.6), (106.81, 39.61), (106.81, 39.6), (106.8, 39.61)])
    >>> [p.kind for p in check_geometries(gpd.GeoDataFrame({"code": ["A"]}, geometry=[bowtie]))]
    ['invalid_geometry']
    """
    return check_and_repair(gdf, min_area_m2=min_area_m2)[0]


def check_and_repair(
    gdf: gpd.GeoDataFrame, *, min_area_m2: float = 100.0
) -> tuple[list[Problem], np.ndarray]:
    """`check_geometries` and `repair_polygons` of the same layer, testing each shape once.

    >>> from shapely import Polygon, box
    >>> bowtie = Polygon([(106.8, 39.6), (106.81, 39.61), (106.81, 39.6), (106.8, 39.61)])
    >>> square = box(106.8, 39.6, 106.81, 39.61)
    >>> layer = gpd.GeoDataFrame({"code": ["A", "B"]}, geometry=[bowtie, square])
    >>> problems, repaired = check_and_repair(layer, min_area_m2=0)
    >>> [p.kind for p in problems], [g.geom_type for g in repaired]
    (['invalid_geometry'], ['MultiPolygon', 'Polygon'])
    """
    gdf = with_crs(gdf)
    geoms = np.asarray(gdf.geometry.array)
    codes = gdf["code"].astype(str).to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    wrong = ~empty & ~np.isin(shapely.get_type_id(geoms), _POLYGONAL_TYPE_IDS)
    broken = ~empty & nonfinite(geoms)
    invalid = ~empty & ~wrong & ~broken & ~on_all_cores(shapely.is_valid, geoms)
    usable = ~(empty | wrong | invalid | broken)
    areas = np.full(len(geoms), np.nan)
    if min_area_m2 > 0:  # reprojecting to measure is the costly part; skip it when unused
        areas[usable] = _areas(geoms[usable], crs_of(gdf), metric_crs(gdf))
    problems = [
        Problem("empty_geometry", (c,), "geometry is missing or empty") for c in codes[empty]
    ]
    problems += [
        Problem("wrong_geometry_type", (c,), f"{g.geom_type} is not a polygon", None, g)
        for c, g in zip(codes[wrong], geoms[wrong], strict=True)
    ]
    problems += [
        Problem("invalid_geometry", (c,), "a coordinate is not a finite number")
        for c in codes[broken]
    ]
    reasons = shapely.is_valid_reason(geoms[invalid])
    made_valid = shapely.make_valid(geoms[invalid])
    problems += [
        Problem("invalid_geometry", (c,), f"invalid geometry: {r}", None, g)
        for c, r, g in zip(codes[invalid], reasons, made_valid, strict=True)
    ]
    tiny = usable & (areas < min_area_m2)
    problems += [
        Problem("tiny_polygon", (c,), f"area {a:.1f} m² is below {min_area_m2:g} m²", float(a), g)
        for c, a, g in zip(codes[tiny], areas[tiny], geoms[tiny], strict=True)
    ]
    fixed = geoms.copy()
    fixed[broken] = None
    return problems, _repaired(fixed, np.flatnonzero(invalid), made_valid)


def check_codes(children: gpd.GeoDataFrame, parents: gpd.GeoDataFrame) -> list[Problem]:
    """Codes used twice, and parent codes that name no parent."""
    codes = children["code"].astype(str)
    counts = codes.value_counts(sort=False)
    problems = [
        Problem("duplicate_code", (str(c),), f"code {c} is used by {n} features")
        for c, n in counts[counts > 1].items()
    ]
    parent_codes = children["parent_code"].astype(str)
    unknown = ~parent_codes.isin(set(parents["code"].astype(str)))
    problems += [
        Problem("unknown_parent", (c,), f"parent code {p} does not exist")
        for c, p in zip(codes[unknown], parent_codes[unknown], strict=True)
    ]
    return problems


def find_overlaps(
    gdf: gpd.GeoDataFrame, *, tolerance_m2: float = 1.0, snap_m: float = 0.0
) -> list[Problem]:
    """Pairs of features whose interiors overlap by more than `tolerance_m2`; an overlap
    narrower than `snap_m` is a `sliver` (a warning: rounding left it)."""
    gdf = with_crs(gdf)
    geoms = np.asarray(gdf.geometry.array)
    keep = np.flatnonzero(is_usable(geoms))
    geoms, codes = geoms[keep], gdf["code"].astype(str).to_numpy()[keep]
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    left, right = left[left < right], right[left < right]
    shared = shapely.intersection(geoms[left], geoms[right])
    areas = _areas(shared, crs_of(gdf), metric_crs(gdf))
    hits = np.flatnonzero(areas > tolerance_m2)
    thin = _thin(shared[hits], crs_of(gdf), metric_crs(gdf), snap_m)
    return [
        Problem(
            "sliver" if is_thin else "overlap",
            (codes[left[i]], codes[right[i]]),
            f"{codes[left[i]]} and {codes[right[i]]} overlap by {areas[i]:.1f} m²",
            float(areas[i]),
            _polygonal(shared[i]),
        )
        for i, is_thin in zip(hits, thin, strict=True)
    ]


def _parent_lookup(parents: gpd.GeoDataFrame) -> pd.Series:
    geoms = pd.Series(np.asarray(parents.geometry.array), index=parents["code"].astype(str))
    geoms = geoms[~geoms.index.duplicated()]
    return geoms[is_usable(geoms.to_numpy())]


def find_gaps(
    children: gpd.GeoDataFrame,
    parents: gpd.GeoDataFrame,
    *,
    tolerance_m2: float = 1.0,
    snap_m: float = 0.0,
) -> list[Problem]:
    """Parts of each parent that none of its children cover (invalid children repaired
    first); those narrower than `snap_m` are `sliver`s."""
    children = with_crs(children)
    lookup = _parent_lookup(with_crs(parents).to_crs(crs_of(children)))
    geoms = repair_polygons(np.asarray(children.geometry.array))
    parent_codes = children["parent_code"].astype(str).to_numpy()
    groups = pd.Series(np.arange(len(geoms))).groupby(parent_codes)
    covers = {code: shapely.union_all(geoms[idx]) for code, idx in groups.indices.items()}
    cover = np.array([covers.get(code, shapely.Polygon()) for code in lookup.index], dtype=object)
    parts, owner = shapely.get_parts(
        shapely.difference(lookup.to_numpy(), cover), return_index=True
    )
    areas = _areas(parts, crs_of(children), metric_crs(children))
    thin = _thin(parts, crs_of(children), metric_crs(children), snap_m)
    codes = lookup.index.to_numpy()
    return [
        Problem(
            "sliver" if t else "gap",
            (codes[o],),
            f"{a:.1f} m² of {codes[o]} is not covered by its children",
            float(a),
            p,
        )
        for p, o, a, t in zip(parts, owner, areas, thin, strict=True)
        if a > tolerance_m2
    ]


def find_crossings(
    children: gpd.GeoDataFrame, parents: gpd.GeoDataFrame, *, tolerance_m2: float = 1.0
) -> list[Problem]:
    """Children reaching outside their parent by more than `tolerance_m2`."""
    children = with_crs(children)
    lookup = _parent_lookup(with_crs(parents).to_crs(crs_of(children)))
    geoms = np.asarray(children.geometry.array)
    parent_codes = children["parent_code"].astype(str).to_numpy()
    keep = is_usable(geoms) & np.isin(parent_codes, lookup.index)
    codes = children["code"].astype(str).to_numpy()[keep]
    parent_codes = parent_codes[keep]
    outside = shapely.difference(geoms[keep], lookup.loc[pd.Index(parent_codes)].to_numpy())
    areas = _areas(outside, crs_of(children), metric_crs(children))
    return [
        Problem("crosses_parent", (c, p), f"{c} reaches {a:.1f} m² outside {p}", float(a), g)
        for c, p, a, g in zip(codes, parent_codes, areas, outside, strict=True)
        if a > tolerance_m2
    ]


def validate_partition(
    children: gpd.GeoDataFrame,
    parents: gpd.GeoDataFrame,
    *,
    tolerance_m2: float = 1.0,
    min_area_m2: float = 100.0,
    snap_m: float = 0.0,
) -> list[Problem]:
    """Check that `children` (code, parent_code) tile their `parents` (code) exactly; gaps
    and overlaps narrower than `snap_m` are `sliver` warnings.

    Works at every level: grids in communities, communities in streets, and so on.
    Parents are only used as outlines here (validate them at their own level); pass only
    the parents these children should cover, as a parent without children is all gap.

    >>> import geopandas as gpd
    >>> from shapely import box
    >>> street = gpd.GeoDataFrame({"code": ["S"]}, geometry=[box(106.80, 39.6, 106.82, 39.61)])
    >>> communities = gpd.GeoDataFrame({"code": ["C1", "C2"], "parent_code": ["S", "S"]},
    ...     geometry=[box(106.80, 39.6, 106.811, 39.61), box(106.81, 39.6, 106.82, 39.61)])
    >>> [(p.kind, p.codes, round(p.area_m2, -3)) for p in validate_partition(communities, street)]
    [('overlap', ('C1', 'C2'), 95000.0)]
    """
    children = with_crs(children)
    return [
        *check_geometries(children, min_area_m2=min_area_m2),
        *check_codes(children, parents),
        *find_overlaps(children, tolerance_m2=tolerance_m2, snap_m=snap_m),
        *find_gaps(children, parents, tolerance_m2=tolerance_m2, snap_m=snap_m),
        *find_crossings(children, parents, tolerance_m2=tolerance_m2),
    ]


def validate_grids(
    grids: gpd.GeoDataFrame,
    parents: gpd.GeoDataFrame,
    *,
    tolerance_m2: float = 1.0,
    min_area_m2: float = 100.0,
) -> list[Problem]:
    """Grids (code, parent_code) against their communities (code); see `validate_partition`."""
    return validate_partition(grids, parents, tolerance_m2=tolerance_m2, min_area_m2=min_area_m2)


def validate_tree(
    areas: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, *, tolerance_m2: float = 1.0
) -> list[Problem]:
    """Every level of an areas table (code, level, parent_code) and the grids under it.

    >>> from geo.demo import build_demo_city
    >>> city = build_demo_city()
    >>> validate_tree(city.areas, city.grids)
    []
    """
    by_level = {level: areas[areas["level"] == level] for level in LEVELS}
    problems = check_geometries(by_level["city"])
    for upper, lower in pairwise(LEVELS):
        problems += validate_partition(by_level[lower], by_level[upper], tolerance_m2=tolerance_m2)
    return problems + validate_grids(grids, by_level["community"], tolerance_m2=tolerance_m2)


SNAP_M = 0.1  # rounding lon/lat to 6 decimals moves a vertex by up to ~5 cm
_METRES_PER_DEGREE = 111_320.0


def _thin(pieces: np.ndarray, crs: CRS, metric: CRS, snap_m: float) -> np.ndarray:
    """Which pieces are narrower than `snap_m` everywhere: slivers left by rounding."""
    if not len(pieces) or snap_m <= 0:
        return np.zeros(len(pieces), dtype=bool)
    inner = gpd.GeoSeries(pieces, crs=crs).to_crs(metric).buffer(-snap_m / 2)
    return (inner.is_empty | inner.isna()).to_numpy()


def snap_layer(
    children: gpd.GeoDataFrame, parents: gpd.GeoDataFrame, snap_m: float = SNAP_M
) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """The parts of children reaching outside their parent by less than `snap_m` cut off,
    with a `snapped` warning (and the m²) for each child so changed.

    Rounding coordinates (to 6 decimals, ≈ 5 cm) opens gaps and crossings of a few m²
    along edges that were shared: this closes the crossings instead of blocking the
    import, and the checks report gaps and overlaps as thin as that as `sliver` warnings
    (filling them by overlay gave GEOS's noding slivers of its own). Wider pieces are left
    for the checks to report.

    >>> from shapely import box
    >>> parent = gpd.GeoDataFrame({"code": ["P"]}, geometry=[box(106.8, 39.6, 106.82, 39.61)])
    >>> rounded = gpd.GeoDataFrame({"code": ["A", "B"], "parent_code": ["P", "P"]},
    ...     geometry=[box(106.8, 39.6, 106.81, 39.6100004), box(106.81, 39.6, 106.82, 39.61)])
    >>> snapped, warnings = snap_layer(rounded, parent)
    >>> [p.codes for p in warnings], validate_partition(snapped, parent)
    ([('A',)], [])
    """
    children = with_crs(children)
    if snap_m <= 0 or not len(children):
        return children, []
    crs, metric = crs_of(children), metric_crs(children)
    geoms = np.asarray(children.geometry.array)
    usable = is_usable(geoms)
    fixed = geoms.copy()
    lookup = _parent_lookup(with_crs(parents).to_crs(crs))
    parent_codes = children["parent_code"].astype(str).to_numpy()
    known = np.flatnonzero(np.isin(parent_codes, lookup.index) & usable)
    outlines = lookup.loc[pd.Index(parent_codes[known])].to_numpy()
    outside = shapely.difference(fixed[known], outlines)
    # Below the checks' 1 m² a crossing is no problem, and a shape left as it is compares
    # equal to the stored one (a reprojected layer strays by less than a millimetre).
    cut = (_areas(outside, crs, metric) > 1.0) & _thin(outside, crs, metric, snap_m)
    fixed[known[cut]] = [
        _polygonal(g) for g in shapely.intersection(fixed[known[cut]], outlines[cut])
    ]
    # A repair that broke a shape is not taken: the shape is then checked as drawn.
    fixed = np.where(is_usable(fixed) | ~usable, fixed, geoms)
    moved = np.flatnonzero(usable & ~shapely.equals_exact(fixed, geoms, tolerance=0))
    areas = _areas(shapely.symmetric_difference(fixed[moved], geoms[moved]), crs, metric)
    codes = children["code"].astype(str).to_numpy()
    warnings = [
        Problem(
            "snapped",
            (codes[i],),
            f"{a:.1f} m² of {codes[i]} reaching less than {snap_m:g} m outside its parent cut off",
            float(a),
        )
        for i, a in zip(moved, areas, strict=True)
    ]
    out = children.copy()
    out[out.geometry.name] = gpd.GeoSeries(fixed, index=children.index, crs=crs)
    return out, warnings
