"""Hand-drawn district layers read into one normalised shape, whatever GIS drew them.

A layer arrives as a Shapefile (also zipped), GeoPackage, GeoJSON or CSV, in CGCS2000,
one of its Gauss–Krüger zones, Web Mercator, UTM or Chinese map lon/lat, with columns
named in Chinese or English. `read_layer` returns it in lon/lat (EPSG:4326) with the
canonical columns of its kind; geometry is kept exactly as drawn, broken shapes
included, so that `geo.validate` can show staff what to fix.

Each step has a module of its own: `geo.layer_sources` opens GDAL formats and zips,
`geo.layer_csv` reads CSV, `geo.layer_columns` and `geo.layer_values` match and clean
the columns, `geo.layer_crs` takes the coordinates to lon/lat.

>>> import tempfile
>>> from pathlib import Path
>>> from shapely import box
>>> drawn = gpd.GeoDataFrame({"网格编码": [15030200100101], "网格名称": ["团结社区第一网格"]},
...                          geometry=[box(106.80, 39.60, 106.81, 39.61)], crs=4326)
>>> with tempfile.TemporaryDirectory() as folder:
...     drawn.to_crs(4545).to_file(Path(folder, "grids.gpkg"))  # CGCS2000 GK, CM 108°E
...     grids = read_layer(Path(folder, "grids.gpkg"), "grids")
>>> grids.source_crs, grids.columns["code"]
('EPSG:4545', '网格编码')
>>> grids.frame.drop(columns="geometry").iloc[0].tolist()
['15030200100101', '团结社区第一网格', '150302001001', 'community']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.layer_columns import by_name, find, find_cut, guesses, source_column
from geo.layer_crs import declared_crs, reproject
from geo.layer_csv import read_csv
from geo.layer_errors import LayerError, unreadable
from geo.layer_sources import gdal_sources, read_gdal
from geo.layer_values import normalise
from geo.validate import Problem

KINDS: tuple[str, ...] = ("areas", "grids", "buildings", "service-points")
CANONICAL: dict[str, tuple[str, ...]] = {
    "areas": ("code", "name", "level", "parent_code"),
    "grids": ("code", "name", "parent_code", "kind"),
    "buildings": ("code", "name", "address", "floors", "households"),
    "service-points": ("code", "name", "kind", "level", "area_code", "address", "hours", "phone"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "areas": ("code", "name"),
    "grids": ("code", "name"),
    "buildings": ("code",),
    "service-points": ("code", "name", "kind"),
}
FORMATS: dict[str, str] = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".shp": "shapefile",
    ".zip": "shapefile",
    ".csv": "csv",
    ".xlsx": "xlsx",
}
_TABLES = ("csv", "xlsx")  # read by geo.layer_csv, rows numbered by line
_CSV_GEOMETRY_KEYS = ("wkt", "lon", "lat")  # mapping keys naming a CSV's geometry columns


@dataclass(frozen=True)
class Layer:
    """A layer in lon/lat with the canonical columns of its kind, rows in file order.

    Empty rows (no geometry, every cell blank) are left out and counted in `skipped`;
    `features` holds each row's index among the file's features (from 0) and `lines`, for
    CSV/XLSX, its line. `warnings` are what reading noticed, such as cut column names.
    """

    kind: str
    frame: gpd.GeoDataFrame
    source_crs: str
    columns: dict[str, str]
    layer: str | None
    format: str
    features: np.ndarray | None = None
    lines: np.ndarray | None = None
    skipped: int = 0
    warnings: tuple[Problem, ...] = ()


def _format(path: Path) -> str:
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise LayerError(
            "unknown_format",
            f"{path.name}: cannot read {path.suffix or 'files without a suffix'}; "
            f"expected one of {', '.join(FORMATS)}",
            suffix=path.suffix,
        ) from None


def list_layers(path: str | Path) -> list[str]:
    """The layers in a file, to offer when `read_layer` says "layer_required".

    Zipped shapefiles list one layer per .shp (in subfolders as "folder/name"); files
    that hold a single layer list their own name.

    >>> list_layers("nowhere.dwg")
    Traceback (most recent call last):
    geo.layers.LayerError: nowhere.dwg: cannot read .dwg; expected one of .geojson, ...
    """
    path = Path(path)
    fmt = _format(path)
    if not path.is_file():
        raise unreadable(path, "no such file")
    return [path.stem] if fmt in _TABLES else list(gdal_sources(path))


def flatten(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Nested properties (GDAL hands a GeoJSON object over as a dict) as columns of their
    own named by their path, as DataV's `parent: {"adcode": 150300}` becomes `parent.adcode`.

    >>> nested = gpd.GeoDataFrame({"parent": [{"adcode": 150300}, None]}, geometry=[None, None])
    >>> flat = flatten(nested)
    >>> flat.columns.tolist(), flat["parent.adcode"].tolist()
    (['parent.adcode', 'geometry'], [150300.0, nan])
    """
    nested = [
        c
        for c in frame.columns
        if c != frame.geometry.name
        and frame[c].dtype == object
        and frame[c].map(lambda v: isinstance(v, dict)).any()
    ]
    for column in nested:
        values = frame[column].map(lambda v: v if isinstance(v, dict) else {})
        parts = pd.json_normalize(values.tolist(), sep=".").set_index(frame.index)
        parts.columns = [f"{column}.{c}" for c in parts.columns]
        at = list(frame.columns).index(column)
        frame = frame.drop(columns=column)
        for offset, part in enumerate(parts.columns):
            frame.insert(at + offset, part, parts[part])
    return frame


