"""Security headers on every answer: the field app's pages, API answers, photos, errors of any
kind, and the OpenAPI viewer with its own policy."""

from __future__ import annotations

import io
import uuid
from dataclasses import replace

import pytest
import shapely
from litestar import Litestar, get
from litestar.testing import AsyncTestClient
from PIL import Image

from backend.app import create_app
from backend.core.errors import EXCEPTION_HANDLERS
from backend.core.headers import SecurityHeaders, basemap_origin
from backend.demo import DEMO_PASSWORD
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE

COMMON = {
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "permissions-policy": "geolocation=(self), camera=(self), microphone=()",
}


def directives(csp: str) -> dict[str, list[str]]:
    out = {}
    for part in csp.split(";"):
        name, *values = part.split()
        assert name not in out, f"{name} twice"
        out[name] = values
    return out


def assert_protected(r) -> dict[str, list[str]]:
    for name, value in COMMON.items():
        assert r.headers.get_list(name) == [value], (r.request.url, name)
    assert "strict-transport-security" not in r.headers  # the TLS proxy's to send
    [csp] = r.headers.get_list("content-security-policy")
    policy = directives(csp)
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'none'" in (policy.get("object-src", []) + policy["default-src"])
    return policy


def assert_app_policy(r) -> None:
    policy = assert_protected(r)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no inline script, no eval
    assert policy["style-src"] == ["'self'"]  # styles set through the CSSOM only
    assert policy["base-uri"] == ["'self'"]
    assert {"'self'", "blob:"} <= set(policy["worker-src"])  # MapLibre's workers
    assert {"data:", "blob:"} <= set(policy["img-src"])
    assert {"'self'", "ws://testserver.local", "wss://testserver.local"} <= set(
        policy["connect-src"]
    )


def assert_data_policy(r) -> None:
    policy = assert_protected(r)
    assert policy["default-src"] == ["'none'"]


async def test_the_field_app_pages(client):
    for path in ("/app/", "/app/map", "/app/sw.js", "/app/manifest.webmanifest"):
        r = await client.get(path)
        assert r.status_code == 200, path
        assert_app_policy(r)
    redirect = await client.get("/", follow_redirects=False)
    assert redirect.status_code in (301, 302, 307, 308)
    assert_app_policy(redirect)


async def test_api_answers_and_open311(client):
    for path in (f"/api/grids/{DEMO_GRID_CODE}", "/api/health", "/open311/v2/services.json"):
        r = await client.get(path)
        assert r.status_code == 200, path
        assert_data_policy(r)


async def test_errors_of_every_kind(client):
    answers = [
        await client.get("/api/nothing-here"),  # no route: 404 before any middleware
        await client.get("/nothing-here"),
        await client.get("/app/missing.js"),  # a handler's own 404
        await client.delete("/api/health"),  # 405
        await client.get("/api/me"),  # 401
        await client.get("/api/grids/%00"),  # refused by the NUL middleware
        await client.get("/open311/v2/nothing"),  # Open311's own error shape
    ]
    assert [r.status_code for r in answers] == [404, 404, 404, 405, 401, 400, 404]
    for r in answers:
        assert_protected(r)


async def test_an_unexpected_error():
    @get("/api/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    app = Litestar(
        [boom],
        exception_handlers=EXCEPTION_HANDLERS,
        before_send=[SecurityHeaders()],
        logging_config=None,
    )
    async with AsyncTestClient(app) as c:
        r = await c.get("/api/boom")
    assert r.status_code == 500
    assert_data_policy(r)


async def test_the_schema_viewer_has_its_own_policy(client):
    for path in ("/schema", "/schema/swagger", "/schema/openapi.json"):
        r = await client.get(path)
        assert r.status_code == 200, path
        policy = assert_protected(r)
        assert "'unsafe-inline'" in policy["script-src"]
        assert "https://cdn.jsdelivr.net" in policy["script-src"]
    assert "cdn.jsdelivr.net" not in (await client.get("/app/")).headers["content-security-policy"]


async def test_a_photo(scratch_database, demo_city):
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as api:
        r = await api.post(
            "/api/auth/sign-in",
            json={"phone": DEMO_ACCOUNTS["resident"], "password": DEMO_PASSWORD},
        )
        resident = {"Authorization": f"Bearer {r.json()['token']}"}
        spot = shapely.point_on_surface(
            demo_city.grids.set_index("code").loc[DEMO_GRID_CODE].geometry
        )
        case = await api.post(
            "/api/cases",
            headers=resident,
            json={
                "client_id": str(uuid.uuid4()),
                "kind": "request",
                "category": "1501",
                "description": "3号楼前路灯不亮",
                "lon": spot.x,
                "lat": spot.y,
            },
        )
        assert case.status_code == 201, case.text
        jpeg = io.BytesIO()
        Image.effect_noise((64, 48), 64).convert("RGB").save(jpeg, "JPEG")
        up = await api.post(
            f"/api/cases/{case.json()['id']}/photos",
            files={"file": ("photo.jpg", jpeg.getvalue(), "image/jpeg")},
            headers=resident,
        )
        assert up.status_code == 201, up.text
        photo = await api.get(up.json()["url"], headers=resident)
        assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
        assert_data_policy(photo)  # the route's own nosniff is not repeated


async def test_a_basemap_is_allowed_where_the_map_loads_it(database):
    tiles = "https://t0.tianditu.gov.cn/vec_w/wmts?tk=KEY&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}"
    async with AsyncTestClient(app=create_app(replace(database.settings, basemap_url=tiles))) as c:
        policy = directives((await c.get("/app/map")).headers["content-security-policy"])
    assert "https://t0.tianditu.gov.cn" in policy["img-src"]
    assert "https://t0.tianditu.gov.cn" in policy["connect-src"]
    assert "https://t0.tianditu.gov.cn" not in policy["script-src"]


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)//{z}",
        "https://a.example.cn; script-src *;/{z}",
        "https://a.example.cn 'unsafe-eval'/{z}",
        "ftp://a.example.cn/{z}",
    ],
)
def test_a_basemap_url_cannot_write_into_the_policy(url):
    with pytest.raises(ValueError, match="WANGGE_BASEMAP_URL"):
        basemap_origin(url)


async def test_a_host_header_cannot_write_into_the_policy(client):
    r = await client.get("/app/", headers={"Host": "evil.example; script-src *"})
    connect = directives(r.headers["content-security-policy"])["connect-src"]
    assert connect == ["'self'"]
