"""Hand-built broken layers: each check must find exactly the defect planted for it.

Shapes are drawn in UTM 48N metres (near Wuhai) so areas are known exactly, then handed
to the validators in lon/lat like real layers.
"""

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import LineString, Polygon, box

from geo.assign import assign_buildings
from geo.validate import (
    Problem,
    check_and_repair,
    check_geometries,
    find_overlaps,
    repair_polygons,
    validate_grids,
    validate_partition,
    validate_tree,
)

X0, Y0 = 640_000.0, 4_393_000.0  # metres in EPSG:32648, about lon 106.63, lat 39.68


def at(geom: shapely.Geometry) -> shapely.Geometry:
    """Shift a shape drawn around (0, 0) to Wuhai."""
    return shapely.affinity.translate(geom, X0, Y0)


def layer(rows: list[tuple], columns: tuple[str, ...] = ("code", "parent_code")):
    """A lon/lat GeoDataFrame from (code, [parent_code,] geometry in local metres)."""
    data = {name: [row[i] for row in rows] for i, name in enumerate(columns)}
    geoms = [None if row[-1] is None else at(row[-1]) for row in rows]
    return gpd.GeoDataFrame(data, geometry=geoms, crs=32648).to_crs(4326)


@pytest.fixture
def community() -> gpd.GeoDataFrame:
    return layer([("P", box(0, 0, 200, 100))], ("code",))


def kinds(problems: list[Problem]) -> list[str]:
    return sorted(p.kind for p in problems)


def only(problems: list[Problem], kind: str) -> Problem:
    found = [p for p in problems if p.kind == kind]
    assert len(found) == 1, problems
    return found[0]


def test_clean_layer_has_no_problems(community):
    grids = layer([("A", "P", box(0, 0, 100, 100)), ("B", "P", box(100, 0, 200, 100))])
    assert validate_grids(grids, community) == []


def test_bowtie_is_invalid_with_a_repair_and_skips_geometry_checks(community):
    bowtie = Polygon([(100, 0), (200, 100), (200, 0), (100, 100)])
    grids = layer([("A", "P", box(0, 0, 100, 100)), ("B", "P", bowtie)])
    problems = validate_grids(grids, community)
    invalid = only(problems, "invalid_geometry")
    assert invalid.codes == ("B",)
    assert "Self-intersection" in invalid.reason
    assert invalid.geometry.is_valid
    assert invalid.geometry.geom_type == "MultiPolygon"
    assert not any(p.kind in ("overlap", "crosses_parent") for p in problems)


def test_overlap_reports_both_codes_and_area(community):
    spur = shapely.union(box(100, 0, 200, 100), box(90, 40, 100, 60))  # 10 m × 20 m into A
    grids = layer([("A", "P", box(0, 0, 100, 100)), ("B", "P", spur)])
    problems = validate_grids(grids, community)
    assert kinds(problems) == ["overlap"]
    assert problems[0].codes == ("A", "B")
    assert problems[0].area_m2 == pytest.approx(200, rel=0.01)
    assert problems[0].geometry.geom_type == "Polygon"


def test_overlap_below_tolerance_is_ignored():
    grids = layer([("A", "P", box(0, 0, 100, 100)), ("B", "P", box(99.5, 0, 200, 1))])
    assert find_overlaps(grids, tolerance_m2=1.0) == []
    assert len(find_overlaps(grids, tolerance_m2=0.1)) == 1


def test_gap_reports_parent_and_area(community):
    notched = shapely.difference(box(100, 0, 200, 100), box(180, 0, 200, 30))
    grids = layer([("A", "P", box(0, 0, 100, 100)), ("B", "P", notched)])
    gap = only(validate_grids(grids, community), "gap")
    assert gap.codes == ("P",)
    assert gap.area_m2 == pytest.approx(600, rel=0.01)
    assert len(validate_grids(grids, community)) == 1


def test_parent_without_children_is_one_big_gap():
    parents = layer([("P", box(0, 0, 200, 100)), ("Q", box(200, 0, 300, 100))], ("code",))
    grids = layer([("A", "P", box(0, 0, 200, 100))])
    gap = only(validate_grids(grids, parents), "gap")
    assert gap.codes == ("Q",)
    assert gap.area_m2 == pytest.approx(10_000, rel=0.01)


