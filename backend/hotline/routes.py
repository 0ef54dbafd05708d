"""The 12345 hotline desk over HTTP (operators only): calls, call backs, callers."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, PathParameter

from backend.core.principal import Principal
from backend.hotline import service
from backend.hotline.schemas import Call, CallbackIn, CallerHistory, CallIn, CallOut

PhonePath = Annotated[str, PathParameter(pattern=r"^\+?[0-9-]{5,20}$", description="as entered")]


class HotlineController(Controller):
    path = "/api/hotline"
    tags = ["hotline"]

    @post(
        "/calls",
        summary="Enter a 12345 call: the case (source hotline) and its tracking code, sent to "
        "the caller by text message",
        description=(
            "201 with the case id and tracking code; 200 with the same when this client_id "
            "was sent before (the message is sent again only if it failed). `sms_sent` false "
            "with `sms_error`: the call is entered, read the code out to the caller."
        ),
    )
    async def take(
        self, data: JSONBody[CallIn], principal: NamedDependency[Principal], state: State
    ) -> Response[CallOut]:
        out, made = await service.take(data, principal, state.grid_index, state.settings)
        return Response(out, status_code=201 if made else 200)

    @get(
        "/callbacks",
        summary="回访: closed calls of the centre's area whose caller has not rated them yet",
    )
    async def callbacks(self, principal: NamedDependency[Principal]) -> list[Call]:
        return await service.callbacks(principal)

    @post(
        "/callbacks/{case_id:int}",
        status_code=200,
        summary="Record the caller's rating (1–5) and comment: the case's rating, in 满意率",
    )
    async def call_back(
        self,
        case_id: FromPath[int],
        data: JSONBody[CallbackIn],
        principal: NamedDependency[Principal],
    ) -> Call:
        return await service.call_back(case_id, data, principal)

    @get("/callers/{phone:str}", summary="A caller's earlier calls about the centre's area")
    async def caller(
        self, phone: PhonePath, principal: NamedDependency[Principal]
    ) -> CallerHistory:
        return await service.caller(phone, principal)
