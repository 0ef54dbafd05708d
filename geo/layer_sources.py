"""The layers GDAL can open in a file, and the reading of one: GeoJSON, GeoPackage, Shapefile.

Shapefiles also come zipped, in subfolders, with names and text in GBK from Chinese
Windows; those need the layer names re-decoded for staff and the .dbf encoding guessed
where neither a .cpg nor the .dbf itself says it.
"""

from __future__ import annotations

import codecs
import contextlib
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely

from geo.layer_errors import LayerError, unreadable

_DBF_SAMPLE_BYTES = 1 << 16


def _zip_shapefiles(path: Path) -> dict[str, str]:
    """Layer name -> member path of each shapefile in a zip, subfolders included."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (OSError, zipfile.BadZipFile) as error:
        raise unreadable(path, error) from None
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
        raise unreadable(path, "the zip holds no .shp file")
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


def gdal_sources(path: Path) -> dict[str, tuple[str, str | None, str | None]]:
    """Layer name -> (what GDAL opens, the layer inside it, the .shp) for each layer."""
    if path.suffix.lower() == ".zip":
        members = _zip_shapefiles(path).items()
        return {name: (f"/vsizip/{path.resolve()}/{m}", None, m) for name, m in members}
    try:
        listed = pyogrio.list_layers(path)
    except pyogrio.errors.DataSourceError as error:
        raise unreadable(path, error) from None
    if path.suffix.lower() == ".gpkg":
        # QGIS keeps its styles in a non-spatial "layer_styles" table: not a layer to choose.
        listed = [row for row in listed if row[1] is not None]
    shapefile = path.name if path.suffix.lower() == ".shp" else None
    return {str(name): (str(path), str(name), shapefile) for name, _ in listed}


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
        names = (
            archive.namelist() if archive is not None else [p.name for p in path.parent.iterdir()]
        )
        found = _sidecars(names, shapefile)
        if ".cpg" in found or ".dbf" not in found:
            return None
        opened = (
            archive.open(found[".dbf"])
            if archive is not None
            else path.with_name(found[".dbf"]).open("rb")
        )
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


def _whole_names(dbf: bytes) -> bytes:
    """The .dbf with each field name's last, half-cut UTF-8 character dropped."""
    out = bytearray(dbf)
    header_length = int.from_bytes(dbf[8:10], "little")
    for at in range(32, header_length - 1, 32):
        if dbf[at] == 0x0D:  # the end of the field descriptors
            break
        name = dbf[at : at + 11].split(b"\0", 1)[0]
        whole = name.decode("utf-8", errors="ignore").encode("utf-8")
        out[at : at + 11] = whole.ljust(11, b"\0")
    return bytes(out)


def _read_with_whole_names(path: Path, shapefile: str) -> gpd.GeoDataFrame | None:
    """A UTF-8 Shapefile whose names were cut mid-character, read from a copy whose names
    end at the last whole character (所属社区编码 cut to 所属社 and a byte: 所属社); None if
    that does not help either."""
    zipped = path.suffix.lower() == ".zip"
    stem = shapefile[: -len(".shp")]
    with tempfile.TemporaryDirectory() as folder:
        with zipfile.ZipFile(path) if zipped else contextlib.nullcontext() as archive:
            names = (
                archive.namelist()
                if archive is not None
                else [p.name for p in path.parent.iterdir()]
            )
            for name in names:
                if not name.startswith(stem) or len(name) - len(stem) > 4:
                    continue
                suffix = name[len(stem) :].lower()
                data = (
                    archive.read(name) if archive is not None else path.with_name(name).read_bytes()
                )
                Path(folder, f"layer{suffix}").write_bytes(
                    _whole_names(data) if suffix == ".dbf" else data
                )
        try:
            frame = pyogrio.read_dataframe(Path(folder, "layer.shp"), encoding="UTF-8")
        except (UnicodeDecodeError, pyogrio.errors.DataSourceError):
            return None
    return frame if isinstance(frame, gpd.GeoDataFrame) else None


def read_gdal(path: Path, layer: str | None) -> tuple[gpd.GeoDataFrame, str | None]:
    """The chosen layer as read by GDAL, and its name where the file holds layers."""
    sources = gdal_sources(path)
    chosen = _choose(path, list(sources), layer)
    source, inner, shapefile = sources[chosen]
    sample = _dbf_sample(path, shapefile) if shapefile else None
    encoding = _dbf_encoding(sample) if sample else None
    try:
        frame = pyogrio.read_dataframe(source, layer=inner, encoding=encoding)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as error:
        raise unreadable(path, error) from None
    except shapely.errors.GEOSException as error:
        # GDAL hands over a geometry GEOS will not build, such as a ring of two points.
        raise unreadable(path, f"a geometry is malformed: {error}") from None
    except UnicodeDecodeError:
        # Mostly UTF-8 shapefiles: GDAL cuts field names at 10 bytes, mid-character.
        frame = _read_with_whole_names(path, shapefile) if shapefile else None
        if frame is None:
            raise unreadable(
                path,
                "its text is not in the encoding it declares (are Chinese column names cut "
                "at 10 bytes?); save it as a GeoPackage instead",
            ) from None
    if not isinstance(frame, gpd.GeoDataFrame):
        raise LayerError("no_geometry", f"{path.name}: layer {chosen!r} has no geometry")
    return frame, chosen if path.suffix.lower() in (".gpkg", ".zip") else None
