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


def _lonlat(gdf: gpd.GeoDataFrame) -> np.ndarray:
    if gdf.crs is not None and not gdf.crs.equals(4326):
        gdf = gdf.to_crs(4326)
    return np.asarray(gdf.geometry.array)


def assign_buildings(
    buildings: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, *, tolerance_m2: float = 1.0
) -> tuple[pd.Series, list[Problem]]:
    """Grid code of each building (largest overlap; None outside every grid) and problems.

    A building overlapping several grids by more than `tolerance_m2` is still assigned,
    and reported as "building_straddles" with its own code first, then the grids by
    decreasing overlap; `area_m2` is the part lying in the other grids.

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
    footprints = repair_polygons(originals)
    cells = _lonlat(grids)
    usable = np.flatnonzero(is_usable(cells))
    cells = cells[usable]
    tree = shapely.STRtree(cells)
    codes = buildings["code"].astype(str).to_numpy()
    grid_codes = grids["code"].astype(str).to_numpy()[usable]
    assigned = np.full(len(codes), None, dtype=object)

    # Most footprints lie inside one grid: a box query and a prepared containment test settle
    # them with no overlay; only the rest are intersected with the grids they meet. The cells
    # are prepared as copies, so the caller's geometries stay unprepared (and thread-safe).
    cells = shapely.from_wkb(shapely.to_wkb(cells))
    shapely.prepare(cells)
    b, g = tree.query(footprints)
    inside = shapely.contains_properly(cells[g], footprints[b])
    settled = np.zeros(len(codes), dtype=bool)
    settled[b[inside]] = True
    assigned[b[inside]] = grid_codes[g[inside]]
    open_pairs = ~settled[b]
    b, g = b[open_pairs], g[open_pairs]
    meets = shapely.intersects(cells[g], footprints[b])
    b, g = b[meets], g[meets]
    overlap = square_metres(shapely.intersection(footprints[b], cells[g]))
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
    straddlers = np.flatnonzero(np.bincount(b[big], minlength=len(codes)) >= 2)
    starts, ends = np.searchsorted(b, straddlers), np.searchsorted(b, straddlers, side="right")
    for i, start, end in zip(straddlers, starts, ends, strict=True):
        named = tuple(grid_codes[g[start:end][big[start:end]]])
        reason = f"{codes[i]} overlaps grids {', '.join(named)}; assigned to {named[0]}"
        elsewhere = float(overlap[start + 1 : end].sum())
        problems.append(
            Problem("building_straddles", (codes[i], *named), reason, elsewhere, originals[i])
        )
    return pd.Series(assigned, index=buildings.index, dtype=object, name="grid_code"), problems
