"""Assignment of buildings to the grid they lie in, with the buildings that do not fit.

Geometries are measured in the grids' local UTM zone, as in `geo.validate`, whose notion
of a usable (valid, polygonal) shape and whose `Problem` records this module shares.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.validate import Problem, is_usable, metric_crs, repair_polygons, with_crs


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
    grids = with_crs(grids)
    buildings = with_crs(buildings).to_crs(grids.crs)
    metric = metric_crs(grids)
    footprints = repair_polygons(np.asarray(buildings.geometry.to_crs(metric).array))
    cells = np.asarray(grids.geometry.to_crs(metric).array)
    usable = np.flatnonzero(is_usable(cells))
    cells = cells[usable]
    shapely.prepare(cells)
    b, g = shapely.STRtree(cells).query(footprints, predicate="intersects")
    # Most footprints sit well inside one grid: their overlap is their own area, no overlay.
    overlap = shapely.area(footprints[b])
    edge = np.flatnonzero(~shapely.contains_properly(cells[g], footprints[b]))
    overlap[edge] = shapely.area(shapely.intersection(footprints[b[edge]], cells[g[edge]]))
    order = np.lexsort((-overlap, b))
    order = order[overlap[order] > 0]
    b, g, overlap = b[order], g[order], overlap[order]
    first = np.r_[True, b[1:] != b[:-1]] if len(b) else np.zeros(0, dtype=bool)
    grid_codes = grids["code"].astype(str).to_numpy()[usable]
    codes = buildings["code"].astype(str).to_numpy()
    assigned = np.full(len(codes), None, dtype=object)
    assigned[b[first]] = grid_codes[g[first]]

    originals = np.asarray(buildings.geometry.array)
    outside = np.setdiff1d(np.arange(len(codes)), b)
    problems = [
        Problem(
            "building_outside",
            (codes[i],),
            f"{codes[i]} lies outside every grid",
            float(a) if np.isfinite(a) else None,
            originals[i],
        )
        for i, a in zip(outside, shapely.area(footprints[outside]), strict=True)
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
