"""Hand-drawn district layers read into one normalised shape, whatever GIS drew them.

A layer arrives as a Shapefile (also zipped), GeoPackage, GeoJSON or CSV, in CGCS2000,
one of its Gauss–Krüger zones, Web Mercator, UTM or Chinese map lon/lat, with columns
named in Chinese or English. `read_layer` returns it in lon/lat (EPSG:4326) with the
canonical columns of its kind; geometry is kept exactly as drawn, broken shapes
included, so that `geo.validate` can show staff what to fix.

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

import codecs
import contextlib
import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from geo.crs import CRS_NAMES, to_wgs84
from geo.layer_columns import (
    LAT_GUESSES,
    LON_GUESSES,
    WKT_GUESSES,
    by_name,
    find,
    guesses,
    normalise,
)

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
}
_CSV_GEOMETRY_KEYS = ("wkt", "lon", "lat")  # mapping keys naming a CSV's geometry columns
_BAD_ROWS_SHOWN = 5
_DBF_SAMPLE_BYTES = 1 << 16
_EWKT_SRID = r"^SRID=(\d+);\s*"
_HEX = r"(?:[0-9A-Fa-f]{2})+"


class LayerError(Exception):
    """A file that cannot be read as the layer asked for; `code` says why, for the UI.

    >>> error = LayerError("layer_required", "choose a layer", layers=["a", "b"])
    >>> error.code, error.details
    ('layer_required', {'layers': ['a', 'b']})
    """

    def __init__(self, code: str, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.details = details

    def __repr__(self) -> str:
        return f"LayerError({self.code!r}, {self.reason!r}, **{self.details!r})"


@dataclass(frozen=True)
class Layer:
    """A layer in lon/lat with the canonical columns of its kind, rows in file order."""

    kind: str
    frame: gpd.GeoDataFrame
    source_crs: str
    columns: dict[str, str]
    layer: str | None
    format: str


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


def _unreadable(path: Path, why: object) -> LayerError:
    return LayerError("unreadable_file", f"{path.name} cannot be read: {why}", file=path.name)


def _zip_shapefiles(path: Path) -> dict[str, str]:
    """Layer name -> member path of each shapefile in a zip, subfolders included."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (OSError, zipfile.BadZipFile) as error:
        raise _unreadable(path, error) from None
    found = {}
    for info in infos:
        member = Path(info.filename)
        # macOS archivers add "__MACOSX/._name.shp" resource forks next to the real files.
        if member.suffix.lower() != ".shp" or "__MACOSX" in member.parts:
            continue
        if member.name.startswith("._"):
            continue
        found[_zip_display_name(info)] = info.filename
    if not found:
        raise _unreadable(path, "the zip holds no .shp file")
    return found


def _zip_display_name(info: zipfile.ZipInfo) -> str:
    """The member's name without ".shp"; zips from Chinese Windows store names in GBK.

    zipfile (like GDAL's /vsizip/) decodes names without the UTF-8 flag as CP437, which
    is how the member must be opened; only the name shown to staff is re-decoded.
    """
    name = info.filename[: -len(".shp")]
    if info.flag_bits & 0x800:
        return name
    try:
        return name.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return name


def _sources(path: Path) -> dict[str, tuple[str, str | None, str | None]]:
    """Layer name -> (what GDAL opens, the layer inside it, the .shp) for each layer."""
    if path.suffix.lower() == ".zip":
        members = _zip_shapefiles(path).items()
        return {name: (f"/vsizip/{path.resolve()}/{m}", None, m) for name, m in members}
    try:
        listed = pyogrio.list_layers(path)
    except pyogrio.errors.DataSourceError as error:
        raise _unreadable(path, error) from None
    if path.suffix.lower() == ".gpkg":
        # QGIS keeps its styles in a non-spatial "layer_styles" table: not a layer to choose.
        listed = [row for row in listed if row[1] is not None]
    shapefile = path.name if path.suffix.lower() == ".shp" else None
    return {str(name): (str(path), str(name), shapefile) for name, _ in listed}