def test_grid_sticking_out_crosses_parent(community):
    grids = layer([("A", "P", box(0, 0, 100, 100)), ("B", "P", box(100, 0, 215, 100))])
    problems = validate_grids(grids, community)
    crossing = only(problems, "crosses_parent")
    assert crossing.codes == ("B", "P")
    assert crossing.area_m2 == pytest.approx(1500, rel=0.01)
    assert kinds(problems) == ["crosses_parent"]


def test_duplicate_codes(community):
    grids = layer([("A", "P", box(0, 0, 100, 100)), ("A", "P", box(100, 0, 200, 100))])
    problems = validate_grids(grids, community)
    assert kinds(problems) == ["duplicate_code"]
    assert problems[0].codes == ("A",)


def test_unknown_parent(community):
    grids = layer([("A", "P", box(0, 0, 100, 100)), ("B", "X", box(100, 0, 200, 100))])
    problems = validate_grids(grids, community)
    unknown = only(problems, "unknown_parent")
    assert unknown.codes == ("B",)
    assert "X" in unknown.reason
    assert only(problems, "gap").area_m2 == pytest.approx(10_000, rel=0.01)


def test_empty_wrong_type_and_tiny(community):
    grids = layer(
        [
            ("A", "P", box(0, 0, 100, 100)),
            ("B", "P", box(100, 0, 200, 100)),
            ("E", "P", None),
            ("L", "P", LineString([(10, 10), (20, 20)])),
            ("T", "P", box(300, 0, 305, 5)),
        ]
    )
    problems = validate_grids(grids, community)
    assert {p.kind: p.codes for p in problems if p.kind != "crosses_parent"} == {
        "empty_geometry": ("E",),
        "wrong_geometry_type": ("L",),
        "tiny_polygon": ("T",),
    }
    assert only(problems, "tiny_polygon").area_m2 == pytest.approx(25, rel=0.01)


def test_partition_works_for_any_level():
    street = layer([("150302001", box(0, 0, 200, 100))], ("code",))
    communities = layer(
        [
            ("150302001001", "150302001", box(0, 0, 120, 100)),
            ("150302001002", "150302001", box(100, 0, 200, 100)),
        ]
    )
    overlap = only(validate_partition(communities, street), "overlap")
    assert overlap.area_m2 == pytest.approx(2000, rel=0.01)


def test_tree_checks_every_level():
    rows = [
        ("150300", "city", None, box(0, 0, 200, 100)),
        ("150302", "district", "150300", box(0, 0, 200, 100)),
        ("150302001", "street", "150302", box(0, 0, 200, 100)),
        ("150302001001", "community", "150302001", box(0, 0, 100, 100)),
        ("150302001002", "community", "150302001", box(100, 0, 230, 100)),
    ]
    areas = layer(rows, ("code", "level", "parent_code"))
    grids = layer(
        [
            ("15030200100101", "150302001001", box(0, 0, 100, 100)),
            ("15030200100201", "150302001002", box(100, 0, 230, 100)),
        ]
    )
    problems = validate_tree(areas, grids)
    assert [(p.kind, p.codes) for p in problems] == [
        ("crosses_parent", ("150302001002", "150302001"))
    ]
    assert problems[0].area_m2 == pytest.approx(3000, rel=0.01)


def test_problem_to_dict_is_json():
    problem = Problem("gap", ("P",), "hole", 12.5, box(0, 0, 1, 1))
    data = json.loads(json.dumps(problem.to_dict()))
    assert data["codes"] == ["P"]
    assert data["geometry"]["type"] == "Polygon"
    assert Problem("duplicate_code", ("A",), "twice").to_dict()["geometry"] is None


@pytest.fixture
def two_grids() -> gpd.GeoDataFrame:
    return layer([("A", box(0, 0, 100, 100)), ("B", box(100, 0, 200, 100))], ("code",))


def test_buildings_assigned_inside_outside_and_straddling(two_grids):
    buildings = layer(
        [
            ("IN", box(10, 10, 40, 25)),
            ("OUT", box(300, 10, 330, 25)),
            ("S", box(80, 40, 130, 60)),  # 400 m² in A, 600 m² in B
        ],
        ("code",),
    )
    assigned, problems = assign_buildings(buildings, two_grids)
    assert assigned.tolist() == ["A", None, "B"]
    assert list(assigned.index) == list(buildings.index)
    assert kinds(problems) == ["building_outside", "building_straddles"]
    assert only(problems, "building_outside").codes == ("OUT",)
    straddle = only(problems, "building_straddles")
    assert straddle.codes == ("S", "B", "A")
    assert straddle.area_m2 == pytest.approx(400, rel=0.01)


