"""Broadcast tasks over HTTP: send and read broadcasts, mark items, their photos."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Literal

from litestar import Controller, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, MultipartBody, PathParameter, QueryParameter
from litestar.response import File

from backend.core.principal import Principal
from backend.tasks import completion, items, photos, service
from backend.tasks.schemas import (
    BroadcastIn,
    BroadcastOut,
    Completion,
    DoneIn,
    ItemFeatures,
    ItemOut,
    TaskPhotoOut,
)

Id = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]
Limit = Annotated[int, QueryParameter(ge=1, le=500)]
Offset = Annotated[int, QueryParameter(ge=0, le=2**31 - 1)]
MAX_PHOTO_BODY = 12 * 1024 * 1024  # a photo of up to 10 MB and the form around it
_SERVED_HEADERS = {
    "Cache-Control": "private, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
}


@dataclass
class PhotoUpload:
    file: UploadFile
    client_id: uuid.UUID | None = None  # the phone's own id: a retry stores nothing new


class TasksController(Controller):
    path = "/api/tasks"
    tags = ["tasks"]

    @post(
        "/",
        summary="Send a task to every grid or every building of an area",
        description=(
            "Centre staff and admins, inside their area. 201 when sent; 200 with the first "
            "broadcast when this client_id was received before, or when the same title is "
            "still open in the same area (nothing new is written)."
        ),
    )
    async def send(
        self, data: JSONBody[BroadcastIn], principal: NamedDependency[Principal]
    ) -> Response[BroadcastOut]:
        sent, created = await service.send(data, principal)
        return Response(sent, status_code=201 if created else 200)

    @get("/", summary="Broadcasts that concern you, newest first")
    async def listing(
        self,
        principal: NamedDependency[Principal],
        open: Annotated[bool | None, QueryParameter(description="open or finished only")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[BroadcastOut]:
        return await service.listing(principal, open, limit, offset)

    @get("/{broadcast_id:int}", summary="One broadcast with its item counts")
    async def read(self, broadcast_id: Id, principal: NamedDependency[Principal]) -> BroadcastOut:
        return await service.read(broadcast_id, principal)

    @get(
        "/{broadcast_id:int}/completion",
        summary="Completion by grid (items, done, households) and by building",
    )
    async def completion(
        self, broadcast_id: Id, principal: NamedDependency[Principal]
    ) -> Completion:
        return await completion.completion(broadcast_id, principal)

    @get(
        "/{broadcast_id:int}/items.geojson",
        summary="The items as GeoJSON (building footprints or grid shapes) with their status",
        media_type="application/geo+json",
    )
    async def features(
        self, broadcast_id: Id, principal: NamedDependency[Principal]
    ) -> ItemFeatures:
        return await completion.features(broadcast_id, principal)


class TaskItemsController(Controller):
    path = "/api/task-items"
    tags = ["tasks"]

    @get("/", summary="Items in your grids (or your area), open first")
    async def listing(
        self,
        principal: NamedDependency[Principal],
        status: Annotated[Literal["open", "done"] | None, QueryParameter()] = None,
        broadcast: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[ItemOut]:
        return await items.my_items(principal, status, broadcast, limit, offset)

    @post(
        "/{item_id:int}/done",
        summary="Mark an item done with a result, households reached and a photo",
        description=(
            "By the people holding a post in the item's grid (403 `not_your_grid`). 200 with "
            "the item; sending the same client_id again changes nothing (an offline retry); "
            "409 `already_done` if someone else marked it."
        ),
        status_code=200,
    )
    async def done(
        self, item_id: Id, data: JSONBody[DoneIn], principal: NamedDependency[Principal]
    ) -> ItemOut:
        marked, _ = await items.mark_done(item_id, data, principal)
        return marked

    @post(
        "/{item_id:int}/photos",
        summary="Add a photo to an item (multipart `file`, `client_id`); then send its id",
        request_max_body_size=MAX_PHOTO_BODY,
    )
    async def photo(
        self,
        item_id: Id,
        data: MultipartBody[PhotoUpload],
        principal: NamedDependency[Principal],
        state: State,
    ) -> Response[TaskPhotoOut]:
        stored, created = await photos.upload(
            item_id,
            await data.file.read(),
            data.client_id or uuid.uuid4(),
            principal,
            state.settings,
        )
        return Response(stored, status_code=201 if created else 200)


class TaskPhotosController(Controller):
    path = "/api/task-photos"
    tags = ["tasks"]

    @get("/{file_id:str}", summary="A task item's photo")
    async def photo(
        self, file_id: FromPath[str], principal: NamedDependency[Principal], state: State
    ) -> File:
        row = await photos.visible(file_id, principal)
        return _served(state, row["file_id"], row["content_type"])

    @get("/{file_id:str}/thumbnail", summary="A task item photo's 320 px JPEG thumbnail")
    async def thumbnail(
        self, file_id: FromPath[str], principal: NamedDependency[Principal], state: State
    ) -> File:
        row = await photos.visible(file_id, principal)
        return _served(state, row["thumb_id"], "image/jpeg")


def _served(state: State, name: str, content_type: str) -> File:
    return File(
        state.settings.data_dir / "photos" / name,
        filename=f"{name}.{content_type.removeprefix('image/')}",
        media_type=content_type,
        headers=_SERVED_HEADERS,
        content_disposition_type="inline",
    )
