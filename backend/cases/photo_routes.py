"""Case photos over HTTP: upload one to a case (idempotent by client id), and serve the
photo and its thumbnail only to people who may see the case."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, MultipartBody
from litestar.response import File

from backend.cases import service
from backend.cases.routes import CaseId
from backend.cases.schemas import CaseOut
from backend.cases.tables import CasePhoto
from backend.core import photo_gate
from backend.core.db import write_transaction
from backend.core.errors import Conflict, NotFound
from backend.core.events import EventType
from backend.core.photo_files import staged
from backend.core.principal import Principal
from backend.events.service import NewEvent, append

MAX_BODY_BYTES = 12 * 1024 * 1024  # a photo of up to 10 MB and the form around it
_FILE_ID = re.compile(r"^[0-9a-f]{32}$")
# A file id names one unchanging file; "private" because only some people may see it.
_SERVED_HEADERS = {
    "Cache-Control": "private, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
}


@dataclass
class PhotoUpload:
    file: UploadFile
    # The phone's own id for this upload: a retry after a lost answer stores nothing new.
    client_id: uuid.UUID | None = None


class PhotoOut(msgspec.Struct):
    id: int
    url: str
    thumbnail_url: str
    width: int
    height: int


def _folder(state: State) -> Path:
    return state.settings.data_dir / "photos"


def _out(row: dict[str, Any]) -> PhotoOut:
    url = f"/api/photos/{row['file_id']}"
    return PhotoOut(row["id"], url, f"{url}/thumbnail", row["width"], row["height"])


async def _by_client_id(client_id: uuid.UUID) -> dict[str, Any] | None:
    return await CasePhoto.select().where(CasePhoto.client_id == client_id).first()


def _same_sender(row: dict[str, Any], case_id: int, principal: Principal) -> PhotoOut:
    if row["case_id"] != case_id or row["uploaded_by"] != principal.id:
        raise Conflict("client_id_taken", "this client id belongs to another photo")
    return _out(row)


async def _record(
    case: CaseOut, client_id: uuid.UUID, row: dict[str, Any], principal: Principal
) -> tuple[dict[str, Any], bool]:
    """Insert the photo's row and its timeline event; (the row, False) when the same client
    id got there first."""
    async with write_transaction(CasePhoto._meta.db):
        # Checked again under the write lock: two sends of one photo race here.
        earlier = await _by_client_id(client_id)
        if earlier is not None:
            return earlier, False
        inserted = await CasePhoto.insert(CasePhoto(**row)).returning(CasePhoto.id)
        row = {**row, "id": inserted[0]["id"]}
        out = _out(row)
        payload = {"photo": out.id, "url": out.url, "thumbnail_url": out.thumbnail_url}
        event = NewEvent(
            EventType.case_photo, f"case:{case.id}", case.owner_code, payload, principal.id
        )
        await append([event])
    return row, True


async def _visible_photo(file_id: str, principal: Principal) -> dict[str, Any]:
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


def _served(folder: Path, name: str, content_type: str) -> File:
    return File(
        folder / name,
        filename=f"{name}.{content_type.removeprefix('image/')}",  # for "save as" in a browser
        media_type=content_type,
        headers=_SERVED_HEADERS,
        content_disposition_type="inline",
    )


class PhotosController(Controller):
    path = "/api"
    tags = ["cases"]

    @post(
        "/cases/{case_id:int}/photos",
        summary="Add a photo to a case: JPEG, PNG or WebP up to 10 MB, stored without metadata",
        description=(
            "Multipart form: `file`, optional `client_id` (UUID). 201 when stored, 200 when "
            "this client_id was already received. The photo is re-encoded upright, at most "
            "1600 px, with no EXIF (no GPS); a 320 px JPEG thumbnail is made beside it. 413 "
            "`image_too_large` when its header declares more pixels than the server decodes "
            "(`WANGGE_MAX_IMAGE_PIXELS`); 503 `busy` with Retry-After when too many photos are "
            "being decoded at once."
        ),
        request_max_body_size=MAX_BODY_BYTES,
    )
    async def upload(
        self,
        case_id: CaseId,
        data: MultipartBody[PhotoUpload],
        principal: NamedDependency[Principal],
        state: State,
    ) -> Response[PhotoOut]:
        case = await service.read(case_id, principal)  # 404 when the case is not theirs to see
        client_id = data.client_id or uuid.uuid4()
        earlier = await _by_client_id(client_id)
        if earlier is not None:
            return Response(_same_sender(earlier, case_id, principal), status_code=200)
        prepared = await photo_gate.prepare(await data.file.read(), state.settings)
        async with staged(_folder(state), prepared) as files:
            row = {
                "client_id": client_id,
                "case_id": case_id,
                "file_id": files.file_id,
                "thumb_id": files.thumb_id,
                "content_type": prepared.info.content_type,
                "width": prepared.info.width,
                "height": prepared.info.height,
                "bytes": len(prepared.photo),
                "uploaded_by": principal.id,
                "created_at": datetime.now(UTC),
            }
            stored, created = await _record(case, client_id, row, principal)
            if created:
                files.keep()
        if not created:
            # The same upload, sent twice at once, was stored by the other request.
            return Response(_same_sender(stored, case_id, principal), status_code=200)
        return Response(_out(stored), status_code=201)

    @get("/photos/{file_id:str}", summary="A case's photo, to those who may see the case")
    async def photo(
        self, file_id: FromPath[str], principal: NamedDependency[Principal], state: State
    ) -> File:
        row = await _visible_photo(file_id, principal)
        return _served(_folder(state), row["file_id"], row["content_type"])

    @get("/photos/{file_id:str}/thumbnail", summary="A case photo's 320 px JPEG thumbnail")
    async def thumbnail(
        self, file_id: FromPath[str], principal: NamedDependency[Principal], state: State
    ) -> File:
        row = await _visible_photo(file_id, principal)
        return _served(_folder(state), row["thumb_id"], "image/jpeg")
