"""Importing layers: every format and CRS, broken layers refused whole, re-imports by code."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import shapely.affinity
from piccolo.engine import SQLiteEngine

from backend.buildings.tables import Building
from backend.core import bulk
from backend.core.db import write_transaction
from backend.core.errors import ApiError
from backend.imports.export import layer_frame
from backend.imports.rows import field, stored_rows
from backend.imports.service import run_import
from geo.crs import from_wgs84
from geo.layers import Layer, read_layer, write_layer
from geo.report import problems_table

UTM = 32648


def community_grids(demo_city, index: int = 0) -> gpd.GeoDataFrame:
    """The grids of one demo community, in the columns an import reads."""
    grids = demo_city.grids
    code = grids["parent_code"].unique()[index]
    return grids[grids["parent_code"] == code][["code", "name", "parent_code", "kind", "geometry"]]


def swollen(grids: gpd.GeoDataFrame, code: str, metres: float) -> gpd.GeoDataFrame:
    """``grids`` with one grid grown by ``metres`` on every side."""
    out = grids.copy()
    metric = out.to_crs(UTM)
    row = metric["code"] == code
    metric.loc[row, "geometry"] = metric.loc[row, "geometry"].buffer(metres, join_style="mitre")
    return metric.to_crs(4326)


def expected_overlaps(grids: gpd.GeoDataFrame, code: str) -> dict[str, float]:
    metric = grids.to_crs(UTM).set_index("code").geometry
    grown = metric[code]
    areas = {c: grown.intersection(g).area for c, g in metric.items() if c != code}
    return {c: a for c, a in areas.items() if a > 1.0}


def write_as(frame: gpd.GeoDataFrame, tmp: Path, fmt: str, crs: str) -> tuple[Path, str | None]:
    """Write ``frame`` in a format and CRS; returns the path and the crs to declare, if any."""
    declared = None
    if crs == "gcj02":
        frame = frame.copy()
        frame["geometry"] = shapely.transform(
            frame.geometry.values,
            lambda xy: __import__("numpy").column_stack(from_wgs84(xy[:, 0], xy[:, 1], "gcj02")),
        )
        declared = "gcj02"
    else:
        frame = frame.to_crs(crs)
    if fmt == "geojson":
        path = tmp / "layer.geojson"
        frame.to_file(path, driver="GeoJSON")
    elif fmt == "gpkg":
        path = tmp / "layer.gpkg"
        frame.to_file(path, layer="grids", driver="GPKG")
    elif fmt == "zip":
        shp = tmp / "shp"
        shp.mkdir()
        frame.rename(columns={"code": "bm", "name": "mc", "parent_code": "sqbm"}).to_file(
            shp / "grids.shp", encoding="utf-8"
        )
        path = tmp / "grids.zip"
        with zipfile.ZipFile(path, "w") as z:
            for f in shp.iterdir():
                z.write(f, f.name)
    else:
        path = tmp / "layer.csv"
        table = frame.drop(columns="geometry").assign(wkt=frame.geometry.to_wkt())
        table.to_csv(path, index=False)
        declared = declared or (crs if crs != "EPSG:4326" else None)
    return path, declared


@pytest.mark.parametrize("fmt", ["geojson", "gpkg", "zip", "csv"])
@pytest.mark.parametrize(
    "crs", ["EPSG:4326", "EPSG:4490", "EPSG:4524", "EPSG:3857", "EPSG:32648", "gcj02"]
)
async def test_overlapping_grid_is_reported_with_its_area_and_nothing_is_written(
    database, demo_city, tmp_path, fmt, crs
):
    grids = community_grids(demo_city)
    code = grids["code"].iloc[len(grids) // 2]
    broken = swollen(grids, code, 10.0)
    expected = expected_overlaps(broken, code)
    assert expected
    path, declared = write_as(broken, tmp_path, fmt, crs)
    before = await stored_rows("grids")

    result = await run_import(read_layer(path, "grids", crs=declared))

    assert not result.applied
    overlaps = {
        next(c for c in p.codes if c != code): p.area_m2
        for p in result.problems
        if p.kind == "overlap" and code in p.codes
    }
    assert overlaps.keys() == expected.keys()
    for other, area in expected.items():
        assert overlaps[other] == pytest.approx(area, rel=0.01), other
    assert await stored_rows("grids") == before


async def test_a_self_intersecting_grid_is_named_and_blocks_the_whole_file(
    scratch_database, demo_city, tmp_path
):
    grids = community_grids(demo_city).copy()
    code = grids["code"].iloc[0]
    x0, y0, x1, y1 = grids.geometry.iloc[0].bounds
    grids.loc[grids["code"] == code, "geometry"] = shapely.Polygon(
        [(x0, y0), (x1, y1), (x1, y0), (x0, y1)]
    )
    path = tmp_path / "grids.gpkg"
    write_layer(grids, path)
    before = await stored_rows("grids")
    result = await run_import(read_layer(path, "grids"))
    invalid = [p for p in result.problems if p.kind == "invalid_geometry"]
    assert [p.codes for p in invalid] == [(code,)]
    assert "Self-intersection" in invalid[0].reason
    assert invalid[0].geometry is not None and invalid[0].geometry.is_valid  # the proposed repair
    assert not result.applied
    assert await stored_rows("grids") == before


@pytest.mark.parametrize("kind", ["areas", "grids", "buildings", "service-points"])
@pytest.mark.parametrize("suffix", ["gpkg", "geojson"])
async def test_export_then_import_reports_no_change(scratch_database, tmp_path, kind, suffix):
    path = tmp_path / f"{kind}.{suffix}"
    write_layer(await layer_frame(kind), path)
    result = await run_import(read_layer(path, kind))
    assert result.blocking == []
    summary = result.summary()
    assert (summary["added"], summary["changed"], summary["removed"]) == (0, 0, 0)
    assert summary["unchanged"] == summary["features"] > 0


async def test_reimport_adds_changes_and_removes_by_code(scratch_database, demo_city, tmp_path):
    grids = (await layer_frame("grids")).copy()
    community = grids["parent_code"].iloc[0]
    mine = grids["parent_code"] == community
    first, second = grids.loc[mine, "code"].iloc[:2]
    # Merge the community's first two grids into the first, renamed: one changed, one removed.
    merged = grids.loc[grids["code"].isin([first, second])].union_all()
    grids.loc[grids["code"] == first, ["name", "geometry"]] = ["合并网格", merged]
    grids = grids[grids["code"] != second]
    path = tmp_path / "grids.gpkg"
    write_layer(grids, path)

    dry = await run_import(read_layer(path, "grids"), dry_run=True)
    assert (dry.diff.changed, dry.diff.removed, dry.diff.added) == ([first], [second], [])
    assert not dry.applied and await stored_rows("grids") != {}
    assert second in await stored_rows("grids")

    result = await run_import(read_layer(path, "grids"))
    assert result.applied
    stored = await stored_rows("grids")
    assert second not in stored and stored[first][field("grids", "name")] == "合并网格"
    moved = demo_city.buildings[demo_city.buildings["grid_code"] == second]
    assert result.reassigned == len(moved) > 0
    buildings = await stored_rows("buildings")
    assert {buildings[c][field("buildings", "grid_code")] for c in moved["code"]} == {first}


async def test_buildings_are_assigned_by_largest_overlap(scratch_database, demo_city, tmp_path):
    grids = community_grids(demo_city)
    a, b = grids.iloc[0], None
    for _, g in grids.iloc[1:].iterrows():
        if g.geometry.touches(a.geometry) or g.geometry.intersects(a.geometry):
            b = g
            break
    edge = a.geometry.intersection(b.geometry)
    p = edge.interpolate(0.5, normalized=True)
    metric = gpd.GeoSeries([p], crs=4326).to_crs(UTM).iloc[0]
    square = (
        gpd.GeoSeries(
            [shapely.box(metric.x - 6, metric.y - 6, metric.x + 6, metric.y + 6)], crs=UTM
        )
        .to_crs(4326)
        .iloc[0]
    )
    far = shapely.box(100.0, 30.0, 100.0002, 30.0002)
    new = gpd.GeoDataFrame(
        {
            "code": ["NEW-1", "NEW-2"],
            "name": ["跨界楼", "界外楼"],
            "floors": [6, 3],
            "households": [24, 6],
        },
        geometry=[square, far],
        crs=4326,
    )
    path = tmp_path / "buildings.geojson"
    write_layer(new, path)
    result = await run_import(read_layer(path, "buildings"), keep_missing=True)
    assert result.applied
    kinds = {p.kind: p for p in result.problems}
    straddle = kinds["building_straddles"]
    assert straddle.codes[0] == "NEW-1" and set(straddle.codes[1:]) == {a["code"], b["code"]}
    assert kinds["building_outside"].codes == ("NEW-2",)
    stored = await stored_rows("buildings")
    assert stored["NEW-1"][field("buildings", "grid_code")] == straddle.codes[1]
    assert stored["NEW-2"][field("buildings", "grid_code")] is None
    assert len(stored) == len(demo_city.buildings) + 2


async def test_a_file_of_one_community_changes_only_that_community(
    scratch_database, demo_city, tmp_path
):
    grids = await layer_frame("grids")
    community = grids["parent_code"].iloc[0]
    mine = grids[grids["parent_code"] == community].iloc[1:]  # one grid left out
    path = tmp_path / "one-community.gpkg"
    write_layer(mine, path)
    before = await stored_rows("grids")
    result = await run_import(read_layer(path, "grids"))
    assert result.applied
    left_out = grids[grids["parent_code"] == community]["code"].iloc[0]
    assert result.diff.removed == [left_out]
    after = await stored_rows("grids")
    assert set(before) - set(after) == {left_out}
    assert any(p.kind == "posts_removed" and p.codes == (left_out,) for p in result.problems)
    moved = (demo_city.buildings["grid_code"] == left_out).sum()
    assert result.reassigned == moved


async def test_keep_missing_leaves_other_grids_and_their_buildings_alone(
    scratch_database, demo_city, tmp_path
):
    grids = await layer_frame("grids")
    one = grids[grids["parent_code"] == grids["parent_code"].iloc[0]].iloc[:1].copy()
    one["name"] = "改名网格"
    path = tmp_path / "one.geojson"
    write_layer(one, path)
    buildings_before = await stored_rows("buildings")
    result = await run_import(read_layer(path, "grids"), keep_missing=True)
    assert result.applied and result.diff.changed == [one["code"].iloc[0]]
    assert result.reassigned == 0
    assert await stored_rows("buildings") == buildings_before


async def test_reprojected_layer_reimports_as_unchanged(scratch_database, tmp_path):
    grids = (await layer_frame("grids")).to_crs(4524)
    path = tmp_path / "gk.gpkg"
    grids.to_file(path)
    result = await run_import(read_layer(path, "grids"), dry_run=True)
    assert (len(result.diff.changed), result.diff.unchanged) == (0, len(grids))


async def test_a_blocked_report_still_says_what_the_file_would_change(
    database, demo_city, tmp_path
):
    grids = community_grids(demo_city).copy()
    grids.loc[grids.index[0], "name"] = ""
    path = tmp_path / "g.geojson"
    write_layer(grids, path)
    result = await run_import(read_layer(path, "grids"), dry_run=True)
    assert [p.kind for p in result.blocking] == ["missing_value"]
    assert result.diff.removed == [] and len(result.diff.changed) == 1


SQUARE = '"POLYGON((106.8 39.6,106.8001 39.6,106.8001 39.6001,106.8 39.6001,106.8 39.6))"'


@pytest.mark.parametrize(
    ("kind", "rows", "problem"),
    [
        ("areas", f"code,name,level,wkt\nX1,某区,,{SQUARE}\n", "missing_value"),
        ("service-points", "code,name,kind,lon,lat\nP1,某点,,106.8,39.6\n", "missing_value"),
        (
            "service-points",
            f"code,name,kind,lon,lat\nP1,{'长' * 200},warm_station,106.8,39.6\n",
            "bad_value",
        ),
        ("buildings", f"code,floors,wkt\nB1,99999999999,{SQUARE}\n", "bad_value"),
    ],
)
async def test_values_the_database_would_refuse_are_reported_first(
    database, tmp_path, kind, rows, problem
):
    path = tmp_path / "layer.csv"
    path.write_text(rows)
    result = await run_import(read_layer(path, kind), dry_run=True)
    assert problem in {p.kind for p in result.blocking}, result.problems


@pytest.mark.filterwarnings("ignore:invalid value encountered")  # building the NaN ring
async def test_a_coordinate_that_is_not_a_number_is_an_invalid_geometry(database):
    grids = (await layer_frame("grids")).iloc[:1].copy()
    grids["geometry"] = [shapely.Polygon([(106.8, 39.6), (float("nan"), 39.6), (106.81, 39.61)])]
    result = await run_import(Layer("grids", grids, "EPSG:4326", {}, None, "gpkg"), dry_run=True)
    assert [p.kind for p in result.blocking] == ["invalid_geometry"]
    assert "finite" in result.blocking[0].reason


async def test_blank_rows_do_not_crash_the_report(database, tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("code,name,kind,wkt\nP1,某点,warm_station,POINT(106.8 39.6)\n,,,\n")
    layer = read_layer(path, "service-points")
    result = await run_import(layer, dry_run=True)
    assert problems_table(result.problems)


async def test_changed_and_added_buildings_are_written_shape_and_box(scratch_database, tmp_path):
    buildings = (await layer_frame("buildings")).copy()
    moved, added = buildings["code"].iloc[5], "NEW-9"
    shifted = shapely.affinity.translate(buildings.geometry.iloc[5], 0.00002, 0.00001)
    buildings.loc[buildings["code"] == moved, "geometry"] = shifted
    extra = buildings.iloc[[7]].copy()
    extra["code"] = added
    buildings = gpd.GeoDataFrame(pd.concat([buildings, extra]), crs=buildings.crs)
    path = tmp_path / "buildings.gpkg"
    write_layer(buildings, path)

    result = await run_import(read_layer(path, "buildings"))

    assert (result.diff.changed, result.diff.added) == ([moved], [added])
    stored = await stored_rows("buildings")
    at = field("buildings", "geom")
    assert shapely.equals_exact(shapely.from_geojson(stored[moved][at]), shifted, 1e-12)
    assert stored[added][at] == stored[buildings["code"].iloc[7]][at]
    box = await Building.select(Building.min_lon, Building.max_lat, Building.lon).where(
        Building.code == moved
    )
    west, _, east, north = shifted.bounds
    assert box[0]["min_lon"] == west and box[0]["max_lat"] == north
    assert box[0]["lon"] == pytest.approx((west + east) / 2)


async def test_a_district_admins_buildings_stay_in_their_district(scratch_database, tmp_path):
    buildings = (await layer_frame("buildings")).copy()
    ours = buildings["grid_code"].str.startswith("150302")
    mine = buildings[ours].iloc[:3]
    path = tmp_path / "mine.geojson"
    write_layer(mine, path)
    result = await run_import(read_layer(path, "buildings"), dry_run=True, district="150302")
    stored = await stored_rows("buildings")
    grid_of = field("buildings", "grid_code")
    assert result.diff.removed  # the rest of the grids the file covers
    assert all(stored[c][grid_of].startswith("150302") for c in result.diff.removed)
    stranger = buildings[~ours].iloc[:1]
    far = stranger.assign(code="FAR-1", geometry=[shapely.box(100.0, 30.0, 100.0002, 30.0002)])
    path = tmp_path / "theirs.geojson"
    write_layer(gpd.GeoDataFrame(pd.concat([mine, stranger, far])), path)
    with pytest.raises(ApiError) as refused:
        await run_import(read_layer(path, "buildings"), dry_run=True, district="150302")
    assert (refused.value.status, refused.value.code) == (403, "outside_your_district")
    assert refused.value.details["codes"] == [stranger["code"].iloc[0], "FAR-1"]


async def test_bulk_insert_takes_rows_as_they_come_and_leaves_the_connection_as_it_was(
    scratch_database,
):
    engine = Building._meta.db
    sqlite = isinstance(engine, SQLiteEngine)
    async with write_transaction(engine):
        connection = engine.current_transaction.get().connection
        before = await connection.execute_fetchall("PRAGMA cache_size") if sqlite else None
        rows = (iter([(f"BULK-{i}", f"楼{i}")]) for i in range(3))  # chunks of lazy rows
        await bulk.insert(Building, ("code", "name"), rows)
        if sqlite:
            assert await connection.execute_fetchall("PRAGMA cache_size") == before
    stored = await Building.select(Building.code).where(Building.code.like("BULK-%"))
    assert sorted(r["code"] for r in stored) == ["BULK-0", "BULK-1", "BULK-2"]
