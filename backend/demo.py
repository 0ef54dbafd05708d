"""Loading the generated demo city (``geo.demo``) into the database, in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from piccolo.columns import Column
from piccolo.table import Table

from backend.areas.tables import Area
from backend.auth.passwords import hash_password
from backend.buildings.tables import Building
from backend.cases.tables import Department, DepartmentMember
from backend.core.db import write_transaction
from backend.core.spatial import footprint_values
from backend.grids.tables import Grid, GridPost
from backend.people.tables import Person
from backend.points.tables import ServicePoint
from geo.demo import DEMO_DEPARTMENT, DemoCity

log = logging.getLogger("wangge.demo")

DEMO_PASSWORD = "wangge2026"
_LEVELS = ("city", "district", "street", "community")
_BATCH = 500


async def is_empty() -> bool:
    return await Area.count() == 0


async def load_city(city: DemoCity, *, password: str = DEMO_PASSWORD) -> dict[str, int]:
    """Write every layer of ``city``; returns how many rows each table got."""
    async with write_transaction(Area._meta.db):
        await _load_areas(city.areas)
        await _load_grids(city.grids)
        await _load_people(city.people, city.posts, password)
        await _load_buildings(city.buildings)
        await _load_points(city.service_points)
    counts = {
        "areas": len(city.areas),
        "grids": len(city.grids),
        "people": len(city.people),
        "posts": len(city.posts),
        "buildings": len(city.buildings),
        "service_points": len(city.service_points),
    }
    log.info("demo city loaded: %s", counts)
    return counts


async def clear_city() -> None:
    """Remove every row of the city's tables, children first (``wangge demo --reset``)."""
    async with write_transaction(Area._meta.db):
        for table in (ServicePoint, Building, GridPost, Grid, Person):
            await table.delete(force=True)
        for level in reversed(_LEVELS):
            await Area.delete().where(Area.level == level)


async def _load_areas(areas: gpd.GeoDataFrame) -> None:
    # Level by level, so that every parent has its id before its children are written.
    for level in _LEVELS:
        ids = await _ids(Area.code)
        part = areas[areas["level"] == level]
        await _insert(
            Area,
            (
                {"code": r["code"], "name": r["name"], "level": level}
                | {"parent": ids.get(r["parent_code"])}
                | f
                for r, f in _with_footprints(part)
            ),
        )


async def _load_grids(grids: gpd.GeoDataFrame) -> None:
    area_ids = await _ids(Area.code)
    await _insert(
        Grid,
        (
            {"code": r["code"], "name": r["name"], "kind": r["kind"]}
            | {"community": area_ids[r["parent_code"]]}
            | f
            for r, f in _with_footprints(grids)
        ),
    )


async def _load_people(people: pd.DataFrame, posts: pd.DataFrame, password: str) -> None:
    # One hash for every demo account: a memory-hard hash per generated person would take
    # minutes and protect nothing, since they all share the published demo password.
    hashed = hash_password(password)
    area_ids = await _ids(Area.code)
    await _insert(
        Person,
        (
            {"name": r["name"], "phone": r["phone"], "role": r["role"]}
            | {"area": area_ids.get(r["area_code"]), "password_hash": hashed}
            for r in _records(people)
        ),
    )
    grid_ids, person_ids = await _ids(Grid.code), await _ids(Person.phone)
    await _insert(
        GridPost,
        (
            {"grid": grid_ids[r["grid_code"]], "person": person_ids[r["phone"]], "post": r["post"]}
            for r in _records(posts)
        ),
    )
    department = await Department.select(Department.id).where(Department.code == DEMO_DEPARTMENT)
    await _insert(
        DepartmentMember,
        (
            {"person": person_ids[phone], "department": department[0]["id"]}
            for phone in people.loc[people["role"] == "department", "phone"]
        ),
    )


async def _load_buildings(buildings: gpd.GeoDataFrame) -> None:
    grid_ids = await _ids(Grid.code)
    bounds = shapely.bounds(buildings.geometry.values)
    await _insert(
        Building,
        (
            {"code": r["code"], "name": r["name"], "address": r["address"]}
            | {"floors": int(r["floors"]), "households": int(r["households"])}
            | {"grid": grid_ids.get(r["grid_code"])}
            | {"lon": (b[0] + b[2]) / 2, "lat": (b[1] + b[3]) / 2}
            | f
            for (r, f), b in zip(_with_footprints(buildings), bounds.tolist(), strict=True)
        ),
    )


async def _load_points(points: gpd.GeoDataFrame) -> None:
    area_ids, grid_ids = await _ids(Area.code), await _ids(Grid.code)
    await _insert(
        ServicePoint,
        (
            {"code": r["code"], "name": r["name"], "kind": r["kind"], "level": r["level"]}
            # A 红色物业 names the grid it serves; other points the area they serve.
            | {"area": area_ids.get(r["area_code"]), "grid": grid_ids.get(r["area_code"])}
            | {"address": r["address"], "hours": r["hours"], "phone": r["phone"]}
            | {"lon": g.x, "lat": g.y}
            for r, g in zip(_records(points), points.geometry.values, strict=True)
        ),
    )


async def _insert(table: type[Table], rows: Iterable[dict[str, Any]]) -> None:
    batch: list[Table] = []
    for row in rows:
        batch.append(table(**row))
        if len(batch) == _BATCH:
            await table.insert(*batch)
            batch = []
    if batch:
        await table.insert(*batch)


async def _ids(column: Column) -> dict[str, int]:
    table = column._meta.table
    rows = await table.select(table._meta.primary_key, column.as_alias("code"))
    return {r["code"]: r["id"] for r in rows}


def _records(frame: pd.DataFrame) -> list[dict[Hashable, Any]]:
    plain = frame.drop(columns="geometry", errors="ignore").astype(object)
    return plain.where(plain.notna(), None).to_dict("records")


def _with_footprints(
    frame: gpd.GeoDataFrame,
) -> Iterable[tuple[dict[Hashable, Any], dict[str, Any]]]:
    return zip(_records(frame), footprint_values(np.asarray(frame.geometry.values)), strict=True)