def _blank_rows(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Rows without geometry whose every cell is blank: spreadsheets' empty lines."""
    geoms = np.asarray(frame.geometry.array)
    blank = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    # Only rows without geometry are looked into: text tests cost 0.3 s on 10⁵ buildings.
    at = np.flatnonzero(blank)
    for column in [c for c in frame.columns if c != frame.geometry.name]:
        values = frame[column].iloc[at]
        blank[at] &= (values.isna() | (values.astype(str).str.strip() == "")).to_numpy()
    return blank


def _match(
    frame: pd.DataFrame, kind: str, mapping: Mapping[str, str | None], fmt: str
) -> tuple[dict[str, str], list[Problem]]:
    """Canonical column -> source column: the mapping first, then guesses by name, then (in a
    Shapefile) guesses cut at 10 bytes, each such one reported."""
    allowed = (*CANONICAL[kind], *_CSV_GEOMETRY_KEYS)
    for key in mapping:
        if key not in allowed:
            raise LayerError(
                "unknown_column",
                f"{key!r} is not a column of {kind}; expected one of {', '.join(allowed)}",
                column=key,
                canonical=list(allowed),
            )
    attributes = frame.drop(columns=frame.geometry.name)
    used = {
        c: source_column(attributes, s) for c, s in mapping.items() if c in CANONICAL[kind] and s
    }
    taken, lookup = set(used.values()), by_name(attributes.columns)
    warnings = []
    for canonical in CANONICAL[kind]:
        # A mapping to None or "" says: this layer has no such column, do not guess one.
        if canonical in mapping:
            continue
        column = find(lookup, guesses(kind, canonical), taken)
        if column is None and fmt == "shapefile":
            cut = find_cut(lookup, guesses(kind, canonical), taken)
            if cut is not None:
                column = cut[0]
                warnings.append(
                    Problem(
                        "truncated_column",
                        (),
                        f"column {cut[0]} is taken as {cut[1]} ({canonical}): the Shapefile "
                        "format cut its name at 10 bytes",
                    )
                )
        if column is not None:
            used[canonical] = column
            taken.add(column)
    for required in REQUIRED[kind]:
        if required not in used:
            raise LayerError(
                "missing_column",
                f"no column for the {required} of {kind}; map one of the layer's columns",
                column=required,
                available=[str(c) for c in attributes.columns],
            )
    return {c: used[c] for c in CANONICAL[kind] if c in used}, warnings


def read_layer(
    path: str | Path,
    kind: str,
    *,
    layer: str | None = None,
    crs: str | None = None,
    columns: Mapping[str, str] | None = None,
) -> Layer:
    """Read one layer of `kind` (see KINDS) into lon/lat with its canonical columns.

    `crs` overrides the file's CRS: anything pyproj parses ("EPSG:4549", "4549", WKT) or
    "wgs84", "gcj02", "bd09" for lon/lat in those datums. `columns` maps canonical names
    to source columns where guessing falls short (None: no such column, don't guess);
    for a CSV, "wkt" or "lon" and "lat" name its geometry columns. Raises LayerError.

    >>> read_layer("grids.gpkg", "parcels")
    Traceback (most recent call last):
    geo.layers.LayerError: unknown kind 'parcels'; expected one of areas, grids, ...
    """
    if kind not in KINDS:
        raise LayerError(
            "unknown_kind", f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}"
        )
    path, mapping, declared = Path(path), dict(columns or {}), declared_crs(crs)
    fmt = _format(path)
    if not path.is_file():
        raise unreadable(path, "no such file")
    if fmt in _TABLES:
        raw, chosen = read_csv(path, mapping), None
    else:
        raw, chosen = read_gdal(path, layer)
    raw = flatten(raw)
    blank = _blank_rows(raw)
    features = np.flatnonzero(~blank)
    raw = raw[~blank].reset_index(drop=True)
    if raw.empty:
        raise LayerError("empty_layer", f"{path.name}: the layer has no features")
    used, warnings = _match(raw, kind, mapping, fmt)
    # A table (CSV or XLSX) without an SRID is lon/lat, as geo.layer_crs takes a CSV to be.
    projected, source_crs = reproject(raw, path, "csv" if fmt in _TABLES else fmt, declared)
    sources = {c: raw[s].reset_index(drop=True) for c, s in used.items()}
    table = normalise(kind, sources, len(raw))
    frame = gpd.GeoDataFrame(
        table[list(CANONICAL[kind])],
        geometry=_single_parts_unwrapped(np.asarray(projected.geometry.array)),
        crs=4326,
    )
    lines = features + 2 if fmt in _TABLES else None
    skipped = int(blank.sum())
    return Layer(
        kind, frame, source_crs, used, chosen, fmt, features, lines, skipped, tuple(warnings)
    )


