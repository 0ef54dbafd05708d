from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.params import FromPath, QueryParameter

from backend.areas.schemas import AreaRef
from backend.auth.service import bearer_token, principal_from_token
from backend.core.coords import Crs, Lat, Lon, parse_number, wgs84_point
from backend.core.errors import ApiError
from backend.core.roles import Role
from backend.grids import service
from backend.grids.locator import GridIndex
from backend.grids.schemas import GridPage, GridStaffing, Location, Point


class GridsController(Controller):
    path = "/api"
    tags = ["grids"]

    @get("/grids/staffing", summary="Every grid's staffing (一格一长一警一专多兼)")
    async def staffing(
        self,
        complete: Annotated[
            bool | None, QueryParameter(description="only complete or incomplete grids")
        ] = None,
    ) -> list[GridStaffing]:
        return await service.staffing_list(complete)

    @get(
        "/grids/{code:str}",
        summary="A grid's page: its areas, posts and staffing",
        description=(
            "Open to all. Post holders' phones are masked (`138****5678`) unless the request "
            "is signed in by staff (any role but resident) or the city publishes them "
            "(`WANGGE_PUBLISH_STAFF_PHONES=1`)."
        ),
    )
    async def grid(self, code: FromPath[str], request: Request, state: State) -> GridPage:
        whole = state.settings.publish_staff_phones or await _staff(request, state)
        return await service.grid_page(code, whole_phones=whole)

    @get("/locate", summary="The grid containing a point, with its community, street and district")
    async def locate(self, lon: Lon, lat: Lat, state: State, crs: Crs = "wgs84") -> Location:
        x, y = wgs84_point(parse_number("lon", lon), parse_number("lat", lat), crs)
        index: GridIndex = state.grid_index
        found = index.locate(x, y)
        if found is None:
            raise ApiError(
                404,
                "outside_all_grids",
                f"the point ({x:.6f}, {y:.6f}) lies in no grid of this city",
                lon=x,
                lat=y,
            )
        g = found.grid
        return Location(
            point=Point(x, y),
            crs=crs,
            grid=AreaRef(g.code, g.name, "grid"),
            community=found.at("community"),
            street=found.at("street"),
            district=found.at("district"),
            city=found.at("city"),
        )


async def _staff(request: Request, state: State) -> bool:
    """Whether the request is signed in by staff. A resident's account is anybody's to make
    (sign-up), so it opens no more than a visitor sees; a stale token is no error on a page
    open to all: its reader sees what anybody sees."""
    token = bearer_token(request)
    if token is None:
        return False
    try:
        principal = await principal_from_token(token, state.settings)
    except ApiError:
        return False
    return principal.role != Role.resident
