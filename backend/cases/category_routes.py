"""The category tree: read by the app's picker, changed by the city admin."""

from __future__ import annotations

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from backend.cases import category_admin
from backend.cases.schemas import CategoryIn, CategoryOut, CategoryPatch
from backend.core.principal import Principal


class CategoriesController(Controller):
    path = "/api/categories"
    tags = ["cases"]

    @get(
        "",
        summary="The category tree (groups and their leaves), in code order",
        description=(
            "Retired categories are listed (`retired: true`): old cases keep them, new ones may "
            "not use them. `limits`: by stage (accept, dispatch, handle, close) and priority, "
            "the hours and whether they count calendar hours (else the city's working time)."
        ),
    )
    async def read(self) -> list[CategoryOut]:
        return await category_admin.all_categories()

    @post(
        "",
        summary="Add a group, or a category in a group (city admin)",
        description="409 `code_taken`; 422 `invalid_parent`, `invalid_limits`, `unknown_post`, "
        "`unknown_department`.",
    )
    async def add(
        self, data: JSONBody[CategoryIn], principal: NamedDependency[Principal]
    ) -> CategoryOut:
        return await category_admin.add(data, principal)

    @patch(
        "/{code:str}",
        summary="Rename, move, set limits, default post or department (city admin)",
        description="Only the fields sent change; `limits` replaces the priorities it gives.",
    )
    async def change(
        self,
        code: FromPath[str],
        data: JSONBody[CategoryPatch],
        principal: NamedDependency[Principal],
    ) -> CategoryOut:
        return await category_admin.change(code, data, principal)

    @post(
        "/{code:str}/retire",
        status_code=200,
        summary="Retire a category (a group: with its categories); never deleted (city admin)",
    )
    async def retire(
        self, code: FromPath[str], principal: NamedDependency[Principal]
    ) -> CategoryOut:
        return await category_admin.retire(code, principal)
