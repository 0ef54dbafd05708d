"""Grids: their pages and staffing, the names of places by code, and the point → grid index
(``GridIndex``, backend/grids/locator.py) that cases, imports, live and positions route with."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from piccolo.query.functions.aggregate import Count, Sum

from backend.areas.schemas import AreaRef
from backend.areas.service import area_rows, chain_of
from backend.areas.tables import Area
from backend.buildings.tables import Building
from backend.core.errors import NotFound
from backend.core.phones import masked_phone
from backend.grids.locator import GridIndex as GridIndex
from backend.grids.locator import Located as Located
from backend.grids.locator import load_grid_index as load_grid_index
from backend.grids.schemas import (
    GridPage,
    GridStaffing,
    PersonRef,
    PostHolder,
    RedProperty,
    Staffing,
)
from backend.grids.staffing import missing_posts
from backend.grids.tables import POST_LABELS, Grid, GridPost
from backend.party.service import grades_of, stars_in
from backend.points.tables import ServicePoint

_POST_ORDER = {p: i for i, p in enumerate(POST_LABELS)}


def staffing_of(held: list[str]) -> Staffing:
    missing = missing_posts(held)
    return Staffing(not missing, missing, [POST_LABELS[p] for p in missing])


async def grid_page(code: str, *, whole_phones: bool) -> GridPage:
    """The grid's page; its post holders' phones masked unless ``whole_phones``."""
    grid = (
        await Grid.select(
            Grid.id,
            Grid.code,
            Grid.name,
            Grid.kind,
            Grid.community.code.as_alias("community_code"),
            Grid.min_lon,
            Grid.min_lat,
            Grid.max_lon,
            Grid.max_lat,
        )
        .where(Grid.code == code)
        .first()
    )
    if grid is None:
        raise NotFound("grid", code)
    posts = await GridPost.select(
        GridPost.post,
        GridPost.person.id,
        GridPost.person.name,
        GridPost.person.phone,
        GridPost.person.active,
    ).where(GridPost.grid == grid["id"])
    posts.sort(key=lambda p: (_POST_ORDER[p["post"]], p["person.name"]))
    totals = (
        await Building.select(
            Count(Building.id, alias="n"), Sum(Building.households, alias="households")
        )
        .where(Building.grid == grid["id"])
        .first()
    ) or {"n": 0, "households": 0}  # not reached: an aggregate has its one row
    areas = {a["code"]: a for a in await area_rows()}
    community = areas[grid["community_code"]]
    grades = await grades_of(p["person.id"] for p in posts)
    red = (
        await ServicePoint.select(
            ServicePoint.code,
            ServicePoint.name,
            ServicePoint.address,
            ServicePoint.phone,
            ServicePoint.lon,
            ServicePoint.lat,
        )
        .where((ServicePoint.grid == grid["id"]) & (ServicePoint.kind == "red_property"))
        .order_by(ServicePoint.code)
    )
    return GridPage(
        code=grid["code"],
        name=grid["name"],
        kind=grid["kind"],
        chain=[
            *chain_of(community["code"], areas),
            AreaRef(community["code"], community["name"], community["level"]),
        ],
        posts=[
            PostHolder(
                p["post"],
                POST_LABELS[p["post"]],
                PersonRef(
                    p["person.id"],
                    p["person.name"],
                    p["person.phone"] if whole_phones else masked_phone(p["person.phone"]),
                ),
                grades.get(p["person.id"]),
                p["person.active"],
            )
            for p in posts
        ],
        # A holder taken off duty holds the post in name only: it counts as vacant.
        staffing=staffing_of([p["post"] for p in posts if p["person.active"]]),
        buildings=totals["n"],
        households=totals["households"] or 0,
        bbox=(grid["min_lon"], grid["min_lat"], grid["max_lon"], grid["max_lat"]),
        red_properties=[RedProperty(**r) for r in red],
        branch_stars=await stars_in(grid["code"], None, exact=True),
    )


async def staffing_list(complete: bool | None) -> list[GridStaffing]:
    grids = await Grid.select(
        Grid.id, Grid.code, Grid.name, Grid.community.code.as_alias("community_code")
    ).order_by(Grid.code)
    held: dict[int, list[str]] = defaultdict(list)
    for p in await GridPost.select(GridPost.grid, GridPost.post).where(
        GridPost.person.active == True  # noqa: E712 (SQL, not a Python comparison)
    ):
        held[p["grid"]].append(p["post"])
    out = [
        GridStaffing(g["code"], g["name"], g["community_code"], staffing_of(held[g["id"]]))
        for g in grids
    ]
    return [g for g in out if complete is None or g.staffing.complete == complete]


async def place_names(codes: Iterable[str]) -> dict[str, str]:
    """The name of each grid or area code among ``codes`` that exists, for answers that show
    where something is."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    areas = await Area.select(Area.code, Area.name).where(Area.code.is_in(wanted))
    grids = await Grid.select(Grid.code, Grid.name).where(Grid.code.is_in(wanted))
    return {r["code"]: r["name"] for r in [*areas, *grids]}
