"""Sending a broadcast (one item per grid or building of an area), and reading broadcasts.

Sending is idempotent twice over: by the sender's client id, and by area and title while the
first broadcast has an open item (the unique ``open_key``). Either way the answer is the first
broadcast, with 200 instead of 201, and nothing is written.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import asyncpg
from piccolo.custom_types import Combinable

from backend.areas.tables import Area
from backend.buildings.tables import Building
from backend.core import bulk, clock
from backend.core.areas import scope_prefix
from backend.core.db import write_transaction
from backend.core.errors import Conflict, Forbidden, Invalid
from backend.core.events import EventType
from backend.core.principal import Principal
from backend.core.roles import AREA_ROLES
from backend.events.service import NewEvent, append
from backend.grids.tables import Grid
from backend.tasks.rules import chain, due_of, may_send, open_key, text_of
from backend.tasks.schemas import BroadcastIn, BroadcastOut
from backend.tasks.scope import territory_of, visible_broadcast
from backend.tasks.tables import Broadcast, TaskItem

_ITEM_COLUMNS = ("broadcast", "grid_code", "building_id", "status", "result")


async def area_name(code: str) -> str:
    """The name of an area or grid; 422 ``unknown_area`` for a code that names neither."""
    row = await Area.select(Area.name).where(Area.code == code).first()
    if row is None:
        row = await Grid.select(Grid.name).where(Grid.code == code).first()
    if row is None:
        raise Invalid("unknown_area", f"no area or grid {code!r}", area=code)
    return row["name"]


async def counts(ids: list[int]) -> dict[int, tuple[int, int]]:
    """Items and done items of each broadcast, counted in the database."""
    if not ids:
        return {}
    marks = ", ".join("{}" for _ in ids)
    rows = await TaskItem.raw(
        "SELECT broadcast, COUNT(*) AS items,"
        " SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END) AS done"
        f" FROM task_item WHERE broadcast IN ({marks}) GROUP BY broadcast",
        *ids,
    )
    return {r["broadcast"]: (int(r["items"]), int(r["done"] or 0)) for r in rows}


def out(row: dict[str, Any], name: str, tally: tuple[int, int]) -> BroadcastOut:
    items, done = tally
    return BroadcastOut(
        id=row["id"],
        client_id=str(row["client_id"]),
        area_code=row["area_code"],
        area_name=name,
        target=row["target"],
        title=row["title"],
        description=row["description"],
        due_at=None if row["due_at"] is None else row["due_at"].isoformat(),
        created_by=row["created_by"],
        created_at=row["created_at"].isoformat(),
        items=items,
        done=done,
        open=done < items,
    )


async def _answer(row: dict[str, Any]) -> BroadcastOut:
    tally = (await counts([row["id"]])).get(row["id"], (0, 0))
    return out(row, await area_name(row["area_code"]), tally)


async def _targets(area_code: str, target: str) -> list[tuple[str, int | None]]:
    """(grid code, building id or None) for every grid or building of the area."""
    prefix = scope_prefix(area_code) + "%"
    if target == "grid":
        grids = await Grid.select(Grid.code).where(Grid.code.like(prefix)).order_by(Grid.code)
        return [(g["code"], None) for g in grids]
    # Buildings in no grid have nobody to visit them; an import reports them.
    buildings = (
        await Building.select(Building.id, Building.grid.code)
        .where(Building.grid.code.like(prefix))
        .order_by(Building.grid.code)
        .order_by(Building.id)
    )
    return [(b["grid.code"], b["id"]) for b in buildings]


async def _same(client_id: Any, key: str) -> dict[str, Any] | None:
    row = await Broadcast.select().where(Broadcast.client_id == client_id).first()
    return row or await Broadcast.select().where(Broadcast.open_key == key).first()


def _check_sender(row: dict[str, Any], data: BroadcastIn, principal: Principal) -> None:
    if row["client_id"] == data.client_id and row["created_by"] != principal.id:
        raise Conflict("client_id_taken", "this client id belongs to another broadcast")


def _events(
    row: dict[str, Any], targets: list[tuple[str, int | None]], actor: int
) -> list[NewEvent]:
    subject = f"task:{row['id']}"
    summary = {
        "broadcast": row["id"],
        "title": row["title"],
        "target": row["target"],
        "area_code": row["area_code"],
        "due_at": None if row["due_at"] is None else row["due_at"].isoformat(),
    }
    # One for the area's watchers, one per grid for its workers' phones (scopes are prefixes).
    total = summary | {"items": len(targets)}
    created = NewEvent(EventType.task_created, subject, row["area_code"], total, actor)
    per_grid = Counter(grid for grid, _ in targets)
    assigned = [
        NewEvent(
            EventType.task_assigned, subject, grid, summary | {"grid_code": grid, "items": n}, actor
        )
        for grid, n in per_grid.items()
    ]
    return [created, *assigned]


async def send(data: BroadcastIn, principal: Principal) -> tuple[BroadcastOut, bool]:
    """The broadcast, and whether it was made now."""
    if principal.role not in AREA_ROLES:
        reason = "centre staff and admins send tasks"
        raise Forbidden("forbidden", reason, allowed=sorted(AREA_ROLES))
    territory = territory_of(principal)
    now = clock.now()
    title = text_of(data.title, "title")
    name = await area_name(data.area_code)
    if not may_send(territory, data.area_code):
        raise Forbidden("outside_your_area", f"{data.area_code} is not inside your area")
    key = open_key(data.area_code, title)
    earlier = await _same(data.client_id, key)
    if earlier is not None:
        _check_sender(earlier, data, principal)
        return await _answer(earlier), False
    due = due_of(data.due_at, now)
    targets = await _targets(data.area_code, data.target)
    if not targets:
        raise Invalid("no_targets", f"{name} has no {data.target} to send a task to")
    row: dict[str, Any] = {
        "client_id": data.client_id,
        "area_code": data.area_code,
        "target": data.target,
        "title": title,
        "description": data.description.strip(),
        "due_at": due,
        "created_by": principal.id,
        "created_at": now,
        "open_key": key,
    }
    try:
        async with write_transaction(Broadcast._meta.db):
            # Checked again under the write lock: two sends of one task race here.
            earlier = await _same(data.client_id, key)
            if earlier is None:
                inserted = await Broadcast.insert(Broadcast(**row)).returning(Broadcast.id)
                row["id"] = inserted[0]["id"]
                items = [(row["id"], grid, building, "open", "") for grid, building in targets]
                await bulk.insert(TaskItem, _ITEM_COLUMNS, [items])
                await append(_events(row, targets, principal.id))
    except asyncpg.UniqueViolationError:
        # PostgreSQL: the other send committed while this one waited on the unique index.
        earlier = await _same(data.client_id, key)
        if earlier is None:
            raise
    if earlier is not None:
        _check_sender(earlier, data, principal)
        return await _answer(earlier), False
    return out(row, name, (len(targets), 0)), True


async def read(broadcast_id: int, principal: Principal) -> BroadcastOut:
    row, _ = await visible_broadcast(broadcast_id, principal)
    return await _answer(row)


async def listing(
    principal: Principal, open_only: bool | None, limit: int, offset: int
) -> list[BroadcastOut]:
    """The broadcasts that concern the asker, newest first: sent to an area around one of
    their grids or their area, or inside their area, or sent by them."""
    t = territory_of(principal)
    around = sorted({code for g in t.grid_codes for code in chain(g)})
    concern: Combinable = Broadcast.created_by == principal.id
    if around:
        concern = concern | Broadcast.area_code.is_in(around)
    if t.centre_area is not None:
        concern = concern | Broadcast.area_code.is_in(chain(t.centre_area))
        concern = concern | Broadcast.area_code.like(scope_prefix(t.centre_area) + "%")
    query = Broadcast.select().where(concern)
    if open_only is not None:
        still = Broadcast.open_key.is_not_null() if open_only else Broadcast.open_key.is_null()
        query = query.where(still)
    rows = await query.order_by(Broadcast.id, ascending=False).limit(limit).offset(offset)
    tallies = await counts([r["id"] for r in rows])
    names = {code: await area_name(code) for code in {r["area_code"] for r in rows}}
    return [out(r, names[r["area_code"]], tallies.get(r["id"], (0, 0))) for r in rows]
