"""Items: a grid's people mark theirs done (idempotent by the phone's id), and list them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
from piccolo.custom_types import Combinable

from backend.buildings.tables import Building
from backend.core import clock
from backend.core.areas import scope_prefix
from backend.core.db import write_transaction
from backend.core.errors import ApiError, Conflict, Forbidden, Invalid, NotFound
from backend.core.events import EventType
from backend.core.principal import Principal
from backend.events.service import NewEvent, append
from backend.tasks.rules import households_of, may_mark, text_of
from backend.tasks.schemas import DoneIn, ItemOut
from backend.tasks.scope import territory_of
from backend.tasks.tables import Broadcast, TaskItem, TaskPhoto


async def _item(item_id: int) -> dict[str, Any]:
    row = await TaskItem.select().where(TaskItem.id == item_id).first()
    if row is None:
        raise NotFound("task item", item_id)
    return row


async def markable(item_id: int, principal: Principal) -> dict[str, Any]:
    """The item, if the asker holds a post in its grid; 403 ``not_your_grid`` otherwise."""
    item = await _item(item_id)
    if not may_mark(territory_of(principal), item["grid_code"]):
        raise Forbidden(
            "not_your_grid",
            f"this item belongs to grid {item['grid_code']}, where you hold no post",
            grid_code=item["grid_code"],
        )
    return item


def _already(item: dict[str, Any]) -> ApiError:
    return Conflict(
        "already_done",
        "this item was marked done by someone else",
        done_by=item["done_by"],
        done_at=item["done_at"].isoformat(),
    )


async def _check_photo(photo_id: int | None, item_id: int) -> None:
    if photo_id is None:
        return
    found = await TaskPhoto.count().where((TaskPhoto.id == photo_id) & (TaskPhoto.item == item_id))
    if not found:
        raise Invalid("unknown_photo", f"no photo {photo_id} uploaded to this item")


def _same_id(stored: Any, sent: UUID) -> bool:
    # asyncpg returns its own UUID type: compared as text, both databases agree.
    return stored is not None and str(stored) == str(sent)


async def mark_done(item_id: int, data: DoneIn, principal: Principal) -> tuple[ItemOut, bool]:
    """The item, and whether this call marked it (False: the same client id did before)."""
    item = await markable(item_id, principal)
    if item["status"] == "done":
        if _same_id(item["client_id"], data.client_id):
            return (await described([item]))[0], False
        raise _already(item)
    result = text_of(data.result, "result")
    households = households_of(data.households)
    elsewhere = await TaskItem.count().where(TaskItem.client_id == data.client_id)
    if elsewhere:
        raise Conflict("client_id_taken", "this client id marked another item")
    await _check_photo(data.photo_id, item_id)
    now = clock.now()
    values: dict[str, Any] = {
        "status": "done",
        "result": result,
        "households": households,
        "photo_id": data.photo_id,
        "done_by": principal.id,
        "done_at": now,
        "client_id": data.client_id,
    }
    try:
        async with write_transaction(TaskItem._meta.db):
            changed = (
                await TaskItem.update(**values)
                .where((TaskItem.id == item_id) & (TaskItem.status == "open"))
                .returning(TaskItem.id)
            )
            if changed:
                await _close_if_last(item["broadcast"])
                await append([_event(item, values, principal.id)])
    except asyncpg.UniqueViolationError:
        raise Conflict("client_id_taken", "this client id marked another item") from None
    fresh = await _item(item_id)
    if not changed:  # marked by another request between our read and our write
        if not _same_id(fresh["client_id"], data.client_id):
            raise _already(fresh)
        return (await described([fresh]))[0], False
    return (await described([fresh]))[0], True


async def _close_if_last(broadcast_id: int) -> None:
    """The last item done frees the area and title for a new broadcast."""
    left = await TaskItem.count().where(
        (TaskItem.broadcast == broadcast_id) & (TaskItem.status == "open")
    )
    if left == 0:
        await Broadcast.update({Broadcast.open_key: None}).where(Broadcast.id == broadcast_id)


def _event(item: dict[str, Any], values: dict[str, Any], actor: int) -> NewEvent:
    payload = {
        "broadcast": item["broadcast"],
        "item": item["id"],
        "grid_code": item["grid_code"],
        "building_id": item["building_id"],
        "result": values["result"],
        "households": values["households"],
        "photo_id": values["photo_id"],
        "done_by": actor,
        "at": values["done_at"].isoformat(),
    }
    subject = f"task:{item['broadcast']}"
    return NewEvent(EventType.task_item_done, subject, item["grid_code"], payload, actor)


async def described(items: list[dict[str, Any]]) -> list[ItemOut]:
    """Items with their broadcast's title and due time, their building and photo."""
    broadcasts = {item["broadcast"] for item in items}
    buildings = {item["building_id"] for item in items} - {None}
    photos = {item["photo_id"] for item in items} - {None}
    heads = {
        r["id"]: r
        for r in await Broadcast.select(Broadcast.id, Broadcast.title, Broadcast.due_at).where(
            Broadcast.id.is_in(sorted(broadcasts) or [0])
        )
    }
    places = {
        r["id"]: r
        for r in await Building.select(Building.id, Building.name, Building.address).where(
            Building.id.is_in(sorted(buildings) or [0])
        )
    }
    files = {
        r["id"]: r["file_id"]
        for r in await TaskPhoto.select(TaskPhoto.id, TaskPhoto.file_id).where(
            TaskPhoto.id.is_in(sorted(photos) or [0])
        )
    }
    return [_item_out(i, heads[i["broadcast"]], places.get(i["building_id"]), files) for i in items]


def _item_out(
    i: dict[str, Any], head: dict[str, Any], place: dict[str, Any] | None, files: dict[int, str]
) -> ItemOut:
    file_id = files.get(i["photo_id"])
    return ItemOut(
        id=i["id"],
        broadcast=i["broadcast"],
        title=head["title"],
        grid_code=i["grid_code"],
        building_id=i["building_id"],
        building_name=None if place is None else place["name"],
        address=None if place is None else place["address"],
        status=i["status"],
        result=i["result"],
        households=i["households"],
        photo_id=i["photo_id"],
        photo_url=None if file_id is None else f"/api/task-photos/{file_id}",
        done_by=i["done_by"],
        done_at=None if i["done_at"] is None else i["done_at"].isoformat(),
        due_at=None if head["due_at"] is None else head["due_at"].isoformat(),
    )


async def my_items(
    principal: Principal,
    status: str | None,
    broadcast: int | None,
    limit: int,
    offset: int,
) -> list[ItemOut]:
    """Items in the asker's grids (or area, for centre staff): open first, then by id."""
    t = territory_of(principal)
    where: Combinable = TaskItem.grid_code.is_in(sorted(t.grid_codes or {""}))
    if t.centre_area is not None:
        where = where | TaskItem.grid_code.like(scope_prefix(t.centre_area) + "%")
    query = TaskItem.select().where(where)
    if status is not None:
        query = query.where(TaskItem.status == status)
    if broadcast is not None:
        query = query.where(TaskItem.broadcast == broadcast)
    rows = (
        await query.order_by(TaskItem.status, ascending=False)
        .order_by(TaskItem.id)
        .limit(limit)
        .offset(offset)
    )
    return await described(rows)
