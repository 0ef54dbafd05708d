"""Assignment of buildings to the grid they lie in, with the buildings that do not fit.

Shapes are compared in lon/lat: a building is a few tens of metres across, so its area in m²
is its area in square degrees times the local scale at its latitude (to well under 0.1 %), and
reprojecting a city's footprints would cost more than the assignment itself.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.parallel import pairs_on_all_cores
from geo.validate import Problem, is_usable, repair_polygons

# Square metres per square degree at the equator, on the mean Earth radius.
_M2_PER_DEG2 = (np.pi / 180 * 6_371_008.8) ** 2


def square_metres(geoms: np.ndarray) -> np.ndarray:
    """Area in m² of small lon/lat shapes (buildings, their slivers).

    >>> from shapely import box
    >>> round(float(square_metres(np.array([box(106.8, 39.6, 106.8001, 39.6001)]))[0]), 1)
    95.3
    """
    bounds = shapely.bounds(geoms)
    lat = np.radians((bounds[:, 1] + bounds[:, 3]) / 2)
    return shapely.area(geoms) * _M2_PER_DEG2 * np.cos(lat)


def _inside(
    footprints: np.ndarray, b: np.ndarray, prepared: np.ndarray, g: np.ndarray
) -> np.ndarray:
    """Whether building ``b`` lies in the interior of cell ``g``, pair by pair (``prepared``:
    prepared cells); `shapely.contains_properly`, at less than its cost.

    A polygon is connected: when the cell's boundary does not meet it, it lies wholly on one
    side, the side its first vertex is on. Only multipolygons need the full test.

    >>> from shapely import box
    >>> cells = np.array([box(0, 0, 2, 2)])
    >>> houses = np.array([box(0.5, 0.5, 1, 1), box(1.5, 1.5, 2.5, 2.5), box(3, 3, 4, 4)])
    >>> _inside(houses, np.arange(3), cells, np.zeros(3, dtype=int)).tolist()
    [True, False, False]
    """
    inside = np.zeros(len(b), dtype=bool)
    coords, owner = shapely.get_coordinates(footprints, return_index=True)
    polygon = shapely.get_type_id(footprints) == shapely.GeometryType.POLYGON
    has_vertices = np.zeros(len(footprints), dtype=bool)
    has_vertices[owner] = True
    polygon &= has_vertices
    starts = np.minimum(np.searchsorted(owner, np.arange(len(footprints))), len(owner) - 1)
    first = coords[starts] if len(coords) else np.zeros((len(footprints), 2))
    single = polygon[b]
    near = np.flatnonzero(single)
    near = near[shapely.contains_xy(prepared[g[near]], *first[b[near]].T)]
    edges = shapely.boundary(prepared)
    shapely.prepare(edges)
    inside[near] = ~shapely.intersects(edges[g[near]], footprints[b[near]])
    multi = np.flatnonzero(~single)
    inside[multi] = shapely.contains_properly(prepared[g[multi]], footprints[b[multi]])
    return inside


def _overlaps(
    footprints: np.ndarray, b: np.ndarray, cells: np.ndarray, prepared: np.ndarray, g: np.ndarray
) -> np.ndarray:
    """The area in m² that building ``b`` shares with cell ``g``, pair by pair (``b`` ascending;
    ``prepared`` are prepared copies of ``cells``).

    Cells do not overlap: what a building has outside its first cell is its share of its second
    one, when that one covers it. A building on a boundary then costs one overlay, not two.

    >>> from shapely import box
    >>> cells = np.array([box(0, 0, 1, 2), box(1, 0, 2, 2), box(2, 0, 3, 2)])
    >>> houses = np.array([box(0.9, 0, 1.2, 1), box(1.8, 0, 2.1, 1), box(1.8, 1.5, 2.2, 2.5)])
    >>> b, g = np.array([0, 0, 1, 1, 2, 2]), np.array([0, 1, 1, 2, 1, 2])
    >>> overlap = _overlaps(houses, b, cells, cells, g)
    >>> (overlap / overlap[[0, 0, 2, 2, 4, 4]]).round(3).tolist()  # as shares of the first
    [1.0, 2.0, 1.0, 0.5, 1.0, 1.0]
    """
    first = np.r_[True, b[1:] != b[:-1]] if len(b) else np.zeros(0, dtype=bool)
    head = np.cumsum(first) - 1  # each pair's building among the buildings
    rest = pairs_on_all_cores(
        shapely.difference, footprints, b[first], cells, g[first], min_split=2_000
    )
    bounds = shapely.bounds(footprints[b[first]])
    scale = _M2_PER_DEG2 * np.cos(np.radians((bounds[:, 1] + bounds[:, 3]) / 2))
    whole, left = shapely.area(footprints[b[first]]), shapely.area(rest)
    shared = whole - left
    # Slivers of rounding, where a building only touches its first cell.
    shared[shared < whole * 1e-9] = 0.0
    overlap = np.zeros(len(b))
    overlap[first] = shared * scale
    others = np.flatnonzero(~first)
    pairs = np.bincount(head)[head[others]]
    lonely = (pairs == 2) & (left[head[others]] > 0)
    covered = np.zeros(len(others), dtype=bool)
    covered[lonely] = shapely.covers(prepared[g[others[lonely]]], rest[head[others[lonely]]])
    overlap[others[covered]] = (left * scale)[head[others[covered]]]
    # The rest is shared out among several cells (or lies partly in none): overlay each pair.
    need = others[~covered & (left[head[others]] > 0)]
    parts = pairs_on_all_cores(
        shapely.intersection, footprints, b[need], cells, g[need], min_split=2_000
    )
    overlap[need] = shapely.area(parts) * scale[head[need]]
    return overlap


def _lonlat(gdf: gpd.GeoDataFrame) -> np.ndarray:
    if gdf.crs is not None and not gdf.crs.equals(4326):
        gdf = gdf.to_crs(4326)
    return np.asarray(gdf.geometry.array)


def assign_buildings(
    buildings: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    *,
    tolerance_m2: float = 1.0,
    footprints: np.ndarray | None = None,
) -> tuple[pd.Series, list[Problem]]:
    """Grid code of each building (largest overlap; None outside every grid) and problems.

    A building overlapping several grids by more than `tolerance_m2` is still assigned,
    and reported as "building_straddles" with its own code first, then the grids by
    decreasing overlap; `area_m2` is the part lying in the other grids. `footprints` are the
    buildings' shapes as `repair_polygons` gives them in lon/lat, when the caller has them.

    >>> import geopandas as gpd
    >>> from shapely import box
    >>> grids = gpd.GeoDataFrame({"code": ["G1"]}, geometry=[box(106.80, 39.60, 106.81, 39.61)],
    ...                          crs=4326)
    >>> houses = gpd.GeoDataFrame({"code": ["B1", "B2"]}, crs=4326, geometry=[
    ...     box(106.8050, 39.6050, 106.8052, 39.6052), box(106.90, 39.60, 106.9002, 39.6002)])
    >>> assigned, problems = assign_buildings(houses, grids)
    >>> assigned.tolist(), [p.kind for p in problems]
    (['G1', None], ['building_outside'])
    """
    originals = _lonlat(buildings)
    if footprints is None:
        footprints = repair_polygons(originals)
    cells = _lonlat(grids)
    usable = np.flatnonzero(is_usable(cells))
    cells = cells[usable]
    tree = shapely.STRtree(cells)
    codes = buildings["code"].astype(str).to_numpy()
    grid_codes = grids["code"].astype(str).to_numpy()[usable]
    assigned = np.full(len(codes), None, dtype=object)

    # Most footprints lie inside one grid: a box query and a point test settle them with no
    # overlay; only the rest are intersected with the grids they meet. The cells are prepared
    # as copies, so the caller's geometries stay unprepared (and thread-safe).
    prepared = shapely.from_wkb(shapely.to_wkb(cells))
    shapely.prepare(prepared)
    b, g = tree.query(footprints)
    settled = np.zeros(len(codes), dtype=bool)
    inside = _inside(footprints, b, prepared, g)
    settled[b[inside]] = True
    assigned[b[inside]] = grid_codes[g[inside]]
    open_pairs = ~settled[b]
    b, g = b[open_pairs], g[open_pairs]
    meets = shapely.intersects(prepared[g], footprints[b])
    b, g = b[meets], g[meets]
    overlap = _overlaps(footprints, b, cells, prepared, g)
    order = np.lexsort((-overlap, b))
    order = order[overlap[order] > 0]
    b, g, overlap = b[order], g[order], overlap[order]
    first = np.r_[True, b[1:] != b[:-1]] if len(b) else np.zeros(0, dtype=bool)
    assigned[b[first]] = grid_codes[g[first]]
    settled[b] = True

    outside = np.flatnonzero(~settled)
    areas = square_metres(footprints[outside])
    problems = [
        Problem(
            "building_outside",
            (codes[i],),
            f"{codes[i]} lies outside every grid",
            float(a) if np.isfinite(a) else None,
            originals[i],
        )
        for i, a in zip(outside, areas, strict=True)
    ]
    big = overlap > tolerance_m2
    counts = np.bincount(b[big], minlength=len(codes))
    straddlers = np.flatnonzero(counts >= 2)
    starts = np.searchsorted(b, straddlers)
    ends = np.searchsorted(b, straddlers, side="right")
    # A building's pairs run by decreasing overlap: the grids above the tolerance come first,
    # and every pair after the first lies elsewhere.
    running = np.r_[0.0, np.cumsum(overlap)]
    elsewhere = (running[ends] - running[starts + 1]).tolist()
    pair_grids = grid_codes[g].tolist()
    for i, start, n, rest in zip(
        straddlers.tolist(), starts.tolist(), counts[straddlers].tolist(), elsewhere, strict=True
    ):
        named = tuple(pair_grids[start : start + n])
        reason = f"{codes[i]} overlaps grids {', '.join(named)}; assigned to {named[0]}"
        problems.append(
            Problem("building_straddles", (codes[i], *named), reason, rest, originals[i])
        )
    return pd.Series(assigned, index=buildings.index, dtype=object, name="grid_code"), problems
