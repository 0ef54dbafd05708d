"""Loading the generated demo city (``geo.demo``) into the database, in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import pandas as pd
import shapely
from piccolo.engine import SQLiteEngine
from piccolo.engine.sqlite import TransactionType
from piccolo.table import Table

from backend.areas.tables import Area
from backend.auth.passwords import hash_password
from backend.buildings.tables import Building
from backend.grids.tables import Grid, GridPost
from backend.people.tables import Person
from backend.points.tables import ServicePoint
from backend.spatial import footprint_values
from geo.demo import DemoCity

log = logging.getLogger("wangge.demo")

DEMO_PASSWORD = "wangge2026"
_LEVELS = ("city", "district", "street", "community")
_BATCH = 500


def _transaction(engine: Any) -> Any:
    if isinstance(engine, SQLiteEngine):
        # IMMEDIATE takes the write lock up front: a second writer waits instead of deadlocking.
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


async def is_empty() -> bool:
    return await Area.count() == 0


async def _insert(table: type[Table], rows: Iterable[dict[str, Any]]) -> None:
    batch: list[Table] = []
    for row in rows:
        batch.append(table(**row))
        if len(batch) == _BATCH:
            await table.insert(*batch)
            batch = []
    if batch:
        await table.insert(*batch)


async def _ids(column: Any) -> dict[str, int]:
    table = column._meta.table
    return {r["code"]: r["id"] for r in await table.select(table.id, column.as_alias("code"))}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return (
        frame.drop(columns="geometry", errors="ignore")
        .astype(object)
        .where(frame.notna(), None)
        .to_dict("records")
    )


async def load_city(city: DemoCity, *, password: str = DEMO_PASSWORD) -> dict[str, int]:
    """Write every layer of ``city``; returns how many rows each table got.

    All demo accounts share one password hash: computing a memory-hard hash for each of
    thousands of generated people would take minutes and protect nothing.
    """
    engine = Area._meta.db
    async with _transaction(engine):
        areas = city.areas
        for level in _LEVELS:
            ids = await _ids(Area.code)
            part = areas[areas["level"] == level]
            await _insert(
                Area,
                (
                    {
                        "code": r["code"],
                        "name": r["name"],
                        "level": level,
                        "parent": ids.get(r["parent_code"]),
                        **f,
                    }
                    for r, f in zip(
                        _records(part), footprint_values(part.geometry.values), strict=True
                    )
                ),
            )
        area_ids = await _ids(Area.code)

        grids = city.grids
        await _insert(
            Grid,
            (
                {
                    "code": r["code"],
                    "name": r["name"],
                    "kind": r["kind"],
                    "community": area_ids[r["parent_code"]],
                    **f,
                }
                for r, f in zip(
                    _records(grids), footprint_values(grids.geometry.values), strict=True
                )
            ),
        )
        grid_ids = await _ids(Grid.code)

        hashed = hash_password(password)
        await _insert(
            Person,
            (
                {
                    "name": r["name"],
                    "phone": r["phone"],
                    "role": r["role"],
                    "area": area_ids.get(r["area_code"]),
                    "password_hash": hashed,
                }
                for r in _records(city.people)
            ),
        )
        person_ids = await _ids(Person.phone)
        await _insert(
            GridPost,
            (
                {
                    "grid": grid_ids[r["grid_code"]],
                    "person": person_ids[r["phone"]],
                    "post": r["post"],
                }
                for r in _records(city.posts)
            ),
        )

        buildings = city.buildings
        inside = shapely.point_on_surface(buildings.geometry.values)
        await _insert(
            Building,
            (
                {
                    "code": r["code"],
                    "name": r["name"],
                    "address": r["address"],
                    "floors": int(r["floors"]),
                    "households": int(r["households"]),
                    "grid": grid_ids.get(r["grid_code"]),
                    "lon": p.x,
                    "lat": p.y,
                    **f,
                }
                for r, f, p in zip(
                    _records(buildings),
                    footprint_values(buildings.geometry.values),
                    inside,
                    strict=True,
                )
            ),
        )

        points = city.service_points
        await _insert(
            ServicePoint,
            (
                {
                    "code": r["code"],
                    "name": r["name"],
                    "kind": r["kind"],
                    "level": r["level"],
                    "area": area_ids.get(r["area_code"]),
                    "grid": grid_ids.get(r["area_code"]),
                    "address": r["address"],
                    "hours": r["hours"],
                    "phone": r["phone"],
                    "lon": g.x,
                    "lat": g.y,
                }
                for r, g in zip(_records(points), points.geometry.values, strict=True)
            ),
        )
    counts = {
        "areas": len(areas),
        "grids": len(grids),
        "people": len(city.people),
        "posts": len(city.posts),
        "buildings": len(buildings),
        "service_points": len(points),
    }
    log.info("demo city loaded: %s", counts)
    return counts


async def clear_city() -> None:
    """Remove every row of the city's tables, children first (used by ``wangge demo --reset``)."""
    engine = Area._meta.db
    async with _transaction(engine):
        for table in (ServicePoint, Building, GridPost, Grid, Person):
            await table.delete(force=True)
        for level in reversed(_LEVELS):
            await Area.delete().where(Area.level == level)