def list_layers(path: str | Path) -> list[str]:
    """The layers in a file, to offer when `read_layer` says "layer_required".

    Zipped shapefiles list one layer per .shp (in subfolders as "folder/name"); files
    that hold a single layer list their own name.

    >>> list_layers("nowhere.xlsx")
    Traceback (most recent call last):
    geo.layers.LayerError: nowhere.xlsx: cannot read .xlsx; expected one of .geojson, ...
    """
    path = Path(path)
    fmt = _format(path)
    if not path.is_file():
        raise _unreadable(path, "no such file")
    return [path.stem] if fmt == "csv" else list(_sources(path))


def _choose(path: Path, names: list[str], layer: str | None) -> str:
    if layer is None:
        if len(names) == 1:
            return names[0]
        if not names:
            raise LayerError("no_geometry", f"{path.name} holds no layer with geometry")
        raise LayerError(
            "layer_required",
            f"{path.name} holds {len(names)} layers; choose one of {', '.join(names)}",
            layers=names,
        )
    if layer not in names:
        raise LayerError(
            "unknown_layer", f"{path.name} has no layer {layer!r}", layer=layer, layers=names
        )
    return layer


def _sidecars(names: list[str], shapefile: str) -> dict[str, str]:
    """The .dbf and .cpg beside a .shp, by lower-case suffix (Windows writes .DBF too)."""
    stem = shapefile[: -len(".shp")]
    found = {name[len(stem) :].lower(): name for name in names if name.startswith(stem)}
    return {suffix: found[suffix] for suffix in (".dbf", ".cpg") if suffix in found}


def _dbf_sample(path: Path, shapefile: str) -> bytes | None:
    """The start of the .dbf beside `shapefile` (a zip member or a file in path's folder);
    None when a .cpg names the encoding or there is no .dbf."""
    zipped = path.suffix.lower() == ".zip"
    with zipfile.ZipFile(path) if zipped else contextlib.nullcontext() as archive:
        names = archive.namelist() if zipped else [p.name for p in path.parent.iterdir()]
        found = _sidecars(names, shapefile)
        if ".cpg" in found or ".dbf" not in found:
            return None
        opened = archive.open(found[".dbf"]) if zipped else path.with_name(found[".dbf"]).open("rb")
        with opened as dbf:
            return dbf.read(_DBF_SAMPLE_BYTES)


def _dbf_encoding(head: bytes) -> str | None:
    """The encoding of a .dbf that names none (no .cpg, no code page byte), or None for GDAL's.

    GDAL then decodes as Latin-1, but such files from Chinese GIS are GBK (or UTF-8): a
    sample of the field names and records that is not UTF-8 is taken as GB 18030 (GBK's
    superset). The header's binary counts are left out of the sample.
    """
    if len(head) < 32 or head[29] != 0:
        return None
    header_length = int.from_bytes(head[8:10], "little")
    names = b"".join(head[i : i + 11] for i in range(32, min(header_length, len(head)) - 1, 32))
    sample = names + head[header_length:]
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return None if sample.isascii() else "utf-8"


def _read_gdal(path: Path, layer: str | None) -> tuple[gpd.GeoDataFrame, str | None]:
    """The chosen layer as read by GDAL, and its name where the file holds layers."""
    sources = _sources(path)
    chosen = _choose(path, list(sources), layer)
    source, inner, shapefile = sources[chosen]
    sample = _dbf_sample(path, shapefile) if shapefile else None
    encoding = _dbf_encoding(sample) if sample else None
    try:
        frame = pyogrio.read_dataframe(source, layer=inner, encoding=encoding)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as error:
        raise _unreadable(path, error) from None
    except UnicodeDecodeError:
        # Mostly UTF-8 shapefiles: GDAL cuts field names at 10 bytes, mid-character.
        raise _unreadable(
            path,
            "its text is not in the encoding it declares (are Chinese column names cut at "
            "10 bytes?); save it as a GeoPackage instead",
        ) from None
    if not isinstance(frame, gpd.GeoDataFrame):
        raise LayerError("no_geometry", f"{path.name}: layer {chosen!r} has no geometry")
    return frame, chosen if path.suffix.lower() in (".gpkg", ".zip") else None


