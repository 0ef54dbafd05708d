"""Problem reports: the text table staff read, the JSON the UI gets, the GeoPackage for QGIS."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from shapely import GeometryCollection, LineString, MultiPolygon, Point, box

from geo.report import problems_json, problems_table, write_problems_gpkg
from geo.validate import Problem, validate_grids

OVERLAP = Problem(
    "overlap",
    ("15030200100101", "15030200100102"),
    "15030200100101 and 15030200100102 overlap by 95.5 m²",
    95.5,
    box(106.810, 39.60, 106.811, 39.61),
)
GAP = Problem(
    "gap",
    ("150302001001",),
    "1234.6 m² of 150302001001 is not covered by its children",
    1234.56,
    MultiPolygon([box(106.82, 39.60, 106.821, 39.601), box(106.83, 39.6, 106.831, 39.601)]),
)
DUPLICATE = Problem("duplicate_code", ("15030200100103",), "code 15030200100103 is used by 2")
REPAIRED = Problem(
    "invalid_geometry",
    ("15030200100104",),
    "invalid geometry: Self-intersection[106.805 39.605]",
    None,
    GeometryCollection(
        [box(106.80, 39.60, 106.81, 39.61), LineString([(106.8, 39.6), (106.9, 39.7)])]
    ),
)
OUTSIDE = Problem("building_outside", ("B-1",), "B-1 lies outside every grid", 80.0, Point(107, 40))
SECOND_OVERLAP = Problem("overlap", ("A", "B"), "A and B overlap by 2.0 m²", 2.0, box(0, 0, 1, 1))
PROBLEMS = [OVERLAP, GAP, DUPLICATE, REPAIRED, OUTSIDE, SECOND_OVERLAP]


def test_table_shows_every_problem_grouped_by_kind():
    table = problems_table(PROBLEMS)
    lines = table.splitlines()
    for problem in PROBLEMS:
        (line,) = [line for line in lines if problem.reason in line]
        assert line.startswith(problem.kind)
        assert ", ".join(problem.codes) in line
        if problem.area_m2 is not None:
            assert f"{problem.area_m2:.1f}" in line
    kinds = [line.split()[0] for line in lines[2:8]]
    assert kinds == ["overlap", "overlap", "gap", "duplicate_code", "invalid_geometry",
                     "building_outside"]  # fmt: skip
    assert lines[-1] == (
        "6 problems: 2 overlap, 1 gap, 1 duplicate_code, 1 invalid_geometry, 1 building_outside"
    )


def test_table_columns_line_up_with_chinese_reasons_and_codes():
    wide = Problem("unknown_parent", ("团结-1",), "上级编码不存在", 3.0)
    lines = problems_table([wide, DUPLICATE]).splitlines()
    header, rule = lines[0], lines[1]
    assert header.index("reason") == rule.rindex(" ") + 1
    # 团结 takes two terminal columns per character: the reason still starts where it should.
    assert lines[2].index("上级") + len("团结") == header.index("reason")


def test_table_without_problems():
    assert problems_table([]) == "no problems"


def test_json_is_serialisable_with_counts_and_summary():
    report = problems_json(PROBLEMS, layer="grids", file="网格.gpkg", features=260)
    text = json.dumps(report, ensure_ascii=False, allow_nan=False)
    back = json.loads(text)
    assert back["counts"] == {
        "overlap": 2,
        "gap": 1,
        "duplicate_code": 1,
        "invalid_geometry": 1,
        "building_outside": 1,
    }
    assert (back["layer"], back["file"], back["features"]) == ("grids", "网格.gpkg", 260)
    assert [p["kind"] for p in back["problems"]] == [p.kind for p in PROBLEMS]
    assert back["problems"][0]["codes"] == list(OVERLAP.codes)
    assert back["problems"][1]["geometry"]["type"] == "MultiPolygon"
    assert back["problems"][2]["geometry"] is None


def test_json_turns_numpy_and_nan_into_json_types():
    odd = Problem("tiny_polygon", ("A",), "tiny", float("nan"))
    report = problems_json([odd], area=np.float64(1.5), total=np.int64(3), codes=("a", "b"))
    back = json.loads(json.dumps(report, allow_nan=False))
    assert back["problems"][0]["area_m2"] is None
    assert (back["area"], back["total"], back["codes"]) == (1.5, 3, ["a", "b"])


def test_json_without_problems():
    assert problems_json([]) == {"problems": [], "counts": {}}


def test_gpkg_keeps_every_problem_and_geometry_type(tmp_path):
    path = tmp_path / "problems.gpkg"
    write_problems_gpkg(PROBLEMS, path)
    assert pyogrio.list_layers(path)[:, 0].tolist() == ["problems"]
    assert pyogrio.read_info(path)["crs"] == "EPSG:4326"
    read = pyogrio.read_dataframe(path)
    assert len(read) == len(PROBLEMS)
    assert read["kind"].tolist() == [p.kind for p in PROBLEMS]
    assert read["codes"].tolist()[0] == "15030200100101,15030200100102"
    assert read["reason"].tolist() == [p.reason for p in PROBLEMS]
    assert read["area_m2"].iloc[0] == pytest.approx(95.5)
    assert read["area_m2"].isna().tolist() == [p.area_m2 is None for p in PROBLEMS]
    types = [None if g is None else g.geom_type for g in read.geometry]
    assert types == [
        "Polygon",
        "MultiPolygon",
        None,  # a problem without a place is still listed
        "GeometryCollection",
        "Point",
        "Polygon",
    ]
    assert read.geometry.iloc[1].equals(GAP.geometry)


def test_gpkg_of_no_problems_is_an_empty_layer(tmp_path):
    path = tmp_path / "problems.gpkg"
    write_problems_gpkg([], path)
    read = pyogrio.read_dataframe(path, layer="problems")
    assert len(read) == 0
    assert {"kind", "codes", "area_m2", "reason"} <= set(read.columns)


def test_gpkg_rewritten_replaces_the_problems_layer(tmp_path):
    path = tmp_path / "problems.gpkg"
    write_problems_gpkg(PROBLEMS, path)
    write_problems_gpkg([GAP], path)
    assert len(pyogrio.read_dataframe(path, layer="problems")) == 1


def test_real_validation_report_round_trips(tmp_path):
    """A bowtie grid and an overlap from geo.validate, through all three reports."""
    community = gpd.GeoDataFrame(
        {"code": ["P"]}, geometry=[box(106.80, 39.60, 106.82, 39.61)], crs=4326
    )
    bowtie = shapely.Polygon([(106.81, 39.60), (106.82, 39.61), (106.82, 39.60), (106.81, 39.61)])
    grids = gpd.GeoDataFrame(
        {"code": ["A", "B"], "parent_code": ["P", "P"]},
        geometry=[box(106.80, 39.60, 106.8105, 39.61), bowtie],
        crs=4326,
    )
    problems = validate_grids(grids, community)
    assert problems
    table = problems_table(problems)
    assert all(p.kind in table for p in problems)
    json.dumps(problems_json(problems), allow_nan=False)
    write_problems_gpkg(problems, tmp_path / "p.gpkg")
    assert len(pyogrio.read_dataframe(tmp_path / "p.gpkg")) == len(problems)
