import pytest
import shapely

from geo.crs import from_wgs84
from geo.demo import DEMO_GRID_CODE


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


async def test_a_point_in_no_grid_is_a_404_with_a_code(client):
    r = await client.get("/api/locate", params={"lon": 116.39, "lat": 39.91})  # Beijing
    assert r.status_code == 404
    assert r.json()["code"] == "outside_all_grids"
    assert "reason" in r.json()


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
