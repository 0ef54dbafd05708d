"""Case photos over HTTP: upload one to a case (idempotent by client id; cases/photos.py does
it), and serve the photo and its thumbnail only to people who may see the case."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from litestar import Controller, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, MultipartBody
from litestar.response import File

from backend.cases import photos
from backend.cases.photos import PhotoOut
from backend.cases.routes import CaseId
from backend.cases.service import photos_folder
from backend.core.principal import Principal

MAX_BODY_BYTES = 12 * 1024 * 1024  # a photo of up to 10 MB and the form around it
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


def _folder(state: State) -> Path:
    return photos_folder(state.settings)


def served(folder: Path, name: str, content_type: str) -> File:
    """A stored photo file; the caller has checked that the asker may see it."""
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
        data_bytes = await data.file.read()
        stored, created = await photos.upload(
            case_id, data_bytes, data.client_id, principal, state.settings
        )
        return Response(stored, status_code=201 if created else 200)

    @get("/photos/{file_id:str}", summary="A case's photo, to those who may see the case")
    async def photo(
        self, file_id: FromPath[str], principal: NamedDependency[Principal], state: State
    ) -> File:
        row = await photos.visible(file_id, principal)
        return served(_folder(state), row["file_id"], row["content_type"])

    @get("/photos/{file_id:str}/thumbnail", summary="A case photo's 320 px JPEG thumbnail")
    async def thumbnail(
        self, file_id: FromPath[str], principal: NamedDependency[Principal], state: State
    ) -> File:
        row = await photos.visible(file_id, principal)
        return served(_folder(state), row["thumb_id"], "image/jpeg")
