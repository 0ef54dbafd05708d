from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import FromPath, QueryParameter

from backend.areas.schemas import AreaRef
from backend.coords import Crs, Lat, Lon, parse_number, wgs84_point
from backend.errors import ApiError
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

    @get("/grids/{code:str}", summary="A grid's page: its areas, posts and staffing")
    async def grid(self, code: FromPath[str]) -> GridPage:
        return await service.grid_page(code)

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
