"""What every client can count on: health, errors as JSON, the OpenAPI document, the app shell."""

from dataclasses import replace

from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.core.errors import EXCEPTION_HANDLERS


async def test_health(client, database):
    r = await client.get("/api/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["database"] == ("sqlite" if database.kind == "sqlite" else "postgresql")
    assert body["grids_indexed"] > 200


async def test_the_app_is_told_the_basemap_only_when_one_is_set(client, database):
    assert (await client.get("/api/config")).json() == {"basemap_url": None}
    tiles = "https://t0.tianditu.gov.cn/vec_w/wmts?tk=KEY&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}"
    settings = replace(database.settings, basemap_url=tiles)
    async with AsyncTestClient(app=create_app(settings)) as other:
        assert (await other.get("/api/config")).json() == {"basemap_url": tiles}


async def test_unknown_route_is_a_json_404(client):
    r = await client.get("/api/nothing-here")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


async def test_openapi_document_lists_the_api(client):
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path in [
        "/api/health",
        "/api/locate",
        "/api/auth/sign-in",
        "/api/collections/{name}/items",
    ]:
        assert path in paths


async def test_root_redirects_to_the_app(client):
    r = await client.get("/", follow_redirects=False)
    assert r.status_code in (301, 302, 307, 308)
    assert r.headers["location"] == "/app/"


async def test_an_unexpected_error_is_a_500_without_a_trace():
    @get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    app = Litestar([boom], exception_handlers=EXCEPTION_HANDLERS, logging_config=None)
    async with AsyncTestClient(app) as c:
        r = await c.get("/boom")
    assert r.status_code == 500
    assert r.json() == {"status": 500, "code": "internal_error", "reason": "internal server error"}
