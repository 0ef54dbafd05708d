"""A CSV or XLSX layer as a frame: a table saved by Excel or exported by a database.

CSV text is UTF-8 or GBK, split by commas, tabs, semicolons or bars; the geometry is a
WKT, EWKT or WKB hex column, or longitude and latitude columns, found by name or as the
column mapping of `geo.layers.read_layer` names them.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.layer_columns import LAT_GUESSES, LON_GUESSES, WKT_GUESSES, by_name, find, source_column
from geo.layer_errors import LayerError, unreadable

_BAD_ROWS_SHOWN = 5
_EWKT_SRID = r"^SRID=(\d+);\s*"
_HEX = r"(?:[0-9A-Fa-f]{2})+"


def _decode(path: Path) -> str:
    """CSV text; Excel on Chinese Windows saves GBK, which GB 18030 extends."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise unreadable(path, error) from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise unreadable(path, "the text is neither UTF-8 nor GBK")


def _separator(text: str) -> str:
    header = text.split("\n", 1)[0]
    return max((",", "\t", ";", "|"), key=header.count)


def _read_table(path: Path) -> pd.DataFrame:
    """Every row as text, blank lines included, so that row i is on line i + 2."""
    try:
        if path.suffix.lower() == ".xlsx":
            return pd.read_excel(path, dtype=str, keep_default_na=False)
        text = _decode(path)
        # Everything as text: codes keep their leading zeros and never become floats.
        table = pd.read_csv(
            io.StringIO(text),
            sep=_separator(text),
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
        )
    except pd.errors.EmptyDataError:
        raise LayerError("empty_layer", f"{path.name} is empty") from None
    except (pd.errors.ParserError, ValueError, OSError, zipfile.BadZipFile) as error:
        raise unreadable(path, error) from None
    return table


def _bad_rows(path: Path, bad: np.ndarray, what: str) -> LayerError:
    # Line numbers as a spreadsheet shows them: the header is line 1.
    rows = (np.flatnonzero(bad)[:_BAD_ROWS_SHOWN] + 2).tolist()
    return LayerError(
        "bad_geometry_text",
        f"{path.name}: {int(bad.sum())} rows hold {what}, the first on lines {rows}",
        rows=rows,
        count=int(bad.sum()),
    )


def _parse_geometry_text(path: Path, column: pd.Series) -> tuple[np.ndarray, CRS | None]:
    """WKT, PostGIS EWKT ("SRID=4490;POLYGON ...") or (E)WKB hex; blank cells are None."""
    strings = column.astype(str).str.strip()
    srids = strings.str.extract(_EWKT_SRID, expand=False).dropna().astype(int).tolist()
    body = strings.str.replace(_EWKT_SRID, "", regex=True).to_numpy(dtype=object)
    blank = body == ""
    hexed = pd.Series(body).str.fullmatch(_HEX).to_numpy(dtype=bool)
    wkt = ~blank & ~hexed
    geoms = np.full(len(body), None, dtype=object)
    geoms[wkt] = shapely.from_wkt(body[wkt], on_invalid="ignore")
    geoms[hexed] = shapely.from_wkb(body[hexed], on_invalid="ignore")
    bad = ~blank & shapely.is_missing(geoms)
    if bad.any():
        raise _bad_rows(path, bad, "geometry text that is not WKT")
    srids += shapely.get_srid(geoms[hexed]).tolist()
    found = set(srids) - {0}
    return geoms, CRS.from_epsg(found.pop()) if len(found) == 1 else None


def _parse_points(path: Path, lon: pd.Series, lat: pd.Series) -> np.ndarray:
    lon, lat = lon.astype(str).str.strip(), lat.astype(str).str.strip()
    x = pd.to_numeric(lon, errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(lat, errors="coerce").to_numpy(dtype=float)
    blank = ((lon == "") & (lat == "")).to_numpy()
    bad = ~blank & (np.isnan(x) | np.isnan(y))
    if bad.any():
        raise _bad_rows(path, bad, "coordinates that are not numbers")
    points = np.asarray(shapely.points(x, y), dtype=object)  # an array: x and y are 1-D
    points[blank] = None
    return points


def _csv_geometry(
    path: Path, table: pd.DataFrame, mapping: Mapping[str, str | None]
) -> tuple[np.ndarray, CRS | None, set[str]]:
    """Geometries from a WKT (or WKB hex) column or lon/lat columns, and the columns used."""
    lookup = by_name(table.columns)
    wkt = mapping.get("wkt")
    wkt = source_column(table, wkt) if wkt else find(lookup, WKT_GUESSES, set())
    if wkt is not None and not (mapping.get("lon") or mapping.get("lat")):
        geoms, crs = _parse_geometry_text(path, table[wkt])
        return geoms, crs, {wkt}
    lon, lat = (
        source_column(table, given) if (given := mapping.get(key)) else find(lookup, names, set())
        for key, names in (("lon", LON_GUESSES), ("lat", LAT_GUESSES))
    )
    if lon is None or lat is None:
        raise LayerError(
            "no_geometry",
            f"{path.name} has neither a WKT column nor longitude and latitude columns",
            available=[str(c) for c in table.columns],
        )
    return _parse_points(path, table[lon], table[lat]), None, {lon, lat}


def read_csv(path: Path, mapping: Mapping[str, str | None]) -> gpd.GeoDataFrame:
    """The rows of a CSV or XLSX layer with their geometry, in the CRS an EWKT or WKB SRID
    names; row i is on line i + 2 of the file (the header is line 1)."""
    table = _read_table(path)
    if table.empty:
        raise LayerError("empty_layer", f"{path.name} has no rows")
    geoms, crs, used = _csv_geometry(path, table, mapping)
    return gpd.GeoDataFrame(table.drop(columns=list(used)), geometry=geoms, crs=crs)
