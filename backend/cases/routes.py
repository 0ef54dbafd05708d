from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, PathParameter

from backend.cases import service
from backend.cases.nearby import Similar
from backend.cases.schemas import CaseIn, CaseOut, Supported, SupportIn, TransitionIn
from backend.core.coords import Crs, Lat, Lon, parse_number
from backend.core.principal import Principal

CaseId = Annotated[int, PathParameter(ge=1, le=2**31 - 1, description="the case's id")]


class CasesController(Controller):
    path = "/api/cases"
    tags = ["cases"]

    @post(
        "/",
        summary="Submit a request, incident or task; the same client_id twice makes one case",
        description="201 when created, 200 when this client_id was already received.",
    )
    async def create(
        self, data: JSONBody[CaseIn], principal: NamedDependency[Principal], state: State
    ) -> Response[CaseOut]:
        case, created = await service.create(data, principal, state.grid_index)
        return Response(case, status_code=201 if created else 200)

    @get(
        "/nearby",
        summary="Open cases of a category within 50 m from the last 24 hours (to join, 附议)",
    )
    async def nearby(
        self,
        lon: Lon,
        lat: Lat,
        category: FromQuery[str],
        principal: NamedDependency[Principal],
        crs: Crs = "wgs84",
    ) -> list[Similar]:
        return await service.nearby(
            parse_number("lon", lon), parse_number("lat", lat), crs, category
        )

    @post(
        "/{case_id:int}/support",
        status_code=200,
        summary='Say "me too" (附议) to a case',
        description=(
            "A case the asker cannot read (404 on GET) may be joined only with the asker's "
            "own place in the body, `{lon, lat, crs}`, within 50 m of the case and within "
            "24 h of its report, as `/api/cases/nearby` offers it; otherwise 404, and nothing "
            "is written."
        ),
    )
    async def support(
        self,
        case_id: CaseId,
        principal: NamedDependency[Principal],
        data: JSONBody[SupportIn | None] = None,
    ) -> Supported:
        return await service.join(case_id, principal, data)

    @get("/pending-requests", summary="Returns, shelvings and voids the asker may decide")
    async def pending_requests(self, principal: NamedDependency[Principal]) -> list[CaseOut]:
        return await service.pending_requests(principal)

    @get("/{case_id:int}", summary="One case, as the asking person may see it")
    async def read(self, case_id: CaseId, principal: NamedDependency[Principal]) -> CaseOut:
        return await service.read(case_id, principal)

    @get("/{case_id:int}/events", summary="The case's timeline")
    async def events(
        self, case_id: CaseId, principal: NamedDependency[Principal]
    ) -> list[dict[str, Any]]:
        return await service.timeline(case_id, principal)

    @post("/{case_id:int}/transitions", status_code=200, summary="Take a workflow action")
    async def act(
        self,
        case_id: CaseId,
        data: JSONBody[TransitionIn],
        principal: NamedDependency[Principal],
        state: State,
    ) -> CaseOut:
        levels = service.department_levels(state.settings)
        return await service.act(case_id, data, principal, levels)
