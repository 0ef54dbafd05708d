"""Layer files in the shapes GIS offices hand in, built from the stored demo city's layers.

Each builder writes what a real source writes: DataV's district GeoJSON (GCJ-02, nested
`parent`), a GBK Shapefile in a CGCS2000 Gauss–Krüger zone with Chinese column names the
format cut at 10 bytes, a CSV whose WKT was rounded to 6 decimals, a Shapefile with its
rings reversed and started elsewhere, tables with empty rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.crs import from_wgs84

EMPTY_ROWS = 3


def datav_districts(areas: gpd.GeoDataFrame, path: Path, *, city: str = "150300") -> Path:
    """The districts as DataV/Aliyun serves them: GCJ-02 lon/lat, `adcode` a number, `parent`
    a nested object, `center`/`acroutes` lists."""

    def gcj(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(from_wgs84(xy[:, 0], xy[:, 1], "gcj02"))

    districts = areas[areas["level"] == "district"]
    features = []
    for i, row in enumerate(districts.itertuples()):
        shape = shapely.transform(row.geometry, gcj)
        centre = shape.centroid
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "adcode": int(row.code),
                    "name": row.name,
                    "center": [centre.x, centre.y],
                    "centroid": [centre.x, centre.y],
                    "childrenNum": 5,
                    "level": "district",
                    "parent": {"adcode": int(city)},
                    "subFeatureIndex": i,
                    "acroutes": [100000, 150000, int(city)],
                },
                "geometry": json.loads(shapely.to_geojson(shape)),
            }
        )
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def gbk_shapefile(grids: gpd.GeoDataFrame, folder: Path) -> Path:
    """Grids in EPSG:4524 (CGCS2000 3° GK zone 36) with Chinese columns, GBK, as ArcGIS on
    Chinese Windows saves them: 所属社区编码 (12 bytes in GBK) kept as 所属社区编."""
    frame = gpd.GeoDataFrame(
        {
            "网格编码": grids["code"],
            "网格名称": grids["name"],
            "所属社区编码"[:5]: grids["parent_code"],
            "网格类型": grids["kind"],
        },
        geometry=grids.geometry,
        crs=4326,
    ).to_crs(4524)
    path = folder / "网格.shp"
    pyogrio.write_dataframe(frame, path, encoding="GBK")
    return path


def reversed_shapefile(grids: gpd.GeoDataFrame, path: Path) -> Path:
    """The grids with every ring run the other way and started at another vertex."""

    def turned(ring: np.ndarray) -> np.ndarray:
        ring = ring[:-1][::-1]
        ring = np.roll(ring, 2, axis=0)
        return np.vstack([ring, ring[:1]])

    shapes = []
    for shape in grids.geometry:
        polygons = shapely.get_parts(shape)
        shapes.append(
            shapely.multipolygons(
                [
                    shapely.Polygon(
                        turned(shapely.get_coordinates(p.exterior)),
                        [turned(shapely.get_coordinates(h)) for h in p.interiors],
                    )
                    for p in polygons
                ]
            )
            if len(polygons) > 1
            else shapely.Polygon(
                turned(shapely.get_coordinates(polygons[0].exterior)),
                [turned(shapely.get_coordinates(h)) for h in polygons[0].interiors],
            )
        )
    frame = gpd.GeoDataFrame(grids.drop(columns="geometry"), geometry=shapes, crs=4326).rename(
        columns={"parent_code": "parent"}
    )
    pyogrio.write_dataframe(frame, path)
    return path


def _with_empty_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The table with EMPTY_ROWS empty rows: after the first row, in the middle, at the end."""
    blank = pd.DataFrame([[""] * len(table.columns)], columns=table.columns)
    middle = len(table) // 2
    parts = [table.iloc[:1], blank, table.iloc[1:middle], blank, table.iloc[middle:], blank]
    return pd.concat(parts, ignore_index=True)


def rounded_csv(grids: gpd.GeoDataFrame, path: Path) -> Path:
    """The grids as CSV with WKT rounded to 6 decimals (≈ 5 cm), and empty rows."""
    table = pd.DataFrame(
        {
            "code": grids["code"],
            "name": grids["name"],
            "parent_code": grids["parent_code"],
            "kind": grids["kind"],
            "wkt": shapely.to_wkt(np.asarray(grids.geometry.array), rounding_precision=6),
        }
    )
    _with_empty_rows(table).to_csv(path, index=False)
    return path


def grids_xlsx(grids: gpd.GeoDataFrame, path: Path) -> Path:
    """The grids as an XLSX sheet with WKT and empty rows."""
    table = pd.DataFrame(
        {
            "网格编码": grids["code"],
            "网格名称": grids["name"],
            "所属社区编码": grids["parent_code"],
            "wkt": shapely.to_wkt(np.asarray(grids.geometry.array), rounding_precision=-1),
        }
    )
    _with_empty_rows(table).to_excel(path, index=False)
    return path
