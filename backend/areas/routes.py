from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import FromPath, QueryParameter

from backend.areas import service
from backend.areas.schemas import AreaDetail, TreeNode


class AreasController(Controller):
    path = "/api/areas"
    tags = ["areas"]

    @get("/tree", summary="The administrative tree, city → district → street → community → grid")
    async def tree(
        self,
        root: Annotated[str | None, QueryParameter(description="start at this area's code")] = None,
        depth: Annotated[
            int | None, QueryParameter(ge=0, le=5, description="levels below the root")
        ] = None,
        grids: Annotated[
            bool, QueryParameter(description="include grids under communities")
        ] = True,
    ) -> list[TreeNode]:
        return await service.tree(root, depth, grids)

    @get("/{code:str}", summary="One area: its chain, children and totals")
    async def detail(self, code: FromPath[str]) -> AreaDetail:
        return await service.detail(code)
