"""Address search over the city's own places, through HTTP on both databases: word matching
in Chinese, the ranking, and an index that follows the layers."""

from __future__ import annotations

import asyncio

import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from geo.layers import read_layer, write_layer
from tests.backend.case_steps import sign_in

URL = "/api/geocode"


@pytest.fixture
async def operator(client) -> dict[str, str]:
    return (await sign_in(client, "hotline_operator")).headers


async def found(client, headers, q: str, limit: int = 10) -> list[dict]:
    r = await client.get(URL, params={"q": q, "limit": limit}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_only_for_the_signed_in(client):
    r = await client.get(URL, params={"q": "团结"})
    assert r.status_code == 401


async def test_part_of_a_name_and_its_area_find_the_building(client, operator, demo_city):
    places = await found(client, operator, "团结社区 3号楼")
    assert places, "nothing found"
    top = places[0]
    assert top["kind"] == "building"
    assert "团结社区" in top["address"] and "3号楼" in top["name"]
    # "3号楼" is no part of "13号楼"; every answer holds both parts of the query.
    for p in places:
        text = p["name"] + p["address"]
        assert "团结社区" in text and "13号楼" not in p["name"] and "23号楼" not in p["name"]
    # Where it is: the building's own point.
    building = demo_city.buildings.set_index("code").loc[top["code"]]
    centre = building.geometry.envelope.centroid
    assert top["lon"] == pytest.approx(centre.x, abs=1e-6)
    assert top["lat"] == pytest.approx(centre.y, abs=1e-6)


async def test_words_run_together_and_full_width_digits_match(client, operator):
    spaced = await found(client, operator, "团结小区 3号楼", 3)
    together = await found(client, operator, "团结小区３号楼", 3)
    assert spaced == together and spaced[0]["name"] == "团结小区3号楼"


async def test_an_area_named_comes_before_what_lies_in_it(client, operator):
    places = await found(client, operator, "团结社区")
    assert (places[0]["kind"], places[0]["name"]) == ("community", "团结社区")
    assert places[0]["address"].endswith("团结社区")
    assert all(p["kind"] != "community" for p in places[1:])


async def test_service_points_and_house_numbers(client, operator, demo_city):
    point = demo_city.service_points.iloc[0]  # the city's party centre, on a numbered street
    places = await found(client, operator, point["name"])
    assert (places[0]["kind"], places[0]["code"]) == ("point", point["code"])
    number = point["address"].split("社区")[-1]  # the street and house number: 解放路191号
    by_number = await found(client, operator, number)
    assert point["code"] in [p["code"] for p in by_number]


async def test_limit_and_nothing_found(client, operator):
    assert len(await found(client, operator, "号楼", 5)) == 5
    assert await found(client, operator, "不存在的地方") == []
    r = await client.get(URL, params={"q": "团结", "limit": 51}, headers=operator)
    assert r.status_code == 400


async def test_an_import_of_buildings_is_found_in_every_process(scratch_database, tmp_path):
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as api:
        headers = (await sign_in(api, "hotline_operator")).headers
        assert await found(api, headers, "望海楼") == []
        path = tmp_path / "stored.geojson"
        path.write_bytes((await api.get("/api/exports/buildings")).content)
        frame = read_layer(path, "buildings").frame
        frame.loc[0, ["name", "address"]] = ["望海楼", "海勃湾区新华街道团结社区滨河路8号"]
        changed = tmp_path / "buildings.geojson"
        write_layer(frame, changed)
        admin = (await sign_in(api, "city_admin")).headers
        files = {"file": (changed.name, changed.read_bytes())}
        r = await api.post("/api/imports", headers=admin, files=files, data={"kind": "buildings"})
        assert r.status_code == 200, r.text
        r = await api.post(r.json()["links"]["confirm"], headers=admin)
        assert r.status_code == 200, r.text
        # The import's buildings.changed event reaches the live hub, which has the geocoder
        # build its index anew; searches meanwhile answer from the old one.
        for _ in range(100):
            places = await found(api, headers, "滨河路8号")
            if places:
                break
            await asyncio.sleep(0.1)
        assert [(p["code"], p["name"]) for p in places] == [(frame.loc[0, "code"], "望海楼")]
