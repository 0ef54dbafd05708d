"""Layers written in every format and CRS a district sends must read back where they were.

Distances are measured in metres in UTM 48N (Wuhai's zone): a layer that reads back
within 1 m of what was drawn is read right. Each bad file raises its own LayerError code.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import CRS, Geod, Transformer
from shapely import MultiPolygon, Point, Polygon, box

from geo.crs import from_wgs84
from geo.layers import CANONICAL, KINDS, LayerError, list_layers, read_layer, write_layer

TO_METRES = Transformer.from_crs(4326, 32648, always_xy=True)
GRS80 = Geod(ellps="GRS80")  # the CGCS2000 ellipsoid, to within 0.1 mm


def gk_zone(first: int, last: int, lon: float = 106.8) -> int:
    """The CGCS2000 Gauss–Krüger EPSG code among first..last whose area of use holds lon."""
    found = [c for c in range(first, last + 1) if CRS(c).area_of_use.west <= lon]
    found = [c for c in found if lon < CRS(c).area_of_use.east]
    assert len(found) == 1, found
    return found[0]


GK3_ZONE = gk_zone(4513, 4533)  # 3° zones, zone number prefixed to the easting
GK3_CM = gk_zone(4534, 4554)  # 3° zones named by central meridian
GK6_ZONE = gk_zone(4491, 4501)  # 6° zones


def test_gauss_kruger_zones_around_wuhai_are_the_ones_expected():
    assert (GK3_ZONE, GK3_CM, GK6_ZONE) == (4524, 4545, 4496)


def drawn_grids() -> gpd.GeoDataFrame:
    """Three grids as a district draws them: Chinese columns, codes stored as numbers."""
    ring = [(106.80, 39.60), (106.81, 39.60), (106.812, 39.605), (106.81, 39.61), (106.80, 39.61)]
    return gpd.GeoDataFrame(
        {
            "网格编码": np.array([15030200100101, 15030200100102, 15030200200101]),
            "网格名称": ["团结社区第一网格", "团结社区第二网格", "新华村网格"],
            "网格类型": ["城市社区网格", "专属网格", "农村网格"],
        },
        geometry=[
            Polygon(ring),
            box(106.81, 39.60, 106.82, 39.61),
            MultiPolygon([box(106.82, 39.60, 106.83, 39.61), box(106.84, 39.60, 106.85, 39.61)]),
        ],
        crs=4326,
    )


def metres_apart(read: gpd.GeoSeries, drawn: gpd.GeoSeries) -> float:
    """The largest Hausdorff distance, in metres, between matching shapes (vertex order free)."""

    def project(geoms: gpd.GeoSeries) -> np.ndarray:
        def to_metres(xy: np.ndarray) -> np.ndarray:
            return np.column_stack(TO_METRES.transform(xy[:, 0], xy[:, 1]))

        return shapely.transform(np.asarray(geoms.to_crs(4326).array), to_metres)

    return float(np.max(shapely.hausdorff_distance(project(read), project(drawn))))


def as_csv(frame: gpd.GeoDataFrame, path: Path, *, encoding: str = "utf-8", **kw) -> Path:
    table = pd.DataFrame(frame.drop(columns="geometry"))
    table.insert(0, "几何", shapely.to_wkt(np.asarray(frame.geometry.array), rounding_precision=-1))
    table.to_csv(path, index=False, encoding=encoding, **kw)
    return path


def zipped(shapefile: Path, target: Path, folder: str = "") -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for part in sorted(shapefile.parent.glob(shapefile.stem + ".*")):
            archive.write(part, folder + part.name)
    return target


# --- every format -------------------------------------------------------------------------


def write_geojson(frame: gpd.GeoDataFrame, folder: Path) -> Path:
    frame.to_file(folder / "grids.geojson")
    return folder / "grids.geojson"


def write_gpkg(frame: gpd.GeoDataFrame, folder: Path) -> Path:
    frame.to_file(folder / "grids.gpkg", layer="网格")
    return folder / "grids.gpkg"


def write_shapefile(frame: gpd.GeoDataFrame, folder: Path) -> Path:
    # As ArcGIS on Chinese Windows writes them: GBK, where 网格编码 fits the 10-byte limit.
    frame.to_file(folder / "grids.shp", encoding="GBK")
    return folder / "grids.shp"


def write_zip(frame: gpd.GeoDataFrame, folder: Path) -> Path:
    return zipped(write_shapefile(frame, folder), folder / "grids.zip")


def write_zip_in_folder(frame: gpd.GeoDataFrame, folder: Path) -> Path:
    # Zipping a folder in Windows Explorer puts the shapefile one level down.
    return zipped(write_shapefile(frame, folder), folder / "grids.zip", "网格数据/")


def write_csv_utf8(frame: gpd.GeoDataFrame, folder: Path) -> Path:
    return as_csv(frame, folder / "grids.csv")


def write_csv_bom(frame: gpd.GeoDataFrame, folder: Path) -> Path:
    return as_csv(frame, folder / "grids.csv", encoding="utf-8-sig")


def write_csv_gbk(frame: gpd.GeoDataFrame, folder: Path) -> Path:
    path = as_csv(frame, folder / "grids.csv", encoding="gbk")
    with pytest.raises(UnicodeDecodeError):
        path.read_text("utf-8")
    return path


def write_csv_tabs(frame: gpd.GeoDataFrame, folder: Path) -> Path:
    return as_csv(frame, folder / "grids.csv", sep="\t")


WRITERS = {
    "geojson": write_geojson,
    "gpkg": write_gpkg,
    "shapefile": write_shapefile,
    "zip": write_zip,
    "zip-in-folder": write_zip_in_folder,
    "csv-utf8": write_csv_utf8,
    "csv-bom": write_csv_bom,
    "csv-gbk": write_csv_gbk,
    "csv-tabs": write_csv_tabs,
}
FORMAT_NAMES = {"zip": "shapefile", "zip-in-folder": "shapefile"}


@pytest.mark.parametrize("name", WRITERS)
def test_every_format_reads_back_normalised(tmp_path, name):
    drawn = drawn_grids()
    path = WRITERS[name](drawn, tmp_path)
    layer = read_layer(path, "grids")
    assert layer.format == FORMAT_NAMES.get(name, name.split("-")[0])
    assert layer.source_crs == "EPSG:4326"
    assert layer.columns == {"code": "网格编码", "name": "网格名称", "kind": "网格类型"}
    assert list(layer.frame.columns) == [*CANONICAL["grids"], "geometry"]
    assert layer.frame.crs == "EPSG:4326"
    assert layer.frame.index.tolist() == [0, 1, 2]
    assert layer.frame.drop(columns="geometry").to_dict("list") == {
        "code": ["15030200100101", "15030200100102", "15030200200101"],
        "name": ["团结社区第一网格", "团结社区第二网格", "新华村网格"],
        "parent_code": ["150302001001", "150302001001", "150302002001"],
        "kind": ["community", "dedicated", "village"],
    }
    assert metres_apart(layer.frame.geometry, drawn.geometry) < 1.0
    assert layer.frame.geom_type.iloc[2] == "MultiPolygon"  # never exploded


@pytest.mark.parametrize("encoding", ["GBK", "UTF-8"])
@pytest.mark.parametrize("zip_it", [False, True])
def test_shapefile_without_cpg_has_its_chinese_text_decoded(tmp_path, encoding, zip_it):
    """Without a .cpg GDAL would decode the .dbf as Latin-1: 网格 would read as Íø¸ñ."""
    frame = drawn_grids().rename(
        columns={"网格编码": "编码", "网格名称": "名称", "网格类型": "类型"}
    )
    (tmp_path / "shp").mkdir()
    path = tmp_path / "shp" / "grids.shp"
    frame.to_file(path, encoding=encoding)
    path.with_suffix(".cpg").unlink()
    if zip_it:
        path = zipped(path, tmp_path / "grids.zip")
    layer = read_layer(path, "grids")
    assert layer.columns == {"code": "编码", "name": "名称", "kind": "类型"}
    assert layer.frame["name"].tolist() == frame["名称"].tolist()
    assert layer.frame["kind"].tolist() == ["community", "dedicated", "village"]


def test_zip_layers_are_named_after_their_shapefiles(tmp_path):
    path = write_zip_in_folder(drawn_grids(), tmp_path)
    assert list_layers(path) == ["网格数据/grids"]
    assert read_layer(path, "grids").layer == "网格数据/grids"


def test_zip_from_chinese_windows_names_its_layers_in_gbk(tmp_path):
    """Windows zips without the UTF-8 flag store 网格.shp in GBK bytes."""
    (tmp_path / "shp").mkdir()
    path = zipped(write_shapefile(drawn_grids(), tmp_path / "shp"), tmp_path / "a.zip")
    wire = path.read_bytes()
    assert b"grids" in wire
    path.write_bytes(wire.replace(b"grids", "网格数据".encode("gbk")[:5]))  # same byte count
    (name,) = list_layers(path)
    layer = read_layer(path, "grids", layer=name)
    assert len(layer.frame) == 3


def test_zip_skips_macos_resource_forks(tmp_path):
    path = write_zip(drawn_grids(), tmp_path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("__MACOSX/._grids.shp", b"\0\5\26\7")
        archive.writestr("._grids.shp", b"\0\5\26\7")
    assert list_layers(path) == ["grids"]
    assert len(read_layer(path, "grids").frame) == 3


def test_zip_with_two_shapefiles_needs_a_layer(tmp_path):
    frame = drawn_grids()
    frame.to_file(tmp_path / "a.shp", encoding="GBK")
    frame.iloc[:1].to_file(tmp_path / "b.shp", encoding="GBK")
    path = tmp_path / "both.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in sorted(tmp_path.glob("[ab].*")):
            archive.write(part, part.name)
    assert list_layers(path) == ["a", "b"]
    with pytest.raises(LayerError) as raised:
        read_layer(path, "grids")
    assert raised.value.code == "layer_required"
    assert len(read_layer(path, "grids", layer="b").frame) == 1


def test_gpkg_layers_choice(tmp_path):
    path = tmp_path / "two.gpkg"
    drawn_grids().to_file(path, layer="网格")
    drawn_grids().iloc[:2].to_file(path, layer="旧网格")
    # QGIS saves layer styles in a table without geometry: not a layer to choose from.
    pyogrio.write_dataframe(pd.DataFrame({"styleName": ["x"]}), path, layer="layer_styles")
    assert list_layers(path) == ["网格", "旧网格"]
    layer = read_layer(path, "grids", layer="旧网格")
    assert (layer.layer, len(layer.frame)) == ("旧网格", 2)
    assert read_layer(write_gpkg(drawn_grids(), tmp_path), "grids").layer == "网格"


# --- every CRS --------------------------------------------------------------------------


@pytest.mark.parametrize("epsg", [4326, 4490, GK3_ZONE, GK3_CM, GK6_ZONE, 3857, 32648])
@pytest.mark.parametrize("writer", ["gpkg", "shapefile", "csv-utf8"])
def test_every_crs_reads_back_within_a_metre(tmp_path, epsg, writer):
    drawn = drawn_grids()
    path = WRITERS[writer](drawn.to_crs(epsg), tmp_path)
    # A CSV does not carry its CRS: it is declared, as staff would in the import form.
    declared = f"EPSG:{epsg}" if writer.startswith("csv") else None
    layer = read_layer(path, "grids", crs=declared)
    assert layer.source_crs == f"EPSG:{epsg}"  # the ESRI .prj of a shapefile identified too
    assert metres_apart(layer.frame.geometry, drawn.geometry) < 1.0


@pytest.mark.parametrize(("epsg", "easting"), [(GK3_ZONE, 36_500_000), (GK3_CM, 500_000)])
def test_gauss_kruger_point_on_the_central_meridian_lands_on_108_east(tmp_path, epsg, easting):
    """Independent of pyproj's projection: on the central meridian (108°E for both zones)
    the northing is the GRS80 meridian arc from the equator, scale factor 1."""
    _, _, northing = GRS80.inv(108.0, 0.0, 108.0, 39.6)
    points = pd.DataFrame(
        {"点位编码": ["DQ-1"], "点位名称": ["站"], "点位类型": ["司机之家"], "x": [easting]}
    )
    points["y"] = northing
    points.to_csv(tmp_path / "points.csv", index=False)
    layer = read_layer(tmp_path / "points.csv", "service-points", crs=str(epsg))
    point = layer.frame.geometry.iloc[0]
    assert GRS80.inv(point.x, point.y, 108.0, 39.6)[2] < 1.0
    assert layer.frame["kind"].tolist() == ["driver_home"]


@pytest.mark.parametrize("datum", ["gcj02", "bd09", "GCJ-02"])
def test_chinese_map_datums_are_declared_and_converted(tmp_path, datum):
    drawn = drawn_grids()
    name = datum.lower().replace("-", "")
    shifted = drawn.set_geometry(
        shapely.transform(
            np.asarray(drawn.geometry.array),
            lambda xy: np.column_stack(from_wgs84(xy[:, 0], xy[:, 1], name)),
        )
    )
    path = write_geojson(shifted, tmp_path)  # the file itself claims WGS 84
    layer = read_layer(path, "grids", crs=datum)
    assert layer.source_crs == name
    assert metres_apart(layer.frame.geometry, drawn.geometry) < 1.0
    # Undeclared, the shapes would sit hundreds of metres off: the declaration matters.
    assert metres_apart(read_layer(path, "grids").frame.geometry, drawn.geometry) > 100


def test_csv_lon_lat_points_with_declared_bd09(tmp_path):
    lon, lat = from_wgs84(np.array([106.80, 106.83]), np.array([39.60, 39.66]), "bd09")
    pd.DataFrame(
        {
            "名称": ["A", "B"],
            "编码": ["P1", "P2"],
            "类型": ["暖心驿站", "红色物业"],
            "经度": lon,
            "纬度": lat,
        }
    ).to_csv(tmp_path / "p.csv", index=False, encoding="gbk")
    layer = read_layer(tmp_path / "p.csv", "service-points", crs="bd09")
    drawn = gpd.GeoSeries([Point(106.80, 39.60), Point(106.83, 39.66)], crs=4326)
    assert metres_apart(layer.frame.geometry, drawn) < 1.0
    assert layer.frame["kind"].tolist() == ["warm_station", "red_property"]


def test_csv_in_lon_lat_without_crs_is_taken_as_wgs84(tmp_path):
    layer = read_layer(write_csv_utf8(drawn_grids(), tmp_path), "grids")
    assert layer.source_crs == "EPSG:4326"


def test_postgis_ewkt_and_ewkb_carry_their_srid(tmp_path):
    drawn = drawn_grids().iloc[:2]
    gk = np.asarray(drawn.to_crs(GK3_CM).geometry.array)
    table = pd.DataFrame({"code": ["A", "B"], "name": ["a", "b"]})
    table["geom"] = [
        f"SRID={GK3_CM};" + shapely.to_wkt(gk[0], rounding_precision=-1),
        shapely.to_wkb(shapely.set_srid(gk[1], GK3_CM), hex=True, include_srid=True),
    ]
    table.to_csv(tmp_path / "pg.csv", index=False)
    layer = read_layer(tmp_path / "pg.csv", "grids")
    assert layer.source_crs == f"EPSG:{GK3_CM}"
    assert metres_apart(layer.frame.geometry, drawn.geometry) < 1.0


# --- columns and values -------------------------------------------------------------------


def test_mapping_overrides_the_guess_and_names_are_matched_loosely(tmp_path):
    frame = drawn_grids().rename(columns={"网格名称": " NAME "})
    frame["编码"] = ["X1", "X2", "X3"]  # guessed before 网格编码 ...
    path = write_gpkg(frame, tmp_path)
    assert read_layer(path, "grids").columns["code"] == "编码"
    layer = read_layer(path, "grids", columns={"code": "网格编码"})  # ... unless mapped
    assert layer.columns == {"code": "网格编码", "name": " NAME ", "kind": "网格类型"}
    assert layer.frame["code"].iloc[0] == "15030200100101"
    assert layer.frame["name"].iloc[0] == "团结社区第一网格"


def test_mapping_to_none_stops_a_guess(tmp_path):
    frame = drawn_grids()
    frame["网格类型"] = ["?", "?", "?"]
    layer = read_layer(write_gpkg(frame, tmp_path), "grids", columns={"kind": None})
    assert "kind" not in layer.columns
    assert layer.frame["kind"].tolist() == ["community"] * 3


def test_unknown_kind_values_are_kept_for_validation_to_report(tmp_path):
    frame = drawn_grids()
    frame["网格类型"] = ["城市社区网格", "片区网格", ""]
    layer = read_layer(write_gpkg(frame, tmp_path), "grids")
    assert layer.frame["kind"].tolist() == ["community", "片区网格", "community"]


@pytest.mark.parametrize("writer", ["gpkg", "shapefile", "geojson"])
def test_codes_stored_as_numbers_come_back_as_digit_strings(tmp_path, writer):
    frame = drawn_grids()
    frame["网格编码"] = frame["网格编码"].astype(float)
    frame["上级编码"] = [150302001001.0, np.nan, 150302002001.0]
    layer = read_layer(WRITERS[writer](frame, tmp_path), "grids")
    assert layer.frame["code"].tolist()[0] == "15030200100101"
    # A missing parent is derived from the grid code, not written "nan".
    assert layer.frame["parent_code"].tolist() == ["150302001001"] * 2 + ["150302002001"]


def test_csv_codes_keep_their_text(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text(
        "code,name,wkt\n"
        "0150.0,a,POINT (106.8 39.6)\n"
        "15030200100101.0,b,POINT (106.8 39.6)\n"
        " 007 ,c,POINT (106.8 39.6)\n",
        encoding="utf-8",
    )
    codes = read_layer(path, "grids").frame["code"].tolist()
    assert codes == ["0150", "15030200100101", "007"]


def area_rows(levels: list[str] | None = None) -> gpd.GeoDataFrame:
    codes = [150300, 150302, 150302001, 150302001001]
    frame = gpd.GeoDataFrame(
        {"区划代码": codes, "区划名称": ["乌海市", "海勃湾区", "新华街道", "团结社区"]},
        geometry=[box(106.8, 39.6, 106.9, 39.7)] * 4,
        crs=4490,
    )
    if levels is not None:
        frame["级别"] = levels
    return frame


def test_area_level_and_parent_are_derived_from_the_code(tmp_path):
    layer = read_layer(write_gpkg(area_rows(), tmp_path), "areas")
    assert layer.columns == {"code": "区划代码", "name": "区划名称"}
    assert layer.frame["level"].tolist() == ["city", "district", "street", "community"]
    assert layer.frame["parent_code"].tolist() == [None, "150300", "150302", "150302001"]


def test_area_level_names_are_translated(tmp_path):
    layer = read_layer(write_gpkg(area_rows(["市", "旗", "镇", "村"]), tmp_path), "areas")
    assert layer.frame["level"].tolist() == ["city", "district", "street", "community"]


def test_buildings_counts_and_defaults(tmp_path):
    table = pd.DataFrame(
        {
            "楼栋编码": ["B1", "B2", "B3", "B4"],
            "层数": ["6", "", "六层", "2.5"],
            "户数": ["24", "12", "", "8"],
            "lon": [106.80, 106.81, 106.82, 106.83],
            "lat": [39.60, 39.61, 39.62, 39.63],
        }
    )
    table.to_csv(tmp_path / "b.csv", index=False)
    frame = read_layer(tmp_path / "b.csv", "buildings").frame
    assert frame["name"].tolist() == [""] * 4
    assert frame["address"].tolist() == [""] * 4
    assert frame["floors"].tolist() == [6, 0, None, None]  # text that is no count is kept None
    assert frame["households"].tolist() == [24, 12, 0, 8]
    assert frame["households"].dtype == np.int64


def test_service_points_defaults(tmp_path):
    table = pd.DataFrame(
        {
            "点位编码": ["DQ-1", "DQ-2"],
            "点位名称": ["乌海市党群服务中心", "站"],
            "点位类型": ["党群服务中心", "party_centre"],
            "级别": ["市", ""],
            "联系电话": ["0473-6975742", ""],
            "x": [106.8, 106.81],
            "y": [39.6, 39.61],
        }
    )
    table.to_csv(tmp_path / "p.csv", index=False)
    frame = read_layer(tmp_path / "p.csv", "service-points").frame
    assert frame.drop(columns="geometry").to_dict("list") == {
        "code": ["DQ-1", "DQ-2"],
        "name": ["乌海市党群服务中心", "站"],
        "kind": ["party_centre", "party_centre"],
        "level": ["city", None],
        "area_code": [None, None],
        "address": ["", ""],
        "hours": ["", ""],
        "phone": ["0473-6975742", ""],
    }


def test_geometry_is_kept_as_drawn(tmp_path):
    bowtie = Polygon([(106.80, 39.60), (106.81, 39.61), (106.81, 39.60), (106.80, 39.61)])
    frame = gpd.GeoDataFrame(
        {"code": ["A", "B", "C", "D"], "name": ["a", "b", "c", "d"]},
        geometry=[bowtie, None, drawn_grids().geometry.iloc[2], box(106.8, 39.6, 106.9, 39.7)],
        crs=4326,
    )
    path = tmp_path / "broken.gpkg"
    pyogrio.write_dataframe(frame, path, promote_to_multi=False)
    read = read_layer(path, "grids").frame
    assert read["code"].tolist() == ["A", "B", "C", "D"]
    assert not read.geometry.iloc[0].is_valid
    assert read.geometry.iloc[1] is None
    assert read.geometry.iloc[2].geom_type == "MultiPolygon"
    assert read.geometry.iloc[0].equals_exact(bowtie, 0)


# --- round trips ---------------------------------------------------------------------------

DEMO_TABLES = dict(zip(KINDS, ("areas", "grids", "buildings", "service_points"), strict=True))


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg"])
@pytest.mark.parametrize("kind", KINDS)
def test_write_layer_read_layer_round_trip(tmp_path, demo_city, kind, suffix):
    demo = getattr(demo_city, DEMO_TABLES[kind])[[*CANONICAL[kind], "geometry"]]
    path = tmp_path / f"{kind}{suffix}"
    write_layer(demo, path)
    layer = read_layer(path, kind)
    assert layer.columns == {c: c for c in CANONICAL[kind]}
    assert (
        layer.frame.drop(columns="geometry")
        .astype(object)
        .equals(demo.drop(columns="geometry").astype(object).where(demo.notna(), None))
    )
    assert layer.frame.geom_equals_exact(demo.geometry, tolerance=1e-9).all()


def test_write_layer_reprojects_and_keeps_other_gpkg_layers(tmp_path):
    path = tmp_path / "out.gpkg"
    write_layer(drawn_grids().to_crs(GK3_CM), path, layer="gk")
    write_layer(drawn_grids(), path, layer="plain")
    assert list_layers(path) == ["gk", "plain"]
    assert pyogrio.read_info(path, layer="gk")["crs"] == "EPSG:4326"
    layer = read_layer(path, "grids", layer="gk")
    assert metres_apart(layer.frame.geometry, drawn_grids().geometry) < 1.0


def test_write_layer_keeps_counts_with_gaps_as_integers(tmp_path):
    frame = gpd.GeoDataFrame(
        {"code": ["B1", "B2"], "floors": pd.Series([6, None], dtype=object)},
        geometry=[box(106.8, 39.6, 106.81, 39.61)] * 2,
        crs=4326,
    )
    write_layer(frame, tmp_path / "b.gpkg")
    info = pyogrio.read_info(tmp_path / "b.gpkg")
    assert dict(zip(info["fields"], info["ogr_types"], strict=True))["floors"] == "OFTInteger64"


def test_write_layer_only_writes_geojson_and_gpkg(tmp_path):
    with pytest.raises(LayerError) as raised:
        write_layer(drawn_grids(), tmp_path / "out.shp")
    assert raised.value.code == "unknown_format"


# --- every error ---------------------------------------------------------------------------


def error_of(path: Path, kind: str = "grids", **options) -> LayerError:
    with pytest.raises(LayerError) as raised:
        read_layer(path, kind, **options)
    return raised.value


def text_file(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_kind(tmp_path):
    assert error_of(write_gpkg(drawn_grids(), tmp_path), "parcels").code == "unknown_kind"


def test_unknown_format(tmp_path):
    error = error_of(text_file(tmp_path / "grids.dwg", "AC1032"))
    assert error.code == "unknown_format"
    with pytest.raises(LayerError, match="dwg"):
        list_layers(tmp_path / "grids.dwg")
    assert error_of(text_file(tmp_path / "grids.xlsx", "PK")).code == "unreadable_file"


@pytest.mark.parametrize("name", ["grids.gpkg", "grids.geojson", "grids.shp", "grids.zip"])
def test_unreadable_file(tmp_path, name):
    path = text_file(tmp_path / name, "this is not a layer\n")
    assert error_of(path).code == "unreadable_file"
    with pytest.raises(LayerError) as raised:
        list_layers(path)
    assert raised.value.code == "unreadable_file"


@pytest.mark.filterwarnings("ignore:Non closed ring:RuntimeWarning")
def test_a_geometry_geos_will_not_build_is_unreadable(tmp_path):
    ring = '{"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}'
    feature = f'{{"type": "Feature", "properties": {{"code": "x"}}, "geometry": {ring}}}'
    path = text_file(
        tmp_path / "grids.geojson", f'{{"type": "FeatureCollection", "features": [{feature}]}}'
    )
    error = error_of(path)
    assert error.code == "unreadable_file"
    assert "malformed" in error.reason


def test_missing_file_and_zip_without_shapefile(tmp_path):
    assert error_of(tmp_path / "nowhere.gpkg").code == "unreadable_file"
    with zipfile.ZipFile(tmp_path / "docs.zip", "w") as archive:
        archive.writestr("readme.txt", "no shapefile here")
    assert error_of(tmp_path / "docs.zip").code == "unreadable_file"


def test_layer_required_lists_the_layers(tmp_path):
    path = tmp_path / "two.gpkg"
    drawn_grids().to_file(path, layer="a")
    drawn_grids().to_file(path, layer="b")
    error = error_of(path)
    assert (error.code, error.details["layers"]) == ("layer_required", ["a", "b"])


def test_unknown_layer(tmp_path):
    error = error_of(write_gpkg(drawn_grids(), tmp_path), layer="道路")
    assert (error.code, error.details["layers"]) == ("unknown_layer", ["网格"])
    assert error_of(write_geojson(drawn_grids(), tmp_path), layer="道路").code == "unknown_layer"


def test_no_crs_for_a_shapefile_without_prj(tmp_path):
    path = write_shapefile(drawn_grids().to_crs(GK3_CM), tmp_path)
    path.with_suffix(".prj").unlink()
    assert error_of(path).code == "no_crs"
    declared = read_layer(path, "grids", crs=f"EPSG:{GK3_CM}")
    assert metres_apart(declared.frame.geometry, drawn_grids().geometry) < 1.0


@pytest.mark.parametrize("declared", ["EPSG:999999", "CGCS2000 please", "gcj03"])
def test_unknown_crs(tmp_path, declared):
    error = error_of(write_gpkg(drawn_grids(), tmp_path), crs=declared)
    assert (error.code, error.details["crs"]) == ("unknown_crs", declared)


def test_missing_column(tmp_path):
    frame = drawn_grids().drop(columns="网格编码")
    error = error_of(write_gpkg(frame, tmp_path))
    assert error.code == "missing_column"
    assert error.details == {"column": "code", "available": ["网格名称", "网格类型"]}


def test_unknown_column(tmp_path):
    path = write_gpkg(drawn_grids(), tmp_path)
    error = error_of(path, columns={"code": "网格代码"})
    assert (error.code, error.details["column"]) == ("unknown_column", "网格代码")
    assert error_of(path, columns={"colour": "网格编码"}).code == "unknown_column"


def test_empty_layer(tmp_path):
    path = tmp_path / "empty.gpkg"
    drawn_grids().iloc[:0].to_file(path)
    assert error_of(path).code == "empty_layer"
    assert error_of(text_file(tmp_path / "empty.csv", "code,name,wkt\n")).code == "empty_layer"
    assert error_of(text_file(tmp_path / "nothing.csv", "")).code == "empty_layer"
    empty = text_file(tmp_path / "empty.geojson", '{"type": "FeatureCollection", "features": []}')
    assert error_of(empty).code == "empty_layer"


def test_no_geometry_in_a_csv(tmp_path):
    error = error_of(text_file(tmp_path / "g.csv", "code,name,地址\nA,a,here\n"))
    assert error.code == "no_geometry"


def test_bad_geometry_text_names_spreadsheet_lines(tmp_path):
    rows = ["code,name,wkt", "A,a,POINT (106.8 39.6)", 'B,b,"POLYGON ((1 2, 3"', "C,c,", "D,d,网格"]
    error = error_of(text_file(tmp_path / "g.csv", "\n".join(rows) + "\n"))
    assert (error.code, error.details["rows"]) == ("bad_geometry_text", [3, 5])
    rows = ["code,name,lon,lat", "A,a,106.8,39.6", "B,b,106.8,北纬39度"]
    error = error_of(text_file(tmp_path / "p.csv", "\n".join(rows) + "\n"))
    assert (error.code, error.details["rows"]) == ("bad_geometry_text", [3])


def test_blank_csv_geometry_is_kept_as_none(tmp_path):
    path = text_file(tmp_path / "g.csv", "code,name,wkt\nA,a,POINT (106.8 39.6)\nB,b,\n")
    assert read_layer(path, "grids").frame.geometry.isna().tolist() == [False, True]


def test_projected_coordinates_in_a_csv_without_crs(tmp_path):
    path = write_csv_utf8(drawn_grids().to_crs(GK3_CM), tmp_path)
    assert error_of(path).code == "projected_coordinates"
    assert error_of(path, crs="wgs84").code == "projected_coordinates"


def test_projected_coordinates_under_a_wrong_prj(tmp_path):
    # A classic: GK metres saved with a CGCS2000 lon/lat .prj.
    wrong = drawn_grids().to_crs(GK3_CM).set_crs(4490, allow_override=True)
    assert error_of(write_gpkg(wrong, tmp_path)).code == "projected_coordinates"


def test_layer_error_carries_code_reason_details():
    error = LayerError("missing_column", "no code", column="code", available=["a"])
    assert (error.code, error.reason, str(error)) == ("missing_column", "no code", "no code")
    assert error.details == {"column": "code", "available": ["a"]}


@pytest.mark.parametrize("encoding", ["GBK", "UTF-8"])
@pytest.mark.parametrize("zip_it", [False, True])
def test_shapefile_column_names_cut_at_ten_bytes(tmp_path, encoding, zip_it):
    drawn = drawn_grids()
    frame = gpd.GeoDataFrame(
        {
            "网格编码": drawn["网格编码"],
            "网格名称": drawn["网格名称"],
            "所属社区编码": "150302001001",
        },
        geometry=drawn.geometry,
        crs=4326,
    )
    path = tmp_path / "grids.shp"
    with pytest.warns(RuntimeWarning):  # GDAL cuts the names itself, with a notice
        pyogrio.write_dataframe(frame, path, encoding=encoding)
    if zip_it:
        path = zipped(path, tmp_path / "grids.zip")
    layer = read_layer(path, "grids")
    cut = {"GBK": "所属社区编", "UTF-8": "所属社"}[encoding]
    assert layer.columns["parent_code"] == cut
    assert layer.frame["parent_code"].tolist() == ["150302001001"] * len(drawn)
    warnings = {w.reason for w in layer.warnings if w.kind == "truncated_column"}
    assert any(cut in w and "所属社区编码" in w for w in warnings)


def test_datav_properties_flattened_and_empty_features_skipped(tmp_path):
    square = json.loads(shapely.to_geojson(box(106.80, 39.60, 106.81, 39.61)))
    datav = {
        "adcode": 150302,
        "name": "海勃湾区",
        "level": "district",
        "parent": {"adcode": 150300},
    }
    features = [
        {
            "type": "Feature",
            "properties": datav | {"acroutes": [100000, 150000]},
            "geometry": square,
        },
        {"type": "Feature", "properties": {}, "geometry": None},
    ]
    path = tmp_path / "150300_full.json"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    layer = read_layer(path, "areas")
    assert layer.columns == {
        "code": "adcode",
        "name": "name",
        "level": "level",
        "parent_code": "parent.adcode",
    }
    row = layer.frame.drop(columns="geometry").iloc[0].tolist()
    assert row == ["150302", "海勃湾区", "district", "150300"]
    assert (layer.skipped, layer.features.tolist()) == (1, [0])
