"""Photos of task items: checked and cleaned by the same rules as a case's photos
(``backend.core.photos``: JPEG, PNG or WebP by content, at most 10 MB, no metadata, 1600 px,
a 320 px thumbnail) under the same limits on decoding (``backend.core.photo_gate``), stored
beside them under data/photos and idempotent by the phone's client id (all of it
``backend.core.photo_files.store``), and served to the people whose work covers the item's
grid."""

from __future__ import annotations

import uuid
from typing import Any

from backend.core.errors import Conflict, NotFound
from backend.core.photo_files import store
from backend.core.principal import Principal
from backend.core.settings import Settings
from backend.tasks.items import markable
from backend.tasks.rules import sees_grid
from backend.tasks.schemas import TaskPhotoOut
from backend.tasks.scope import territory_of
from backend.tasks.tables import TaskItem, TaskPhoto


def out(row: dict[str, Any]) -> TaskPhotoOut:
    url = f"/api/task-photos/{row['file_id']}"
    return TaskPhotoOut(row["id"], url, f"{url}/thumbnail", row["width"], row["height"])


async def _earlier(client_id: uuid.UUID, item_id: int, principal: Principal) -> TaskPhotoOut | None:
    row = await TaskPhoto.select().where(TaskPhoto.client_id == client_id).first()
    if row is None:
        return None
    if row["item"] != item_id or row["uploaded_by"] != principal.id:
        raise Conflict("client_id_taken", "this client id belongs to another photo")
    return out(row)


async def upload(
    item_id: int, data: bytes, client_id: uuid.UUID, principal: Principal, settings: Settings
) -> tuple[TaskPhotoOut, bool]:
    """The stored photo, and whether this call stored it."""
    await markable(item_id, principal)

    async def record(columns: dict[str, Any]) -> TaskPhotoOut:
        row = {"client_id": client_id, "item": item_id, "uploaded_by": principal.id, **columns}
        inserted = await TaskPhoto.insert(TaskPhoto(**row)).returning(TaskPhoto.id)
        return out({**row, "id": inserted[0]["id"]})

    return await store(
        data,
        settings,
        TaskPhoto._meta.db,
        lambda: _earlier(client_id, item_id, principal),
        record,
    )


async def visible(file_id: str, principal: Principal) -> dict[str, Any]:
    """The photo's row, if the asker's work covers its item's grid or they sent the task."""
    row = None
    if len(file_id) == 32 and all(c in "0123456789abcdef" for c in file_id):
        row = await TaskPhoto.select().where(TaskPhoto.file_id == file_id).first()
    if row is None:
        raise NotFound("photo", file_id)
    item = (
        await TaskItem.select(TaskItem.grid_code, TaskItem.broadcast.created_by)
        .where(TaskItem.id == row["item"])
        .first()
    )
    t = territory_of(principal)
    if item is None or not (
        sees_grid(t, item["grid_code"]) or item["broadcast.created_by"] == principal.id
    ):
        raise NotFound("photo", file_id)
    return row
