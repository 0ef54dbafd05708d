"""What a re-import may remove, what the removal takes with it, and one import at a time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from geopandas import GeoDataFrame

from backend.areas.tables import Area
from backend.cases.tables import Case
from backend.grids.tables import Grid, GridPost
from backend.imports.rows import Diff, Incoming, field, stored_frame
from backend.people.tables import Person
from backend.points.tables import ServicePoint
from geo.validate import Problem, find_crossings

# The stored rows a file may remove are those under what the file names: the communities its
# grids belong to, the grids its buildings fall in, the areas its areas contain, the kinds of
# its points. A file of one community's grids then never empties the rest of the city.
_SCOPE_FIELD = {
    "areas": "parent_code",
    "grids": "parent_code",
    "buildings": "grid_code",
    "service-points": "kind",
}


def removal_scope(kind: str, incoming: Incoming) -> Callable[[tuple[Any, ...]], bool]:
    """A test for stored rows: may this file remove it if the file lacks its code?

    >>> import numpy as np
    >>> columns = [np.array([v], dtype=object) for v in ("一", "community", "C1", None)]
    >>> keep = removal_scope("grids", Incoming("grids", ["G1"], columns))
    >>> keep(("二", "community", "C1", None)), keep(("三", "community", "C2", None))
    (True, False)
    """
    at = field(kind, _SCOPE_FIELD[kind])
    scope = incoming.column(_SCOPE_FIELD[kind]).tolist()
    named = set(incoming) if kind == "areas" else set(scope)
    return lambda row: row[at] in named


async def consequences(kind: str, removed: list[str]) -> list[Problem]:
    """What removing ``removed`` would break (blocking) or clear (reported)."""
    if not removed:
        return []
    if kind == "areas":
        return await _areas_in_use(removed)
    if kind == "grids":
        return await _grid_links(removed)
    return []


async def _areas_in_use(removed: list[str]) -> list[Problem]:
    """Grids, areas kept and cases under an area the file would remove: the database refuses
    the first two (their link to it is restrict), and a case would be owned by nothing."""
    grids = await Grid.select(Grid.community.code.as_alias("code")).where(
        Grid.community.code.is_in(removed)
    )
    areas = await Area.select(Area.parent.code.as_alias("code")).where(
        Area.parent.code.is_in(removed) & Area.code.not_in(removed)
    )
    cases = await Case.select(Case.owner_code.as_alias("code")).where(
        Case.owner_code.is_in(removed)
    )
    problems = [
        Problem("area_in_use", (c,), f"area {c} is missing from the file but {n} {what} under it")
        for rows, what in ((grids, "grids lie"), (areas, "areas kept lie"), (cases, "cases are"))
        for c, n in Counter(r["code"] for r in rows).items()
    ]
    people = await Person.select(Person.area.code.as_alias("code")).where(
        Person.area.code.is_in(removed)
    )
    points = await ServicePoint.select(ServicePoint.area.code.as_alias("code")).where(
        ServicePoint.area.code.is_in(removed)
    )
    links = Counter(r["code"] for r in [*people, *points])
    return problems + [
        Problem("links_cleared", (c,), f"{n} people and service points lose their area {c}")
        for c, n in links.items()
    ]


async def _grid_links(removed: list[str]) -> list[Problem]:
    posts = await GridPost.select(GridPost.grid.code.as_alias("code")).where(
        GridPost.grid.code.is_in(removed)
    )
    points = await ServicePoint.select(ServicePoint.grid.code.as_alias("code")).where(
        ServicePoint.grid.code.is_in(removed)
    )
    return [
        Problem("posts_removed", (c,), f"removing grid {c} removes its {n} posts")
        for c, n in Counter(r["code"] for r in posts).items()
    ] + [
        Problem("links_cleared", (c,), f"{n} service points lose their grid {c}")
        for c, n in Counter(r["code"] for r in points).items()
    ]


async def still_inside(kind: str, incoming: Incoming, changes: Diff) -> list[Problem]:
    """Stored areas and grids the file leaves as they are, under an area whose outline it
    changes: each must still lie inside the new outline (`child_outside_parent`, with the m²
    outside; blocking)."""
    if kind != "areas" or not changes.changed:
        return []
    changed = set(changes.changed)
    at = field("areas", "geom")
    outlines = {c: incoming[c][at] for c in changed}
    parents = GeoDataFrame({"code": list(outlines)}, geometry=list(outlines.values()), crs=4326)
    problems = []
    for children in (await stored_frame("areas"), await stored_frame("grids")):
        kept = children[
            children["parent_code"].isin(changed) & ~children["code"].isin(list(incoming))
        ]
        problems += [
            Problem(
                "child_outside_parent",
                p.codes,
                f"{p.codes[0]}, kept as stored, lies {p.area_m2:.1f} m² outside the new "
                f"outline of {p.codes[1]}",
                p.area_m2,
                p.geometry,
            )
            for p in find_crossings(kept, parents)
        ]
    return problems
