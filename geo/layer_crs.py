"""The coordinate system a layer is in, and its reprojection to lon/lat (EPSG:4326).

The CRS comes from the caller's declaration, else from the file (.prj, GeoPackage, EWKT
SRID), else for a CSV it is lon/lat. Chinese web maps' GCJ-02 and BD-09 lon/lat have no
EPSG code and are converted by `geo.crs`. Coordinates that cannot be lon/lat are refused
rather than reprojected into nonsense.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from geo.crs import CRS_NAMES, to_wgs84
from geo.layer_errors import LayerError


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


def declared_crs(crs: str | None) -> str | CRS | None:
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


def reproject(
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
