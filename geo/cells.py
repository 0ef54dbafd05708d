"""Cells of a fixed lon/lat lattice as integer keys: a spatial key that an ordinary B-tree
index serves, on SQLite and PostgreSQL alike (no spatial extension in either).

A cell is ``CELL_DEG`` degrees square: about 111 m north–south and 85 m east–west at Wuhai
(39.7° N). A search finds the cells a box around the point touches (:func:`cells_in`), so the
answer is exact whatever the radius and latitude; at 50 m around a point in China that is
2 to 9 cells.

The key is computed as ``floor((lon + 180) / CELL_DEG) * ROW + floor((lat + 90) / CELL_DEG)``;
a migration computes it in SQL with the same arithmetic on doubles (``* 1000``, not ``/ 0.001``,
whose rounding differs), so keys made in Python and in the database agree.

>>> cell_of(106.8005, 39.7005)
57360129700
>>> cell_of(106.8, 39.7) in cells_in(106.7999, 39.6999, 106.8001, 39.7001)
True
>>> len(cells_in(106.8001, 39.7001, 106.8009, 39.7009))
1
"""

from __future__ import annotations

import math

PER_DEGREE = 1000  # cells per degree: CELL_DEG = 0.001
ROW = 200_000  # more than the cells in a column (180 × PER_DEGREE): keys never overlap


def cell_of(lon: float, lat: float) -> int:
    """The key of the cell holding (lon, lat), WGS 84 degrees."""
    return math.floor((lon + 180) * PER_DEGREE) * ROW + math.floor((lat + 90) * PER_DEGREE)


def cells_in(west: float, south: float, east: float, north: float) -> list[int]:
    """The keys of every cell that a lon/lat box touches (west ≤ east: no antimeridian)."""
    x0, x1 = math.floor((west + 180) * PER_DEGREE), math.floor((east + 180) * PER_DEGREE)
    y0, y1 = math.floor((south + 90) * PER_DEGREE), math.floor((north + 90) * PER_DEGREE)
    return [x * ROW + y for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
