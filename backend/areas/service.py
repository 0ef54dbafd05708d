"""Areas: the tree, an area's page, the rows other features place things with, the chain
of areas above a code (``chain_of``, backend/areas/tree.py), and the smallest area around a
point (``smallest_area_at``: where a point in no grid belongs)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import shapely
from piccolo.query.functions.aggregate import Count, Sum

from backend.areas.schemas import AreaDetail, AreaRef, TreeNode
from backend.areas.tables import Area
from backend.areas.tree import build_tree
from backend.areas.tree import chain_of as chain_of
from backend.buildings.tables import Building
from backend.core.areas import level_of_code, rank
from backend.core.errors import NotFound
from backend.grids.tables import Grid


async def area_rows() -> list[dict[str, Any]]:
    """Every area, flat (a city has a few thousand at most)."""
    return await Area.select(
        Area.code, Area.name, Area.level, Area.parent.code.as_alias("parent_code")
    ).order_by(Area.code)


async def grid_rows() -> list[dict[str, Any]]:
    return await Grid.select(
        Grid.code, Grid.name, Grid.kind, Grid.community.code.as_alias("parent_code")
    ).order_by(Grid.code)


def smallest(candidates: Iterable[Mapping[str, Any]], lon: float, lat: float) -> str | None:
    """The code of the deepest area among ``candidates`` (code, geom as GeoJSON) whose
    polygon covers the point; of two at one level, the smaller polygon.

    >>> box = shapely.to_geojson(shapely.box(0, 0, 2, 2))
    >>> small = shapely.to_geojson(shapely.box(0, 0, 1, 1))
    >>> rows = [{"code": "150302", "geom": box}, {"code": "150302001", "geom": small}]
    >>> smallest(rows, 0.5, 0.5), smallest(rows, 1.5, 1.5), smallest(rows, 3, 3)
    ('150302001', '150302', None)
    """
    point = shapely.Point(lon, lat)
    covering = [
        (rank(level_of_code(r["code"])), shape.area, r["code"])
        for r in candidates
        for shape in [shapely.from_geojson(r["geom"])]
        if shape.covers(point)
    ]
    if not covering:
        return None
    return min(covering)[2]


async def smallest_area_at(lon: float, lat: float) -> str | None:
    """The code of the smallest area containing the point, None outside every area. Read from
    the area table, always current, so that this rare lookup needs no index to keep fresh."""
    candidates = await Area.select(Area.code, Area.geom).where(
        (Area.min_lon <= lon)
        & (Area.max_lon >= lon)
        & (Area.min_lat <= lat)
        & (Area.max_lat >= lat)
    )
    return smallest(candidates, lon, lat)


async def tree(root: str | None, depth: int | None, with_grids: bool) -> list[TreeNode]:
    areas = await area_rows()
    if root is not None and root not in {a["code"] for a in areas}:
        raise NotFound("area", root)
    grids = await grid_rows() if with_grids else []
    return build_tree(areas, grids, root=root, depth=depth)


async def detail(code: str) -> AreaDetail:
    areas = await area_rows()
    by_code = {a["code"]: a for a in areas}
    if code not in by_code:
        raise NotFound("area", code)
    area = (
        await Area.select(Area.id, Area.min_lon, Area.min_lat, Area.max_lon, Area.max_lat)
        .where(Area.code == code)
        .first()
    )
    if area is None:  # removed since area_rows() read it
        raise NotFound("area", code)
    descendants = _descendants(code, areas)
    communities = [c for c in descendants if by_code[c]["level"] == "community"]
    if by_code[code]["level"] == "community":
        communities.append(code)
    in_area = Grid.community.code.is_in(communities) if communities else None
    if by_code[code]["level"] == "community":
        in_community = Grid.community.code.is_in(communities)  # communities holds ``code``
        grid_list = await Grid.select(Grid.code, Grid.name).where(in_community).order_by(Grid.code)
        children = [AreaRef(g["code"], g["name"], "grid") for g in grid_list]
    else:
        children = [
            AreaRef(a["code"], a["name"], a["level"]) for a in areas if a["parent_code"] == code
        ]
    grids = await Grid.count().where(in_area) if in_area is not None else 0
    buildings, households = 0, 0
    if communities:
        totals = (
            await Building.select(
                Count(Building.id, alias="n"), Sum(Building.households, alias="households")
            )
            .where(Building.grid._.community._.code.is_in(communities))
            .first()
        ) or {"n": 0, "households": 0}  # not reached: an aggregate has its one row
        buildings, households = totals["n"], totals["households"] or 0
    return AreaDetail(
        code=code,
        name=by_code[code]["name"],
        level=by_code[code]["level"],
        chain=chain_of(code, by_code),
        children=children,
        grids=grids,
        buildings=buildings,
        households=households,
        bbox=(area["min_lon"], area["min_lat"], area["max_lon"], area["max_lat"]),
    )


def _descendants(code: str, areas: list[dict[str, Any]]) -> list[str]:
    out, frontier = [], [code]
    while frontier:
        frontier = [a["code"] for a in areas if a["parent_code"] in frontier]
        out.extend(frontier)
    return out
