"""Stored layers as GeoDataFrames with the canonical columns that an import reads back."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from backend.imports.rows import FIELDS, stored_rows

KINDS = tuple(FIELDS)


async def layer_frame(kind: str) -> gpd.GeoDataFrame:
    rows = await stored_rows(kind)
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(FIELDS[kind]))
    frame.insert(0, "code", frame.index.astype(str))
    frame = frame.reset_index(drop=True)
    if kind == "service-points":
        geometry = shapely.points(
            frame.pop("lon").to_numpy(float), frame.pop("lat").to_numpy(float)
        )
    else:
        geometry = shapely.from_geojson(frame.pop("geom").tolist()) if len(frame) else []
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=4326)
