from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter

from backend.core.principal import Principal
from backend.positions.patrol_service import patrol_log
from backend.positions.schemas import BatchIn, BatchOut, LatestOut, PatrolOut

PersonId = Annotated[int, PathParameter(ge=1, le=2**31 - 1, description="a grid staff member's id")]
Day = Annotated[str, PathParameter(description="YYYY-MM-DD (local day) or today")]


def _zone(state: State) -> ZoneInfo:
    return ZoneInfo(state.settings.timezone)  # cached by zoneinfo


# "scope" is Litestar's name for the ASGI scope, so the parameter is read under another name.
Scope = Annotated[str, QueryParameter(name="scope", description="a grid or area code")]


class PositionsController(Controller):
    path = "/api/positions"
    tags = ["positions"]

    @get("/latest", summary="Last known positions and presence of the workers under a scope")
    async def latest(
        self, code: Scope, principal: NamedDependency[Principal], state: State
    ) -> LatestOut:
        return await state.positions.latest(principal, code)

    @post(
        "/batch",
        status_code=200,
        summary="Upload positions collected offline; fixes already stored are ignored",
    )
    async def batch(
        self, data: JSONBody[BatchIn], principal: NamedDependency[Principal], state: State
    ) -> BatchOut:
        return await state.positions.upload(principal, data.positions)


class PatrolController(Controller):
    path = "/api/patrol"
    tags = ["positions"]

    @get("/me/{day:str}", summary="Your patrol log of a day")
    async def mine(
        self, day: Day, principal: NamedDependency[Principal], state: State
    ) -> PatrolOut:
        return await patrol_log(principal, principal.id, day, _zone(state), state.positions.store)

    @get(
        "/{person_id:int}/{day:str}",
        summary="A worker's patrol log of a day: distance, time on duty, buildings passed",
    )
    async def of(
        self, person_id: PersonId, day: Day, principal: NamedDependency[Principal], state: State
    ) -> PatrolOut:
        return await patrol_log(principal, person_id, day, _zone(state), state.positions.store)
