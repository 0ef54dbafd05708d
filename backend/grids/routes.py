from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.params import FromPath, QueryParameter

from backend.areas import service as area_service
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

    @get(
        "/locate",
        summary="The grid containing a point, with its community, street and district",
        description=(
            "A point in the city but in no grid (a gap an imported city may leave) answers "
            "`grid: null` with the areas of the smallest one containing it; a point outside "
            "every area is a 404 `outside_all_grids`."
        ),
    )
    async def locate(self, lon: Lon, lat: Lat, state: State, crs: Crs = "wgs84") -> Location:
        x, y = wgs84_point(parse_number("lon", lon), parse_number("lat", lat), crs)
        index: GridIndex = state.grid_index
        found = index.locate(x, y)
        if found is not None:
            grid: AreaRef | None = AreaRef(found.grid.code, found.grid.name, "grid")
            chain = found.chain
        else:
            grid, chain = None, await _areas_around(x, y)
        at = {a.level: a for a in chain}
        return Location(
            point=Point(x, y),
            crs=crs,
            grid=grid,
            community=at.get("community"),
            street=at.get("street"),
            district=at.get("district"),
            city=at.get("city"),
        )


async def _areas_around(lon: float, lat: float) -> list[AreaRef]:
    """The smallest area containing a point in no grid, and the areas above it; 404 when the
    point is outside every area of the city."""
    code = await area_service.smallest_area_at(lon, lat)
    if code is None:
        raise ApiError(
            404,
            "outside_all_grids",
            f"the point ({lon:.6f}, {lat:.6f}) lies in no grid of this city",
            lon=lon,
            lat=lat,
        )
    by_code = {a["code"]: a for a in await area_service.area_rows()}
    area = by_code[code]
    return [*area_service.chain_of(code, by_code), AreaRef(code, area["name"], area["level"])]


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
