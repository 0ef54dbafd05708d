"""OGC API – Features as GIS software reads it: GDAL's OAPIF driver (what QGIS stands on, via
pyogrio's bundled GDAL) and OWSLib against a running ``wangge serve``, plus the parts of the
standard the in-process client checks: landing page, conformance, extents, links, ``datetime``,
``crs``, ``limit`` and queryables, and the ``cases`` collection's visibility."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pyogrio
import pytest
import pytest_asyncio
from owslib.ogcapi.features import Features

from backend.collections.ogc import CONFORMANCE, CRS84
from backend.demo import DEMO_PASSWORD
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE
from tests.backend.case_steps import demo_spot, report_body, sign_in
from tests.conftest import _database_copy
from tests.served import serve, stop, wait_up

LAYERS = ["areas", "grids", "buildings", "service-points", "cases"]
CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
# A page far smaller than the layers, so that every reader has to follow ``next`` links.
PAGE = 50


def _rels(body: dict) -> dict[str, dict]:
    return {link["rel"]: link for link in body["links"]}


# --- in process ---------------------------------------------------------------------------


async def test_landing_page_links_what_a_client_needs(client):
    r = await client.get("/api/")
    assert r.status_code == 200
    rels = _rels(r.json())
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["type"].startswith("application/vnd.oai.openapi+json")
    for rel in ("service-desc", "service-doc", "conformance", "data"):
        assert (await client.get(rels[rel]["href"])).status_code == 200, rel
    api = (await client.get(rels["service-desc"]["href"])).json()
    assert "/api/collections/{name}/items" in api["paths"]
    conf = (await client.get(rels["conformance"]["href"])).json()["conformsTo"]
    assert CORE in conf and set(conf) == set(CONFORMANCE)


async def test_every_collection_has_extent_and_links(client, demo_city):
    body = (await client.get("/api/collections")).json()
    assert [c["id"] for c in body["collections"]] == LAYERS
    by_id = {c["id"]: c for c in body["collections"]}
    minx, miny, maxx, maxy = demo_city.grids.total_bounds
    grids = by_id["grids"]
    assert grids["extent"]["spatial"]["bbox"][0] == pytest.approx([minx, miny, maxx, maxy])
    assert grids["extent"]["spatial"]["crs"] == CRS84
    for c in body["collections"]:
        rels = _rels(c)
        assert rels["items"]["type"] == "application/geo+json"
        assert {"self", "items", "http://www.opengis.net/def/rel/ogc/1.0/queryables"} <= set(rels)
        assert c["crs"] == [CRS84]


async def test_items_carry_links_counts_and_a_time_stamp(client):
    r = await client.get("/api/collections/buildings/items", params={"limit": 7, "offset": 7})
    assert r.headers["content-type"].startswith("application/geo+json")
    assert r.headers["content-crs"] == f"<{CRS84}>"
    fc = r.json()
    assert fc["numberReturned"] == 7 < fc["numberMatched"]
    assert datetime.fromisoformat(fc["timeStamp"]) > datetime.now(UTC) - timedelta(minutes=1)
    rels = _rels(fc)
    assert "offset=14" in rels["next"]["href"] and "offset=0" in rels["prev"]["href"]
    assert rels["collection"]["href"].endswith("/api/collections/buildings")
    last = await client.get(
        "/api/collections/buildings/items",
        params={"limit": 7, "offset": fc["numberMatched"] - 3},
    )
    assert last.json()["numberReturned"] == 3
    assert "next" not in _rels(last.json())


async def test_a_limit_above_the_maximum_is_served_as_the_maximum(client, demo_city):
    r = await client.get("/api/collections/buildings/items", params={"limit": 10**6})
    assert r.status_code == 200
    assert r.json()["numberReturned"] == min(len(demo_city.buildings), 10_000)


async def test_one_feature_has_links(client):
    r = await client.get(f"/api/collections/grids/items/{DEMO_GRID_CODE}", params={"f": "json"})
    assert r.status_code == 200
    rels = _rels(r.json())
    assert rels["self"]["href"].endswith(f"/api/collections/grids/items/{DEMO_GRID_CODE}")
    assert rels["collection"]["href"].endswith("/api/collections/grids")


@pytest.mark.parametrize("crs", [CRS84, "[OGC:CRS84]"])
async def test_crs84_is_accepted(client, crs):
    r = await client.get("/api/collections/grids/items", params={"crs": crs, "bbox-crs": crs})
    assert r.status_code == 200
    r = await client.get(f"/api/collections/grids/items/{DEMO_GRID_CODE}", params={"crs": crs})
    assert r.status_code == 200


async def test_datetime_is_ignored_by_layers_without_time(client):
    plain = (await client.get("/api/collections/grids/items")).json()["numberMatched"]
    for value in ("2020-01-01", "2020-01-01T00:00:00Z/..", "../2020-01-01"):
        r = await client.get("/api/collections/grids/items", params={"datetime": value})
        assert r.status_code == 200
        assert r.json()["numberMatched"] == plain


async def test_queryables_are_a_json_schema_of_the_filters(client):
    r = await client.get("/api/collections/areas/queryables")
    assert r.headers["content-type"].startswith("application/schema+json")
    body = r.json()
    assert body["type"] == "object" and set(body["properties"]) == {"level", "parent_code"}
    cases = (await client.get("/api/collections/cases/queryables")).json()
    assert {"status", "category", "kind"} <= set(cases["properties"])


async def _report(client, session, spot, category: str, description: str) -> int:
    body = report_body(spot, category=category, description=description)
    r = await client.post("/api/cases", json=body, headers=session.headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def _case_ids(client, headers=None, **params) -> set[int]:
    r = await client.get(
        "/api/collections/cases/items", params={"limit": 10_000, **params}, headers=headers
    )
    assert r.status_code == 200, r.text
    return {int(f["id"]) for f in r.json()["features"]}


async def test_cases_collection_shows_what_the_asker_may_see(client, demo_city):
    resident = await sign_in(client, "resident")
    leader = await sign_in(client, "grid_leader")
    spot = demo_spot(demo_city)
    public = await _report(client, resident, spot, "1501", "路灯不亮 电话13812345678")
    private = await _report(client, resident, spot, "1101", "邻居噪音")  # a dispute: private

    anyone = await _case_ids(client)
    assert public in anyone and private not in anyone
    assert private in await _case_ids(client, leader.headers)
    assert private in await _case_ids(client, resident.headers)
    r = await client.get(f"/api/collections/cases/items/{private}")
    assert r.status_code == 404
    r = await client.get(f"/api/collections/cases/items/{private}", headers=leader.headers)
    assert r.status_code == 200

    feature = (await client.get(f"/api/collections/cases/items/{public}")).json()
    assert feature["geometry"]["coordinates"] == pytest.approx(list(spot))
    props = feature["properties"]
    assert "13812345678" not in str(props) and "138****5678" in props["description"]
    assert "reporter" not in props and "contact_phone" not in props
    for bad in ("abc", "0x1", "9" * 30):
        r = await client.get(f"/api/collections/cases/items/{bad}")
        assert r.status_code == 404


async def test_cases_datetime_filters_by_time_reported(client, demo_city):
    resident = await sign_in(client, "resident")
    case = await _report(client, resident, demo_spot(demo_city), "1501", "井盖缺失")
    today = datetime.now(UTC).date()
    assert case in await _case_ids(client, datetime=today.isoformat())
    assert case in await _case_ids(client, datetime=f"{today - timedelta(days=1)}T00:00:00Z/..")
    assert case not in await _case_ids(client, datetime=f"../{today - timedelta(days=1)}")
    assert case not in await _case_ids(client, datetime=f"{today + timedelta(days=1)}/..")
    body = (await client.get("/api/collections/cases")).json()
    start, end = body["extent"]["temporal"]["interval"][0]
    feature = (await client.get(f"/api/collections/cases/items/{case}")).json()
    reported = datetime.fromisoformat(feature["properties"]["created_at"])
    assert datetime.fromisoformat(start) <= reported <= datetime.fromisoformat(end)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"datetime": "2026-13-01"}, "invalid_datetime"),
        ({"datetime": "2026-02-01/2026-01-01"}, "invalid_datetime"),
        ({"datetime": "../.."}, "invalid_datetime"),
        ({"datetime": "a/b/c"}, "invalid_datetime"),
        ({"crs": "http://www.opengis.net/def/crs/EPSG/0/4547"}, "unsupported_crs"),
        ({"bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"}, "unsupported_crs"),
    ],
)
async def test_bad_ogc_parameters_get_a_code(client, params, code):
    r = await client.get("/api/collections/cases/items", params=params)
    assert (r.status_code, r.json()["code"]) == (400, code)


# --- against a running server, read by GDAL and OWSLib --------------------------------------


@dataclass
class City:
    base: str
    public_case: int
    private_case: int
    matched: dict[str, int]  # numberMatched of each layer for an anonymous asker
    log: Path  # the server's access log


@pytest_asyncio.fixture(scope="module")
async def city(
    city_template: tuple[str, str], tmp_path_factory: pytest.TempPathFactory, demo_city
) -> AsyncIterator[City]:
    kind, template = city_template
    data_dir = tmp_path_factory.mktemp(f"ogc-{kind}")
    async with _database_copy(kind, template, data_dir) as db:
        server = serve(db.settings, data_dir)
        try:
            await wait_up(server)
            async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
                r = await http.post(
                    "/api/auth/sign-in",
                    json={"phone": DEMO_ACCOUNTS["resident"], "password": DEMO_PASSWORD},
                )
                headers = {"Authorization": f"Bearer {r.json()['token']}"}
                spot = demo_spot(demo_city)
                ids = []
                for category in ("1501", "1101"):
                    body = report_body(spot, category=category, client_id=str(uuid.uuid4()))
                    r = await http.post("/api/cases", json=body, headers=headers)
                    assert r.status_code == 201, r.text
                    ids.append(r.json()["id"])
                matched = {}
                for name in LAYERS:
                    r = await http.get(f"/api/collections/{name}/items", params={"limit": 1})
                    matched[name] = r.json()["numberMatched"]
            yield City(server.base, ids[0], ids[1], matched, server.log)
        finally:
            stop(server)


def test_gdal_oapif_is_bundled():
    assert "OAPIF" in pyogrio.list_drivers()


async def test_gdal_reads_every_collection_through_its_pages(city):
    source = f"OAPIF:{city.base}/api/"
    layers = await asyncio.to_thread(pyogrio.list_layers, source)
    assert sorted(name for name, _ in layers) == sorted(LAYERS)
    for name in LAYERS:
        info = await asyncio.to_thread(pyogrio.read_info, source, layer=name)
        assert 'AUTHORITY["OGC","CRS84"]' in info["crs"], name
        frame = await asyncio.to_thread(
            pyogrio.read_dataframe, source, layer=name, fid_as_index=False, PAGE_SIZE=str(PAGE)
        )
        assert len(frame) == city.matched[name], name
        assert frame.geometry.notna().all(), name
    assert city.matched["grids"] > PAGE and city.matched["buildings"] > PAGE


async def test_gdal_asks_the_server_for_a_bbox_as_qgis_does_for_a_view(city, demo_city):
    box = demo_city.grids.set_index("code").loc[DEMO_GRID_CODE].geometry.bounds
    frame = await asyncio.to_thread(
        pyogrio.read_dataframe,
        f"OAPIF:{city.base}/api/",
        layer="buildings",
        bbox=box,
        PAGE_SIZE=str(PAGE),
    )
    async with httpx.AsyncClient(base_url=city.base) as http:
        r = await http.get(
            "/api/collections/buildings/items",
            params={"bbox": ",".join(map(str, box)), "limit": 10_000},
        )
    served = {f["id"] for f in r.json()["features"]}
    # GDAL sends the box and then also drops what meets it only by its envelope: a subset.
    assert set(frame["code"]) <= served and len(frame) > 0
    # The box went to the server, with the CRS84 that GDAL names in crs and bbox-crs.
    asked = [line for line in city.log.read_text().splitlines() if "&bbox=" in line]
    assert asked and all("bbox-crs=" in line and "200 OK" in line for line in asked)
    assert len(served) < city.matched["buildings"]


async def test_gdal_sees_only_public_cases(city):
    frame = await asyncio.to_thread(
        pyogrio.read_dataframe, f"OAPIF:{city.base}/api/", layer="cases", PAGE_SIZE=str(PAGE)
    )
    ids = set(frame["id"].astype(int))
    assert city.public_case in ids and city.private_case not in ids


def _all_items(api: Features, name: str) -> list[dict]:
    """Every feature of a layer, a page at a time, as OWSLib's user would fetch them."""
    features: list[dict] = []
    while True:
        page = api.collection_items(name, limit=PAGE, offset=len(features))
        features += page["features"]
        if not any(link["rel"] == "next" for link in page["links"]):
            return features


