from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from backend.core.principal import Principal
from backend.emergency import service, switching
from backend.emergency.schemas import (
    CurrentModes,
    KindOut,
    ModeHistory,
    ModeOut,
    SwitchOff,
    SwitchOn,
)

AreaQuery = Annotated[str | None, QueryParameter(max_length=16, description="an area or grid code")]


class EmergencyController(Controller):
    path = "/api/emergency"
    tags = ["emergency"]

    @get("/kinds", summary="Kinds of emergency and the default time-limit factor of each")
    async def kinds(self, principal: NamedDependency[Principal]) -> list[KindOut]:
        return service.kinds()

    @get(
        "/modes",
        summary="Active emergency modes around and inside an area, for the app's banner",
        description=(
            "`factor` is what new clocks get in `area`: the smallest factor of the modes "
            "around it, 1.0 in peacetime."
        ),
    )
    async def current(
        self, principal: NamedDependency[Principal], area: AreaQuery = None
    ) -> CurrentModes:
        return await service.current(area)

    @post(
        "/modes",
        summary="Switch an area into emergency (平急转换)",
        description=(
            "District admins inside their district, city admins anywhere. `factor` overrides "
            "the kind's default, within (0, 1]. The due times of the area's open cases are "
            "recomputed at once; 409 `already_in_emergency` if the area has an active mode. "
            "An area inside (or around) another in emergency may be switched too: a case is "
            "held to the smallest factor around it."
        ),
    )
    async def switch_on(
        self, data: JSONBody[SwitchOn], principal: NamedDependency[Principal]
    ) -> ModeOut:
        return await switching.switch_on(data, principal)

    @post(
        "/modes/{area_code:str}/end",
        status_code=200,
        summary="Switch an area back to peacetime: its cases get their peacetime due times",
        description=(
            "Ends the area's own mode (409 `not_in_emergency` if it has none; a mode around "
            "it is ended at its own area)."
        ),
    )
    async def switch_off(
        self,
        area_code: FromPath[str],
        data: JSONBody[SwitchOff],
        principal: NamedDependency[Principal],
    ) -> ModeOut:
        return await switching.switch_off(area_code, data, principal)

    @get("/history", summary="Every switch, newest first, around and inside an area")
    async def history(
        self,
        principal: NamedDependency[Principal],
        area: AreaQuery = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=2**31 - 1)] = 0,
    ) -> ModeHistory:
        return await service.history(area, limit, offset)
