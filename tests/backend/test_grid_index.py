"""The process's point → grid index without a server: each grid's answer is built once and
handed out again, and placing a point in a grid reads the same chain of areas as before."""

from __future__ import annotations

import asyncio

import shapely

from backend.cases.placement import Place, place
from backend.grids.locator import GridIndex, Located

AREAS = [
    {"code": "C", "name": "city", "level": "city", "parent_code": None},
    {"code": "CD", "name": "district", "level": "district", "parent_code": "C"},
    {"code": "CDS", "name": "street", "level": "street", "parent_code": "CD"},
    {"code": "CDSA", "name": "community", "level": "community", "parent_code": "CDS"},
]


def grid(code: str, parent: str, x: float) -> dict[str, object]:
    geom = shapely.to_geojson(shapely.box(x, 0, x + 1, 1))
    return {"code": code, "name": code, "kind": "community", "parent_code": parent, "geom": geom}


def test_answers_are_built_once_per_grid_and_match_the_lookup() -> None:
    # G2 hangs under a community the area table lacks: no chain, as before.
    index = GridIndex([grid("G1", "CDSA", 0), grid("G2", "NONE", 1)], AREAS)
    built: list[str] = []

    def build(found: Located) -> tuple[str, str]:
        built.append(found.grid.code)
        return found.grid.code, found.area_codes

    first = index.answer(0.5, 0.5, build)
    assert first == ("G1", "C,CD,CDS,CDSA")
    assert index.answer(0.2, 0.8, build) is first
    assert index.answer(1.5, 0.5, build) == ("G2", "")
    assert index.answer(9.0, 9.0, build) is None
    assert sorted(built) == ["G1", "G2"]  # once each, not once per call

    located = index.locate(0.5, 0.5)
    assert located is not None
    assert [a.code for a in located.chain] == ["C", "CD", "CDS", "CDSA"]
    assert located.area_codes == ",".join(a.code for a in located.chain)
    assert index.locate(0.5, 0.5) is located
    assert asyncio.run(place(index, 0.5, 0.5)) == Place("G1", "G1", "C,CD,CDS,CDSA")