def _read_with_owslib(base: str) -> dict:
    api = Features(f"{base}/api/")
    landing = api.links
    conformance = api.conformance()["conformsTo"]
    collections = api.collections()["collections"]
    items = {c["id"]: _all_items(api, c["id"]) for c in collections}
    queryables = api.collection_queryables("grids")
    one = api.collection_item("grids", DEMO_GRID_CODE)
    return {
        "landing": landing,
        "conformance": conformance,
        "collections": {c["id"]: api.collection(c["id"]) for c in collections},
        "items": items,
        "queryables": queryables,
        "one": one,
    }


async def test_owslib_reads_landing_conformance_collections_and_pages(city):
    got = await asyncio.to_thread(_read_with_owslib, city.base)
    assert {"service-desc", "conformance", "data"} <= {link["rel"] for link in got["landing"]}
    assert CORE in got["conformance"]
    assert list(got["collections"]) == LAYERS
    assert got["collections"]["grids"]["extent"]["spatial"]["bbox"]
    for name, features in got["items"].items():
        ids = [f["id"] for f in features]
        assert len(ids) == len(set(ids)) == city.matched[name], name
    assert "parent_code" in got["queryables"]["properties"]
    assert got["one"]["id"] == DEMO_GRID_CODE
    case_ids = {int(f["id"]) for f in got["items"]["cases"]}
    assert city.public_case in case_ids and city.private_case not in case_ids


# --- GeoPackage exports ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "geometry_type"),
    [
        ("areas", "MultiPolygon"),
        ("grids", "MultiPolygon"),
        ("buildings", "MultiPolygon"),
        ("service-points", "Point"),
    ],
)
async def test_exported_geopackage_declares_its_geometry_type_and_crs(
    client, tmp_path, kind, geometry_type
):
    r = await client.get(f"/api/exports/{kind}", params={"format": "gpkg"})
    assert r.status_code == 200
    path = tmp_path / f"{kind}.gpkg"
    path.write_bytes(r.content)
    info = pyogrio.read_info(path)
    assert (info["geometry_type"], info["crs"]) == (geometry_type, "EPSG:4326")
    served = await client.get(f"/api/collections/{kind}/items", params={"limit": 1})
    assert info["features"] == served.json()["numberMatched"]
    frame = pyogrio.read_dataframe(path)
    assert set(frame.geom_type) == {geometry_type}
