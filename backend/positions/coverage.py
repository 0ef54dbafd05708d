"""Which buildings a patrol passed: footprints within 30 m of the walked line. Pure.

Distances are taken in metres, in an azimuthal equidistant projection centred on the area at
hand: over a grid's few kilometres its scale error is far below a GPS fix's. Footprints go into
an STRtree and each walk (a line, or a point for a walk of one fix) asks it for the footprints
within the distance (GEOS ``dwithin``): exact on the polygon's edges, vectorised, and with no
buffer polygons to build.

>>> square = shapely.box(106.8000, 39.6000, 106.8002, 39.6002)  # ~17 x 22 m
>>> far = shapely.box(106.8100, 39.6000, 106.8102, 39.6002)     # ~850 m east
>>> walk = np.array([[106.7990, 39.6001], [106.7996, 39.6001]])  # ends ~34 m west of square
>>> passed_within(np.array([square, far]), [walk], 30.0).tolist()
[False, False]
>>> passed_within(np.array([square, far]), [walk], 40.0).tolist()
[True, False]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from pyproj import Transformer

PASS_WITHIN_M = 30.0


def _local_metres(lon: float, lat: float) -> Transformer:
    return Transformer.from_crs(
        "EPSG:4326", f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m", always_xy=True
    )


def passed_within(
    footprints: np.ndarray, walks: Sequence[np.ndarray], within_m: float = PASS_WITHIN_M
) -> np.ndarray:
    """For each footprint (WGS 84 polygons), whether some walk ((n, 2) lon/lat arrays) comes
    within ``within_m`` metres of it."""
    passed = np.zeros(len(footprints), dtype=bool)
    walks = [w for w in walks if len(w)]
    if not len(footprints) or not walks:
        return passed
    min_x, min_y, max_x, max_y = shapely.total_bounds(footprints)
    to_m = _local_metres((min_x + max_x) / 2, (min_y + max_y) / 2)

    def project(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(to_m.transform(xy[:, 0], xy[:, 1]))

    tree = shapely.STRtree(shapely.transform(footprints, project))
    metres = [project(w) for w in walks]
    lines = np.array(
        [shapely.linestrings(m) if len(m) > 1 else shapely.points(m[0]) for m in metres],
        dtype=object,
    )
    _, hit = tree.query(lines, predicate="dwithin", distance=within_m)
    passed[np.unique(hit)] = True
    return passed
