"""Case photos: upload one to a case (idempotent by the phone's client id, stored by the rules
every photo follows: ``backend.core.photo_files.store``), with its timeline event, and find
one for the people who may see its case."""

from __future__ import annotations

import re
import uuid
from typing import Any

import msgspec

from backend.cases import service
from backend.cases.tables import CasePhoto
from backend.core.errors import Conflict, NotFound
from backend.core.events import EventType
from backend.core.photo_files import store
from backend.core.principal import Principal
from backend.core.settings import Settings
from backend.events.service import NewEvent, append

_FILE_ID = re.compile(r"^[0-9a-f]{32}$")


class PhotoOut(msgspec.Struct):
    id: int
    url: str
    thumbnail_url: str
    width: int
    height: int


def _out(row: dict[str, Any]) -> PhotoOut:
    url = f"/api/photos/{row['file_id']}"
    return PhotoOut(row["id"], url, f"{url}/thumbnail", row["width"], row["height"])


async def upload(
    case_id: int,
    data: bytes,
    client_id: uuid.UUID | None,
    principal: Principal,
    settings: Settings,
) -> tuple[PhotoOut, bool]:
    """The stored photo, and whether this call stored it (False: the same client id was sent
    before). 404 when the case is not the asker's to see."""
    case = await service.read(case_id, principal)
    return await add(case.id, case.owner_code, data, client_id, principal.id, settings)


async def add(
    case_id: int,
    owner_code: str,
    data: bytes,
    client_id: uuid.UUID | None,
    uploader: int | None,
    settings: Settings,
) -> tuple[PhotoOut, bool]:
    """A photo stored for a case its uploader may add to (None: a tracking code's holder), and
    whether this call stored it; the caller has checked that right."""
    client_id = client_id or uuid.uuid4()

    async def earlier() -> PhotoOut | None:
        row = await CasePhoto.select().where(CasePhoto.client_id == client_id).first()
        if row is None:
            return None
        if row["case_id"] != case_id or row["uploaded_by"] != uploader:
            raise Conflict("client_id_taken", "this client id belongs to another photo")
        return _out(row)

    async def record(columns: dict[str, Any]) -> PhotoOut:
        row = {"client_id": client_id, "case_id": case_id, "uploaded_by": uploader, **columns}
        inserted = await CasePhoto.insert(CasePhoto(**row)).returning(CasePhoto.id)
        out = _out({**row, "id": inserted[0]["id"]})
        payload = {"photo": out.id, "url": out.url, "thumbnail_url": out.thumbnail_url}
        event = NewEvent(EventType.case_photo, f"case:{case_id}", owner_code, payload, uploader)
        await append([event])
        return out

    return await store(data, settings, CasePhoto._meta.db, earlier, record)


async def visible(file_id: str, principal: Principal) -> dict[str, Any]:
    """The photo's row, if the asker may see its case (404 alike otherwise)."""
    row = None
    if _FILE_ID.match(file_id):
        row = await CasePhoto.select().where(CasePhoto.file_id == file_id).first()
    if row is None:
        raise NotFound("photo", file_id)
    try:
        await service.read(row["case_id"], principal)
    except NotFound:
        raise NotFound("photo", file_id) from None  # the case's id is not theirs to learn
    return row
