"""Service points of the demo city: party centres, driver homes, warm stations, red property.

Points are placed in metres; each then takes its street address from the grid it falls in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geo import demo_names as names
from geo.demo_names import DISTRICTS

WARM_STATIONS = 15
RED_PROPERTIES = 20


def _inside_points(shapes: np.ndarray, rng: np.random.Generator, inset: float = 30.0) -> np.ndarray:
    """A random point well inside each shape (rejection sampling, all shapes at once)."""
    inner = shapely.buffer(shapes, -inset)
    inner = np.where(shapely.is_empty(inner), shapes, inner)
    box = shapely.bounds(inner)
    x = box[:, [0]] + rng.random((len(inner), 200)) * (box[:, [2]] - box[:, [0]])
    y = box[:, [1]] + rng.random((len(inner), 200)) * (box[:, [3]] - box[:, [1]])
    hit = shapely.contains_xy(inner[:, None], x, y)
    pick = hit.argmax(1)
    points = shapely.points(x[np.arange(len(x)), pick], y[np.arange(len(y)), pick])
    return np.where(hit.any(1), points, shapely.point_on_surface(inner))


def service_point_table(
    areas: pd.DataFrame, grids: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Party centres for every area, driver homes on district edges, stations, red property."""
    shapes = areas["geometry"].to_numpy().copy()
    towns = {
        code: shapely.coverage_union_all(group["geometry"].to_numpy())
        for code, group in grids[grids["town"]].groupby("district_code")
    }
    # A district's centre stands in its town, the city's in its seat district's town.
    district = areas["level"] == "district"
    shapes[district] = [towns[c] for c in areas.loc[district, "code"]]
    shapes[areas["level"] == "city"] = towns[names.CITY_SEAT]
    party = pd.DataFrame(
        {
            "code": "DQ-" + areas["code"],
            "name": areas["name"] + "党群服务中心",
            "kind": "party_centre",
            "level": areas["level"],
            "area_code": areas["code"],
            "hours": areas["level"].map(names.PARTY_CENTRE_HOURS),
            "geometry": _inside_points(shapes, rng),
        }
    )
    # Driver homes sit by the ring roads, just inside each town's edge.
    edge = [
        shapely.line_interpolate_point(
            shapely.buffer(towns[spec.code], -150).exterior,
            (rng.random() + np.arange(spec.driver_homes) / spec.driver_homes) % 1,
            normalized=True,
        )
        for spec in DISTRICTS
    ]
    drivers = pd.DataFrame(
        {"kind": "driver_home", "hours": "24小时", "geometry": np.concatenate(edge)}
    )
    urban = grids[grids["kind"] == "community"]
    hosts = urban.drop_duplicates("community_code")
    hosts = hosts.iloc[np.sort(rng.choice(len(hosts), WARM_STATIONS, replace=False))]
    warm = pd.DataFrame(
        {
            "kind": "warm_station",
            "name": (hosts["community_name"] + "暖心驿站").to_numpy(),
            "area_code": hosts["community_code"].to_numpy(),
            "hours": rng.choice(["24小时", "07:00-21:00"], WARM_STATIONS),
            "geometry": _inside_points(
                areas.set_index("code").loc[hosts["community_code"], "geometry"].to_numpy(), rng
            ),
        }
    )
    served = urban.iloc[np.sort(rng.choice(len(urban), RED_PROPERTIES, replace=False))]
    red = pd.DataFrame(
        {
            "kind": "red_property",
            "name": (served["compound"] + "红色物业服务站").to_numpy(),
            "area_code": served["code"].to_numpy(),
            "hours": "08:00-20:00",
            "geometry": _inside_points(served["geometry"].to_numpy(), rng),
        }
    )
    points = pd.concat([party, drivers, warm, red], ignore_index=True)
    return _address_points(points, grids, rng)


def _address_points(
    points: pd.DataFrame, grids: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Street addresses, phones and missing codes/names from the grid each point falls in."""
    at, cell = shapely.STRtree(grids["geometry"].to_numpy()).query(
        points["geometry"].to_numpy(), predicate="within"
    )
    home = grids.iloc[cell[np.unique(at, return_index=True)[1]]].reset_index(drop=True)
    road = rng.choice(names.ROADS, len(points))
    number = pd.Series(rng.integers(1, 300, len(points))).astype(str)
    points["address"] = (
        home["district_name"] + home["street_name"] + home["community_name"] + road + number + "号"
    )
    points["phone"] = [
        f"{names.AREA_PHONE_PREFIX}{n}" for n in rng.integers(2000000, 7000000, len(points))
    ]
    drivers = points["kind"] == "driver_home"
    points.loc[drivers, "name"] = (home["district_name"] + road + "司机之家")[drivers]
    points.loc[drivers, "area_code"] = home["community_code"][drivers]
    for kind, prefix in (("driver_home", "SJ"), ("warm_station", "NX"), ("red_property", "HW")):
        mine = points["kind"] == kind
        points.loc[mine, "code"] = [f"{prefix}-{i:03d}" for i in range(1, mine.sum() + 1)]
    points["level"] = points["level"].astype(object).where(points["kind"] == "party_centre", None)
    return points
