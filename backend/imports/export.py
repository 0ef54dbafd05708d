"""Stored layers as GeoDataFrames with the canonical columns that an import reads back."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from backend.imports.rows import FIELDS, stored_rows

KINDS = tuple(FIELDS)


async def layer_frame(kind: str) -> gpd.GeoDataFrame:
    rows = await stored_rows(kind)
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(FIELDS[kind]))
    frame.insert(0, "code", frame.index.astype(str))
    frame = frame.reset_index(drop=True)
    geometry: npt.NDArray[np.object_] | list[shapely.Geometry]
    if kind == "service-points":
        lon, lat = frame.pop("lon").to_numpy(float), frame.pop("lat").to_numpy(float)
        geometry = np.asarray(shapely.points(lon, lat), dtype=object)  # an array: 1-D lon, lat
    else:
        geometry = shapely.from_geojson(frame.pop("geom").tolist()) if len(frame) else []
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=4326)
