"""红色物业 linked to the grids they serve: named by their file, or found by location."""

from __future__ import annotations

import shapely
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.imports.export import layer_frame
from backend.imports.service import run_import
from backend.points.tables import ServicePoint
from geo.layers import read_layer, write_layer


def inside(demo_city, code: str) -> shapely.Point:
    return shapely.point_on_surface(demo_city.grids.set_index("code").loc[code].geometry)


async def links() -> dict[str, tuple[str | None, bool]]:
    rows = await ServicePoint.select(
        ServicePoint.code, ServicePoint.grid.code.as_alias("grid"), ServicePoint.grid_located
    ).where(ServicePoint.kind == "red_property")
    return {r["code"]: (r["grid"], bool(r["grid_located"])) for r in rows}


def grid_codes(demo_city, community_index: int = 0) -> list[str]:
    community = demo_city.grids["parent_code"].iloc[community_index]
    return demo_city.grids.loc[demo_city.grids["parent_code"] == community, "code"].tolist()


async def test_red_property_without_a_grid_gets_the_one_it_lies_in(
    scratch_database, demo_city, tmp_path
):
    a, b = grid_codes(demo_city)[:2]
    pa, pb = inside(demo_city, a), inside(demo_city, b)
    path = tmp_path / "red.csv"
    path.write_text(
        "code,name,kind,area_code,lon,lat\n"
        f"HW-901,按社区,red_property,{a[:12]},{pa.x},{pa.y}\n"
        f"HW-902,无归属,red_property,,{pb.x},{pb.y}\n"
        # A grid its file names wins over where the point lies.
        f"HW-903,指定网格,red_property,{b},{pa.x},{pa.y}\n"
        "HW-904,城外,red_property,,100.0,30.0\n"
    )
    result = await run_import(read_layer(path, "service-points"))
    assert result.applied, result.problems
    linked = await links()
    assert linked["HW-901"] == (a, True)
    assert linked["HW-902"] == (b, True)
    assert linked["HW-903"] == (b, False)
    assert linked["HW-904"] == (None, False)
    again = await run_import(read_layer(path, "service-points"))
    summary = again.summary()
    assert (summary["added"], summary["changed"], summary["removed"]) == (0, 0, 0)
    exported = tmp_path / "points.gpkg"
    write_layer(await layer_frame("service-points"), exported)
    round_trip = (await run_import(read_layer(exported, "service-points"))).summary()
    assert (round_trip["changed"], round_trip["unchanged"]) == (0, round_trip["features"])
    assert await links() == linked


async def test_a_grid_import_places_red_properties_again(scratch_database, demo_city, tmp_path):
    points = demo_city.service_points
    red = points[points["kind"] == "red_property"].iloc[0]
    served = red["area_code"]
    community = demo_city.grids[demo_city.grids["code"] == served]["parent_code"].item()
    grids_of = demo_city.grids.set_index("code")
    others = grids_of[(grids_of["parent_code"] == community) & (grids_of.index != served)]
    # A neighbour: one that shares a stretch of border with the served grid.
    shared = others.geometry.intersection(grids_of.loc[served].geometry).length
    keeper = shared.idxmax()
    assert shared[keeper] > 0
    # Merge the served grid into a neighbour of the same community: it is removed, so its
    # 红色物业 loses the grid its file named and is placed in the merged grid.
    grids = (await layer_frame("grids")).copy()
    merged = grids.loc[grids["code"].isin([keeper, served])].union_all()
    assert merged.geom_type == "Polygon", "the demo's grids of a community touch"
    grids.loc[grids["code"] == keeper, "geometry"] = [merged]
    grids = grids[grids["code"] != served]
    path = tmp_path / "grids.gpkg"
    write_layer(grids, path)
    result = await run_import(read_layer(path, "grids"))
    assert result.applied, result.blocking
    assert (await links())[red["code"]] == (keeper, True)


async def test_the_grid_page_lists_a_red_property_found_by_location(
    scratch_database, demo_city, tmp_path
):
    grid = grid_codes(demo_city, 3)[0]
    p = inside(demo_city, grid)
    path = tmp_path / "red.csv"
    path.write_text(f"code,name,kind,lon,lat\nHW-950,新红色物业,red_property,{p.x},{p.y}\n")
    assert (await run_import(read_layer(path, "service-points"))).applied
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        page = (await client.get(f"/api/grids/{grid}")).json()
    assert "HW-950" in [r["code"] for r in page["red_properties"]]
