import pytest
import shapely

from geo.demo import DEMO_GRID_CODE


async def test_lists_the_layers(client):
    r = await client.get("/api/collections")
    assert [c["id"] for c in r.json()["collections"]] == [
        "areas",
        "grids",
        "buildings",
        "service-points",
        "cases",
    ]


async def test_collection_extent_covers_the_demo_city(client, demo_city):
    r = await client.get("/api/collections/grids")
    minx, miny, maxx, maxy = demo_city.grids.total_bounds
    assert r.json()["extent"]["spatial"]["bbox"][0] == pytest.approx([minx, miny, maxx, maxy])


async def test_all_grids_come_back_as_geojson(client, demo_city):
    r = await client.get("/api/collections/grids/items", params={"limit": 10000})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection"
    assert fc["numberMatched"] == fc["numberReturned"] == len(demo_city.grids)
    by_code = demo_city.grids.set_index("code")
    f = next(f for f in fc["features"] if f["id"] == DEMO_GRID_CODE)
    assert f["properties"]["parent_code"] == by_code.loc[DEMO_GRID_CODE, "parent_code"]
    # Stored and served geometry is the generated geometry, to the last digit.
    assert shapely.equals_exact(
        shapely.geometry.shape(f["geometry"]), by_code.loc[DEMO_GRID_CODE].geometry, 0
    )


async def test_paging_follows_next_links_through_every_building(client, demo_city):
    seen, url, params = [], "/api/collections/buildings/items", {"limit": 2000}
    while url:
        fc = (await client.get(url, params=params)).json()
        seen += [f["id"] for f in fc["features"]]
        nxt = [link["href"] for link in fc["links"] if link["rel"] == "next"]
        url, params = (nxt[0], None) if nxt else (None, None)
    assert len(seen) == len(set(seen)) == len(demo_city.buildings)


async def test_bbox_keeps_only_features_whose_box_meets_it(client, demo_city):
    grid = demo_city.grids.set_index("code").loc[DEMO_GRID_CODE].geometry
    box = shapely.box(*grid.bounds)
    r = await client.get(
        "/api/collections/buildings/items",
        params={"bbox": ",".join(map(str, grid.bounds)), "limit": 10000},
    )
    fc = r.json()
    got = {f["id"] for f in fc["features"]}
    b = demo_city.buildings
    expected = set(b.loc[b.geometry.envelope.intersects(box), "code"])
    assert got == expected
    assert 0 < len(got) < len(b)


async def test_filters_by_property(client, demo_city):
    r = await client.get(
        "/api/collections/areas/items", params={"level": "community", "limit": 1000}
    )
    expected = (demo_city.areas["level"] == "community").sum()
    assert r.json()["numberMatched"] == expected
    r = await client.get("/api/collections/buildings/items", params={"grid_code": DEMO_GRID_CODE})
    assert r.json()["numberMatched"] == (demo_city.buildings["grid_code"] == DEMO_GRID_CODE).sum()


async def test_service_points_are_points(client, demo_city):
    fc = (await client.get("/api/collections/service-points/items", params={"limit": 1000})).json()
    assert fc["numberMatched"] == len(demo_city.service_points)
    assert {f["geometry"]["type"] for f in fc["features"]} == {"Point"}


async def test_one_feature_by_id(client):
    r = await client.get(f"/api/collections/grids/items/{DEMO_GRID_CODE}")
    assert r.json()["id"] == DEMO_GRID_CODE
    r = await client.get("/api/collections/grids/items/nope")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/api/collections/roads/items", {}, 404, "not_found"),
        ("/api/collections/grids/items", {"bbox": "1,2,3"}, 400, "invalid_bbox"),
        ("/api/collections/grids/items", {"bbox": "3,2,1,4"}, 400, "invalid_bbox"),
        ("/api/collections/grids/items", {"bbox": "a,b,c,d"}, 400, "invalid_bbox"),
        ("/api/collections/grids/items", {"limit": 0}, 400, "invalid_request"),
        ("/api/collections/grids/items", {"datetime": "yesterday"}, 400, "invalid_datetime"),
        ("/api/collections/grids/items", {"crs": "EPSG:4547"}, 400, "unsupported_crs"),
        ("/api/collections/grids/items", {"offset": -1}, 400, "invalid_request"),
        ("/api/collections/grids/items", {"colour": "red"}, 400, "unknown_parameter"),
    ],
)
async def test_bad_requests_get_a_code(client, path, params, status, code):
    r = await client.get(path, params=params)
    assert r.status_code == status
    assert r.json()["code"] == code
