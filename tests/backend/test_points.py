import pytest

from geo.crs import from_wgs84
from geo.distance import haversine_m


async def test_nearest_are_sorted_with_true_distances(client, demo_city):
    lon, lat = 106.825, 39.68
    r = await client.get("/api/service-points/nearest", params={"lon": lon, "lat": lat, "limit": 5})
    items = r.json()["items"]
    assert len(items) == 5
    d = [i["distance_m"] for i in items]
    assert d == sorted(d)
    pts = demo_city.service_points
    true = haversine_m(lon, lat, pts.geometry.x, pts.geometry.y)
    assert d[0] == pytest.approx(true.min(), abs=0.1)


async def test_nearest_by_kind_from_a_gcj02_point(client, demo_city):
    driver = demo_city.service_points[demo_city.service_points["kind"] == "driver_home"].iloc[0]
    x, y = from_wgs84(driver.geometry.x, driver.geometry.y, "gcj02")
    r = await client.get(
        "/api/service-points/nearest",
        params={"lon": x, "lat": y, "crs": "gcj02", "kind": "driver_home", "limit": 3},
    )
    items = r.json()["items"]
    assert items[0]["code"] == driver["code"]
    assert items[0]["distance_m"] < 0.05
    assert {i["kind"] for i in items} == {"driver_home"}


async def test_within_limits_the_search(client):
    r = await client.get(
        "/api/service-points/nearest", params={"lon": 100.0, "lat": 30.0, "within_m": 1000}
    )
    assert r.status_code == 200
    assert r.json()["items"] == []


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"lon": 106.8, "lat": 39.6, "kind": "karaoke"}, 422, "unknown_kind"),
        ({"lon": 106.8, "lat": 91}, 422, "invalid_coordinate"),
        ({"lon": 106.8, "lat": 39.6, "limit": 0}, 400, "invalid_request"),
        ({"lon": 106.8, "lat": 39.6, "within_m": -5}, 400, "invalid_request"),
    ],
)
async def test_bad_nearest_requests(client, params, status, code):
    r = await client.get("/api/service-points/nearest", params=params)
    assert r.status_code == status
    assert r.json()["code"] == code
