"""Anonymous requests over HTTP: submit without signing in, then follow with the tracking code.

Rate-limited per client address (each process counts its own): creating is cheap to abuse,
and guessing codes must stay slow. The limits leave room for the many phones that a mobile
carrier's NAT puts behind one address.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody, MultipartBody, PathParameter
from litestar.response import File

from backend.cases import anonymous, anonymous_photos
from backend.cases.anonymous import AnonymousCaseIn, Tracked, TrackedCase, TrackedTransitionIn
from backend.cases.anonymous_photos import TrackedPhoto
from backend.cases.photo_routes import MAX_BODY_BYTES, PhotoUpload, served
from backend.cases.photos import PhotoOut
from backend.cases.service import photos_folder
from backend.core.openapi_errors import ANSWERS
from backend.core.ratelimit import Rule, per_address

CREATE_LIMIT = Rule("anonymous_create", "20/minute", "anonymous requests from this address")
TRACKING_LIMIT = Rule("anonymous_tracking", "60/minute", "tracking-code look-ups from this address")

Code = Annotated[str, PathParameter(max_length=32, description="the tracking code, ABCDE-FGHJK")]


class AnonymousCasesController(Controller):
    path = "/api/anonymous/cases"
    tags = ["cases"]

    @post(
        "/",
        summary="Submit a request (诉求) without signing in; the answer holds its tracking code",
        description=(
            "201 with `tracking_code` and the case; 200 with the same code when this "
            "client_id was already received. At most 20 a minute from one address."
        ),
        before_request=per_address(CREATE_LIMIT),
    )
    async def create(self, data: JSONBody[AnonymousCaseIn], state: State) -> Response[Tracked]:
        tracked, created = await anonymous.create(data, state.grid_index, state.settings.secret_key)
        return Response(tracked, status_code=201 if created else 200)

    @get(
        "/{code:str}",
        summary="The case a tracking code opens: status and public timeline",
        before_request=per_address(TRACKING_LIMIT),
    )
    async def read(self, code: Code, state: State) -> TrackedCase:
        return await anonymous.read(code, state.settings.secret_key)

    @post(
        "/{code:str}/transitions",
        status_code=200,
        summary="Withdraw, rate (1–5) or reopen the case a tracking code opens",
        before_request=per_address(TRACKING_LIMIT),
    )
    async def act(
        self, code: Code, data: JSONBody[TrackedTransitionIn], state: State
    ) -> TrackedCase:
        return await anonymous.act(code, data, state.settings.secret_key)

    @post(
        "/{code:str}/photos",
        summary="Add a photo to the case a tracking code opens, as its reporter",
        description=(
            "Multipart form: `file`, optional `client_id` (UUID), as for a signed-in "
            "person's photo: 201 when stored, 200 when this client_id was already received. "
            "409 `case_over` once the case is closed, withdrawn, voided or rejected; 409 "
            "`too_many_photos` past 9 of the reporter's."
        ),
        before_request=per_address(TRACKING_LIMIT),
        request_max_body_size=MAX_BODY_BYTES,
        responses={409: ANSWERS[409]},
    )
    async def add_photo(
        self, code: Code, data: MultipartBody[PhotoUpload], state: State
    ) -> Response[PhotoOut]:
        content = await data.file.read()
        stored, created = await anonymous_photos.add(code, content, data.client_id, state.settings)
        return Response(stored, status_code=201 if created else 200)

    @get(
        "/{code:str}/photos",
        summary="The photos of the case a tracking code opens: the reporter's and the staff's",
        before_request=per_address(TRACKING_LIMIT),
    )
    async def photos(self, code: Code, state: State) -> list[TrackedPhoto]:
        return await anonymous_photos.listed(code, state.settings.secret_key)

    @get(
        "/{code:str}/photos/{file_id:str}",
        summary="One photo of the case a tracking code opens",
        before_request=per_address(TRACKING_LIMIT),
    )
    async def photo(self, code: Code, file_id: FromPath[str], state: State) -> File:
        row = await anonymous_photos.file_of(code, file_id, state.settings.secret_key)
        return served(photos_folder(state.settings), row["file_id"], row["content_type"])

    @get(
        "/{code:str}/photos/{file_id:str}/thumbnail",
        summary="A photo's 320 px JPEG thumbnail, with the tracking code",
        before_request=per_address(TRACKING_LIMIT),
    )
    async def thumbnail(self, code: Code, file_id: FromPath[str], state: State) -> File:
        row = await anonymous_photos.file_of(code, file_id, state.settings.secret_key)
        return served(photos_folder(state.settings), row["thumb_id"], "image/jpeg")
