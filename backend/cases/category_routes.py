"""The category tree as the app's picker needs it: codes, names, parents, time limits."""

from __future__ import annotations

import json

import msgspec
from litestar import get

from backend.cases.tables import Category


class CategoryOut(msgspec.Struct):
    code: str
    name: str
    parent: str | None
    post: str | None  # the grid post that receives it by default; None on a group
    limits_hours: dict[str, float]  # hours to close, by priority; empty on a group


@get(
    "/api/categories",
    summary="The category tree (groups and their leaves), in code order",
    tags=["cases"],
    cache=60,
)
async def categories() -> list[CategoryOut]:
    rows = await Category.select().order_by(Category.code)
    return [
        CategoryOut(r["code"], r["name"], r["parent"], r["post"], json.loads(r["limits"]))
        for r in rows
    ]
