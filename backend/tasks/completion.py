"""Completion of a broadcast by grid and by building, counted in the database, and the
items as GeoJSON for the live map."""

from __future__ import annotations

from typing import Any

import msgspec
from piccolo.query.functions.aggregate import Count, Sum

from backend.buildings.tables import Building
from backend.core.geojson import Feature
from backend.core.principal import Principal
from backend.grids.tables import Grid
from backend.tasks import service
from backend.tasks.schemas import BuildingStatus, Completion, GridCompletion, ItemFeatures
from backend.tasks.scope import item_scope, visible_broadcast
from backend.tasks.tables import TaskItem

_EMPTY = msgspec.Raw(b'{"type":"GeometryCollection","geometries":[]}')


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


async def _items(broadcast_id: int, principal: Principal) -> tuple[dict, list[Any]]:
    row, territory = await visible_broadcast(broadcast_id, principal)
    where = [TaskItem.broadcast == broadcast_id]
    scope = item_scope(territory, row, principal)
    if scope is not None:
        where.append(scope)
    return row, where


def _all(where: list[Any]) -> Any:
    condition = where[0]
    for more in where[1:]:
        condition = condition & more
    return condition


async def _by_grid(where: list[Any]) -> list[GridCompletion]:
    condition = _all(where)
    totals = (
        await TaskItem.select(
            TaskItem.grid_code,
            Count(TaskItem.id, alias="items"),
            Sum(TaskItem.households, alias="households"),
        )
        .where(condition)
        .group_by(TaskItem.grid_code)
        .order_by(TaskItem.grid_code)
    )
    done = {
        r["grid_code"]: r["done"]
        for r in await TaskItem.select(TaskItem.grid_code, Count(TaskItem.id, alias="done"))
        .where(condition & (TaskItem.status == "done"))
        .group_by(TaskItem.grid_code)
    }
    codes = [r["grid_code"] for r in totals]
    names = {
        r["code"]: r["name"]
        for r in await Grid.select(Grid.code, Grid.name).where(Grid.code.is_in(codes or [""]))
    }
    return [
        GridCompletion(
            grid_code=r["grid_code"],
            grid_name=names.get(r["grid_code"], ""),
            items=int(r["items"]),
            done=int(done.get(r["grid_code"], 0)),
            households=int(r["households"] or 0),
        )
        for r in totals
    ]


async def _buildings(where: list[Any]) -> list[BuildingStatus]:
    items = await TaskItem.select().where(_all(where)).order_by(TaskItem.grid_code, TaskItem.id)
    ids = [i["building_id"] for i in items if i["building_id"] is not None]
    known = {
        b["id"]: b
        for b in await Building.select(
            Building.id, Building.code, Building.name, Building.address, Building.households
        ).where(Building.id.is_in(ids or [0]))
    }
    statuses = []
    for i in items:
        if i["building_id"] is None:
            continue
        b = known.get(i["building_id"], {})
        statuses.append(
            BuildingStatus(
                item=i["id"],
                building_id=i["building_id"],
                building_code=b.get("code"),
                name=b.get("name"),
                address=b.get("address"),
                grid_code=i["grid_code"],
                households_registered=b.get("households"),
                status=i["status"],
                households=i["households"],
                done_by=i["done_by"],
                done_at=_iso(i["done_at"]),
            )
        )
    return statuses


async def completion(broadcast_id: int, principal: Principal) -> Completion:
    """Per grid: items, done, households reached; per building (a building task): its status."""
    row, where = await _items(broadcast_id, principal)
    grids = await _by_grid(where)
    buildings = await _buildings(where) if row["target"] == "building" else []
    tally = (await service.counts([broadcast_id])).get(broadcast_id, (0, 0))
    return Completion(
        broadcast=service.out(row, await service.area_name(row["area_code"]), tally),
        items=sum(g.items for g in grids),
        done=sum(g.done for g in grids),
        households=sum(g.households for g in grids),
        grids=grids,
        buildings=buildings,
    )


async def features(broadcast_id: int, principal: Principal) -> ItemFeatures:
    """Each item's footprint (a building's, or a grid's shape) with its status."""
    row, where = await _items(broadcast_id, principal)
    items = await TaskItem.select().where(_all(where)).order_by(TaskItem.id)
    if row["target"] == "building":
        ids = [i["building_id"] for i in items if i["building_id"] is not None]
        shapes = {
            r["id"]: r["geom"]
            for r in await Building.select(Building.id, Building.geom).where(
                Building.id.is_in(ids or [0])
            )
        }
        key = "building_id"
    else:
        codes = [i["grid_code"] for i in items]
        shapes = {
            r["code"]: r["geom"]
            for r in await Grid.select(Grid.code, Grid.geom).where(Grid.code.is_in(codes or [""]))
        }
        key = "grid_code"
    return ItemFeatures(
        [
            Feature(
                id=str(i["id"]),
                geometry=msgspec.Raw(shapes[i[key]].encode()) if i[key] in shapes else _EMPTY,
                properties={
                    "item": i["id"],
                    "grid_code": i["grid_code"],
                    "building_id": i["building_id"],
                    "status": i["status"],
                    "households": i["households"],
                    "done_at": _iso(i["done_at"]),
                },
            )
            for i in items
        ]
    )
