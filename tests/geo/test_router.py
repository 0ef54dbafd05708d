import numpy as np
import pytest
import shapely

from geo.router import GridRouter

# A 3×3 tiling of unit squares over [0, 3]², listed in a scrambled order so that input
# indices differ from both reading order and any order the tree might impose.
CELL_ORDER = [4, 7, 2, 8, 0, 5, 3, 6, 1]  # CELL_ORDER[i] = reading-order cell of input i


def cell_index(col: int, row: int) -> int:
    return CELL_ORDER.index(row * 3 + col)


@pytest.fixture(scope="module")
def tiling() -> GridRouter:
    return GridRouter([shapely.box(c % 3, c // 3, c % 3 + 1, c // 3 + 1) for c in CELL_ORDER])


@pytest.fixture(scope="module")
def donut() -> GridRouter:
    """Input 0 is a square with a hole; input 1 is a square well away from it."""
    outer = shapely.box(0, 0, 4, 4)
    return GridRouter([outer.difference(shapely.box(1, 1, 3, 3)), shapely.box(10, 0, 11, 1)])


def test_len_counts_the_grids(tiling):
    assert len(tiling) == 9


@pytest.mark.parametrize(("col", "row"), [(c, r) for r in range(3) for c in range(3)])
def test_interior_point_routes_to_its_cell(tiling, col, row):
    assert tiling.locate(col + 0.3, row + 0.6) == cell_index(col, row)


@pytest.mark.parametrize("point", [(-0.5, 1.5), (1.5, 3.01), (100.0, 100.0), (3.5, -0.5)])
def test_point_outside_every_grid_is_none(tiling, point):
    assert tiling.locate(*point) is None
    assert tiling.locate_many(np.array([point[0]]), np.array([point[1]])).tolist() == [-1]


def test_outer_boundary_counts_as_inside(tiling):
    assert tiling.locate(0.0, 1.5) == cell_index(0, 1)
    assert tiling.locate(3.0, 3.0) == cell_index(2, 2)


@pytest.mark.parametrize(
    ("point", "cells"),
    [
        ((1.0, 0.5), [(0, 0), (1, 0)]),
        ((2.5, 2.0), [(2, 1), (2, 2)]),
        ((1.0, 1.0), [(0, 0), (1, 0), (0, 1), (1, 1)]),
        ((2.0, 1.0), [(1, 0), (2, 0), (1, 1), (2, 1)]),
    ],
)
def test_shared_boundary_goes_to_the_smallest_index(tiling, point, cells):
    expected = min(cell_index(*cell) for cell in cells)
    assert tiling.locate(*point) == expected
    assert tiling.locate_many(np.array([point[0]]), np.array([point[1]])).tolist() == [expected]


def test_locate_many_matches_locate(tiling):
    rng = np.random.default_rng(3)
    # Half-unit steps put many points on edges and corners, where the tie rule matters.
    lon = np.concatenate([rng.uniform(-0.5, 3.5, 2000), rng.integers(-1, 8, 2000) / 2])
    lat = np.concatenate([rng.uniform(-0.5, 3.5, 2000), rng.integers(-1, 8, 2000) / 2])
    expected = [tiling.locate(x, y) for x, y in zip(lon.tolist(), lat.tolist(), strict=True)]
    got = tiling.locate_many(lon, lat)
    assert got.dtype == np.int64
    assert got.tolist() == [-1 if e is None else e for e in expected]
    assert -1 in got and len(set(got.tolist())) == 10


def test_locate_many_keeps_the_input_shape(tiling):
    lon = np.array([[0.5, 1.5], [2.5, 9.0]])
    lat = np.array([[0.5, 0.5], [2.5, 9.0]])
    got = tiling.locate_many(lon, lat)
    assert got.shape == (2, 2)
    assert got.tolist() == [[cell_index(0, 0), cell_index(1, 0)], [cell_index(2, 2), -1]]


def test_locate_many_of_nothing_is_empty(tiling):
    got = tiling.locate_many(np.array([]), np.array([]))
    assert got.dtype == np.int64 and got.shape == (0,)


def test_point_in_a_hole_is_outside(donut):
    assert donut.locate(0.5, 2.0) == 0
    assert donut.locate(2.0, 2.0) is None
    assert donut.locate_many(np.array([2.0, 0.5]), np.array([2.0, 2.0])).tolist() == [-1, 0]


def test_hole_boundary_belongs_to_the_polygon(donut):
    assert donut.locate(1.0, 2.0) == 0


def test_island_in_a_hole_is_found():
    outer = shapely.box(0, 0, 4, 4)
    island = shapely.box(1, 1, 3, 3)
    router = GridRouter([outer.difference(island), island])
    assert router.locate(2.0, 2.0) == 1
    assert router.locate(0.5, 0.5) == 0
    assert router.locate(1.0, 2.0) == 0


def test_null_geometries_keep_their_index_slot():
    router = GridRouter(np.array([None, shapely.box(0, 0, 1, 1)]))
    assert router.locate(0.5, 0.5) == 1
    assert router.locate_many(np.array([0.5]), np.array([0.5])).tolist() == [1]
