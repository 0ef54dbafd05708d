"""Importing layers: every format and CRS, broken layers refused whole, re-imports by code."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from backend.imports.export import layer_frame
from backend.imports.rows import field, stored_rows
from backend.imports.service import run_import
from geo.crs import from_wgs84
from geo.layers import read_layer, write_layer

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