def _decode(path: Path) -> str:
    """CSV text; Excel on Chinese Windows saves GBK, which GB 18030 extends."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise _unreadable(path, error) from None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _unreadable(path, "the text is neither UTF-8 nor GBK")


def _separator(text: str) -> str:
    header = text.split("\n", 1)[0]
    return max((",", "\t", ";", "|"), key=header.count)


def _read_table(path: Path) -> pd.DataFrame:
    text = _decode(path)
    try:
        # Everything as text: codes keep their leading zeros and never become floats.
        table = pd.read_csv(
            io.StringIO(text), sep=_separator(text), dtype=str, keep_default_na=False
        )
    except pd.errors.EmptyDataError:
        raise LayerError("empty_layer", f"{path.name} is empty") from None
    except (pd.errors.ParserError, ValueError) as error:
        raise _unreadable(path, error) from None
    return table


def _source(frame: pd.DataFrame, name: str) -> str:
    """The source column a mapping names, matched exactly or else as a guess would be."""
    if name in frame.columns:
        return name
    column = by_name(frame.columns).get(name.strip().casefold())
    if column is None:
        raise LayerError(
            "unknown_column",
            f"the layer has no column {name!r}",
            column=name,
            available=[str(c) for c in frame.columns],
        )
    return column


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
    points = shapely.points(x, y)
    points[blank] = None
    return points


def _csv_geometry(
    path: Path, table: pd.DataFrame, mapping: Mapping[str, str | None]
) -> tuple[np.ndarray, CRS | None, set[str]]:
    """Geometries from a WKT (or WKB hex) column or lon/lat columns, and the columns used."""
    lookup = by_name(table.columns)
    wkt = mapping.get("wkt")
    wkt = _source(table, wkt) if wkt else find(lookup, WKT_GUESSES, set())
    if wkt is not None and not (mapping.get("lon") or mapping.get("lat")):
        geoms, crs = _parse_geometry_text(path, table[wkt])
        return geoms, crs, {wkt}
    lon, lat = (
        _source(table, mapping[key]) if mapping.get(key) else find(lookup, names, set())
        for key, names in (("lon", LON_GUESSES), ("lat", LAT_GUESSES))
    )
    if lon is None or lat is None:
        raise LayerError(
            "no_geometry",
            f"{path.name} has neither a WKT column nor longitude and latitude columns",
            available=[str(c) for c in table.columns],
        )
    return _parse_points(path, table[lon], table[lat]), None, {lon, lat}


def _read_csv(path: Path, mapping: Mapping[str, str | None]) -> gpd.GeoDataFrame:
    table = _read_table(path)
    if table.empty:
        raise LayerError("empty_layer", f"{path.name} has no rows")
    geoms, crs, used = _csv_geometry(path, table, mapping)
    return gpd.GeoDataFrame(table.drop(columns=list(used)), geometry=geoms, crs=crs)


def _match(frame: pd.DataFrame, kind: str, mapping: Mapping[str, str | None]) -> dict[str, str]:
    """Canonical column -> source column: the mapping first, then guesses by name."""
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
    used = {c: _source(attributes, s) for c, s in mapping.items() if c in CANONICAL[kind] and s}
    taken, lookup = set(used.values()), by_name(attributes.columns)
    for canonical in CANONICAL[kind]:
        # A mapping to None or "" says: this layer has no such column, do not guess one.
        if canonical in mapping:
            continue
        column = find(lookup, guesses(kind, canonical), taken)
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
    return {c: used[c] for c in CANONICAL[kind] if c in used}


def _out_of_lonlat(geoms: np.ndarray) -> bool:
    bounds = shapely.bounds(geoms)
    with np.errstate(invalid="ignore"):
        west, south = np.nanmin(bounds[:, :2], axis=0, initial=np.inf)
        east, north = np.nanmax(bounds[:, 2:], axis=0, initial=-np.inf)
    return bool(west < -180 or east > 180 or south < -90 or north > 90)


def _projected(path: Path, what: str) -> LayerError:
    return LayerError(
        "projected_coordinates",
        f"{path.name}: the coordinates are not longitudes and latitudes ({what}); "
        "declare the projected CRS they are in, e.g. a CGCS2000 Gauss–Krüger zone",
    )


def _declared(crs: str | None) -> str | CRS | None:
    """The declared CRS: a name from geo.crs.CRS_NAMES, a pyproj CRS, or None (blank too)."""
    if crs is None or not crs.strip():
        return None
    name = crs.strip().lower().replace("-", "").replace("_", "")  # "GCJ-02" -> "gcj02"
    if name in CRS_NAMES:
        return name
    try:
        return CRS.from_user_input(crs.strip())
    except CRSError as error:
        raise LayerError(
            "unknown_crs", f"unknown coordinate system {crs!r}: {error}", crs=crs
        ) from None


def _label(crs: CRS) -> str:
    """The CRS as "EPSG:4549" when PROJ can name it (ESRI .prj files too), else as WKT."""
    authority = crs.to_authority(min_confidence=70)
    return ":".join(authority) if authority else crs.to_wkt()


def _china_lonlat(frame: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """GCJ-02 or BD-09 lon/lat to WGS 84, every vertex in one vectorised call."""

    def convert(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], name))

    geoms = shapely.transform(np.asarray(frame.geometry.array), convert)
    return frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index), crs=4326)


def _to_wgs84(
    frame: gpd.GeoDataFrame, path: Path, fmt: str, declared: str | CRS | None
) -> tuple[gpd.GeoDataFrame, str]:
    """The frame reprojected to EPSG:4326, and the source CRS it was taken to be in."""
    geoms = np.asarray(frame.geometry.array)
    if isinstance(declared, str):
        if _out_of_lonlat(geoms):
            raise _projected(path, f"declared {declared}")
        frame = frame.set_crs(4326, allow_override=True)
        if declared == "wgs84":
            return frame, "EPSG:4326"
        return _china_lonlat(frame, declared), declared
    if declared is not None:
        crs = declared
    elif frame.crs is not None:
        crs = CRS(frame.crs)
    elif fmt == "csv":
        crs = CRS(4326)
    else:
        raise LayerError(
            "no_crs",
            f"{path.name} does not say its coordinate system (a shapefile without .prj?); "
            "declare it",
        )
    # A CRS in degrees over numbers in the millions is a wrong or missing .prj/declaration.
    if crs.is_geographic and _out_of_lonlat(geoms):
        raise _projected(path, f"taken as {crs.name}")
    return frame.set_crs(crs, allow_override=True).to_crs(4326), _label(crs)


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
    path, mapping, declared = Path(path), dict(columns or {}), _declared(crs)
    fmt = _format(path)
    if not path.is_file():
        raise _unreadable(path, "no such file")
    if fmt == "csv":
        raw, chosen = _read_csv(path, mapping), None
    else:
        raw, chosen = _read_gdal(path, layer)
    if raw.empty:
        raise LayerError("empty_layer", f"{path.name}: the layer has no features")
    used = _match(raw, kind, mapping)
    projected, source_crs = _to_wgs84(raw, path, fmt, declared)
    sources = {c: raw[s].reset_index(drop=True) for c, s in used.items()}
    table = normalise(kind, sources, len(raw))
    frame = gpd.GeoDataFrame(
        table[list(CANONICAL[kind])],
        geometry=np.asarray(projected.geometry.array),
        crs=4326,
    )
    return Layer(kind, frame, source_crs, used, chosen, fmt)


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

    Geometry types are written as they are (no promotion to multi), so a layer read back
    holds the same shapes. A GeoPackage keeps its other layers; `layer` defaults to the
    file's stem.
    """
    path = Path(path)
    fmt = _format(path)
    if fmt not in ("geojson", "gpkg"):
        raise LayerError("unknown_format", f"{path.name}: can only write .geojson, .json or .gpkg")
    frame = frame if frame.crs is not None else frame.set_crs(4326)
    driver = "GPKG" if fmt == "gpkg" else "GeoJSON"
    pyogrio.write_dataframe(
        _writable(frame.to_crs(4326)),
        path,
        layer=layer or path.stem,
        driver=driver,
        promote_to_multi=False,
    )