def test_building_on_the_line_within_tolerance_is_not_straddling(two_grids):
    buildings = layer([("EDGE", box(60, 40, 100.02, 60))], ("code",))
    assigned, problems = assign_buildings(buildings, two_grids)
    assert assigned.tolist() == ["A"]
    assert problems == []


@pytest.mark.filterwarnings("ignore:invalid value encountered")  # building the NaN ring
def test_check_and_repair_is_the_check_and_the_repair_in_one_pass():
    bowtie = Polygon([(0, 0), (50, 50), (50, 0), (0, 50)])
    rows = [
        ("GOOD", box(0, 0, 30, 30)),
        ("BOWTIE", bowtie),
        ("LINE", LineString([(0, 0), (40, 40)])),
        ("EMPTY", Polygon()),
        ("NONE", None),
        ("MULTI", shapely.MultiPolygon([box(0, 0, 10, 10), box(20, 0, 30, 10)])),
    ]
    frame = layer(rows, ("code",))
    nan = Polygon([(106.6, 39.6), (float("nan"), 39.6), (106.61, 39.61)])
    frame = gpd.GeoDataFrame(
        {"code": [*frame["code"], "NAN"]}, geometry=[*frame.geometry, nan], crs=4326
    )
    problems, repaired = check_and_repair(frame, min_area_m2=500.0)
    assert problems == check_geometries(frame, min_area_m2=500.0)
    expected = repair_polygons(np.asarray(frame.geometry.array))
    assert [None if g is None else g.wkt for g in repaired] == [
        None if g is None else g.wkt for g in expected
    ]


def brute_force(buildings: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> tuple[list, dict]:
    """Largest overlap by intersecting every building with every grid, and the straddlers."""
    houses, cells = buildings.to_crs(32648).geometry, grids.to_crs(32648).geometry
    named = list(zip(grids["code"], cells, strict=True))
    assigned, straddles = [], {}
    for code, house in zip(buildings["code"], houses, strict=True):
        shares = sorted(((house.intersection(cell).area, g) for g, cell in named), reverse=True)
        assigned.append(shares[0][1] if shares[0][0] > 0 else None)
        big = [g for area, g in shares if area > 1.0]
        if len(big) > 1:
            straddles[code] = (tuple(big), sum(area for area, _ in shares[1:]))
    return assigned, straddles


def test_assignment_matches_intersecting_every_building_with_every_grid():
    rng = np.random.default_rng(3)
    seeds = shapely.multipoints(rng.uniform(0, 1000, (12, 2)))
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=box(0, 0, 1000, 1000)))
    cells = shapely.intersection(cells, box(0, 0, 1000, 1000))
    cells[0] = shapely.difference(cells[0], shapely.buffer(cells[0].centroid, 30))  # a hole
    cells[1] = shapely.difference(cells[1], box(0, 0, 1000, 1000).exterior.buffer(60))  # a gap
    grids = layer([(f"G{i}", c) for i, c in enumerate(cells)], ("code",))
    corner = rng.uniform(-50, 1000, (400, 2))
    size = rng.uniform(5, 80, (400, 2))
    houses = list(shapely.box(*corner.T, *(corner + size).T))
    houses[0] = shapely.Polygon([(0, 0), (300, 0), (300, 300), (250, 300), (250, 50), (0, 50)])
    houses[1] = shapely.MultiPolygon([box(400, 400, 420, 420), box(700, 700, 760, 720)])
    buildings = layer([(f"B{i}", h) for i, h in enumerate(houses)], ("code",))

    assigned, problems = assign_buildings(buildings, grids)

    expected, straddles = brute_force(buildings, grids)
    assert assigned.tolist() == expected
    found = {p.codes[0]: p for p in problems if p.kind == "building_straddles"}
    assert found.keys() == straddles.keys()
    for code, (named, elsewhere) in straddles.items():
        assert found[code].codes[1:] == named
        assert found[code].area_m2 == pytest.approx(elsewhere, rel=0.01, abs=0.5)
    outside = {p.codes[0] for p in problems if p.kind == "building_outside"}
    assert outside == {c for c, g in zip(buildings["code"], expected, strict=True) if g is None}