def _single_parts_unwrapped(geometries: np.ndarray) -> np.ndarray:
    """Each MultiPolygon of one part as that Polygon, coordinates untouched: a GeoPackage
    declares one type for a layer, so `write_layer` (and other GIS) wrap every Polygon, and
    a layer read back must compare equal to what was written.

    >>> from shapely import MultiPolygon, box
    >>> [g.geom_type for g in _single_parts_unwrapped(np.array(
    ...     [MultiPolygon([box(0, 0, 1, 1)]), MultiPolygon([box(0, 0, 1, 1), box(2, 2, 3, 3)])]))]
    ['Polygon', 'MultiPolygon']
    """
    # Vectorised: a loop over shapely objects took 3 s of a 100,000-building import.
    single = (shapely.get_type_id(geometries) == shapely.GeometryType.MULTIPOLYGON) & (
        shapely.get_num_geometries(geometries) == 1
    )
    out = geometries.copy()
    out[single] = shapely.get_geometry(geometries[single], 0)
    return out


def _writable(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Counts holding None (text that was no number) as nullable integers, not as text."""
    counts = [
        c
        for c in frame.columns
        if frame[c].dtype == object and pd.api.types.infer_dtype(frame[c]) == "integer"
    ]
    return frame.astype(dict.fromkeys(counts, "Int64")) if counts else frame


def write_layer(frame: gpd.GeoDataFrame, path: str | Path, *, layer: str | None = None) -> None:
    """Write `frame` in EPSG:4326 (no CRS: taken as such) as GeoJSON or GeoPackage.

    A GeoPackage of polygons declares the type MultiPolygon, each Polygon written as a
    MultiPolygon of one part (`read_layer` unwraps them): a layer of mixed Polygons and
    MultiPolygons would otherwise declare "Unknown", which QGIS and ArcGIS handle badly.
    GeoJSON keeps each geometry as it is. A GeoPackage keeps its other layers; `layer`
    defaults to the file's stem.
    """
    path = Path(path)
    fmt = _format(path)
    if fmt not in ("geojson", "gpkg"):
        raise LayerError("unknown_format", f"{path.name}: can only write .geojson, .json or .gpkg")
    frame = frame if frame.crs is not None else frame.set_crs(4326)
    driver = "GPKG" if fmt == "gpkg" else "GeoJSON"
    types = set(frame.geom_type.dropna())
    multi = fmt == "gpkg" and bool(types) and types <= {"Polygon", "MultiPolygon"}
    pyogrio.write_dataframe(
        _writable(frame.to_crs(4326)),
        path,
        layer=layer or path.stem,
        driver=driver,
        promote_to_multi=multi,
        geometry_type="MultiPolygon" if multi else None,
    )
