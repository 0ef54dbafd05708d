"""Odd and hostile input against the real app: always a 4xx with a code, never a 500."""

import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.auth import routes as auth_routes
from backend.demo import DEMO_PASSWORD
from geo.demo import DEMO_GRID_CODE


@pytest.mark.parametrize(
    ("method", "path", "params", "status", "code"),
    [
        ("GET", "/api/collections/grids/items", {"offset": 10**20}, 400, "invalid_request"),
        ("GET", "/api/collections/areas/items", {"level": "\x00"}, 400, "invalid_value"),
        (
            "GET",
            "/api/collections/grids/items",
            {"kind": ["community", "village"]},
            400,
            "repeated_parameter",
        ),
        ("GET", "/api/grids/%00", {}, 400, "invalid_value"),
        ("GET", "/api/collections/grids/items/%00", {}, 400, "invalid_value"),
        ("GET", "/api/locate", {"lon": "106.8", "lat": "1e400"}, 422, "invalid_coordinate"),
        ("GET", "/api/locate", {"lon": "", "lat": "39.6"}, 400, "invalid_request"),
        ("GET", "/app/a%00.js", {}, 400, "invalid_value"),
        ("GET", "/app/" + "a" * 5000 + ".js", {}, 404, "not_found"),
        ("GET", "/api/areas/" + "9" * 3000, {}, 404, "not_found"),
    ],
)
async def test_odd_input_is_a_4xx_with_a_code(client, method, path, params, status, code):
    r = await client.request(method, path, params=params)
    body = r.json()
    assert body["reason"]
    assert (r.status_code, body["code"]) == (status, code)


async def test_wrong_method_names_the_allowed_ones(client):
    r = await client.post("/api/health")
    assert r.status_code == 405
    assert r.json()["code"] == "method_not_allowed"
    assert "GET" in r.headers["allow"]


@pytest.mark.parametrize(
    "content",
    [b"{phone:", b'{"phone": "\xff"}', b"[" * 100_000 + b"]" * 100_000],
    ids=["not JSON", "not UTF-8", "nested too deeply"],
)
async def test_malformed_json_body(client, content):
    r = await client.post(
        "/api/auth/sign-in", content=content, headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["code"] == "malformed_body"


@pytest.mark.parametrize(
    ("password", "refused"),
    [(rb'"pw\u0000"', True), (rb'"pw\\\u0000"', True), (rb'"pw\\u0000"', False)],
    ids=["NUL", "backslash and NUL", "a backslash, then the letters u0000"],
)
async def test_nul_in_a_json_string_is_refused_whatever_the_database(client, password, refused):
    # SQLite would store it and PostgreSQL refuse it: refused before either sees it.
    r = await client.post(
        "/api/auth/sign-in",
        content=b'{"phone": "13900000001", "password": ' + password + b"}",
        headers={"content-type": "application/json"},
    )
    if refused:
        assert (r.status_code, r.json()["code"]) == (400, "invalid_value")
    else:
        assert r.status_code == 401


async def test_password_longer_than_allowed_is_refused_before_hashing(client):
    r = await client.post("/api/auth/sign-in", json={"phone": "13900000001", "password": "x" * 129})
    assert r.status_code == 422
    assert (r.json()["code"], r.json()["field"]) == ("invalid_value", "password")


async def test_non_ascii_token_is_a_401(client):
    r = await client.get("/api/me", headers={"Authorization": "Bearer abc.é".encode()})
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")


async def test_unknown_phone_costs_a_password_check_too(client, monkeypatch):
    calls = []

    def counting(password, stored):
        calls.append(stored)
        return False

    monkeypatch.setattr(auth_routes, "check_password", counting)
    r = await client.post(
        "/api/auth/sign-in", json={"phone": "13999999999", "password": "whatever"}
    )
    assert r.status_code == 401
    assert len(calls) == 1


async def test_sign_in_is_rate_limited_per_client(database):
    async with AsyncTestClient(app=create_app(database.settings)) as c:
        codes = [
            (await c.post("/api/auth/sign-in", json={"phone": "1", "password": "x"})).status_code
            for _ in range(31)
        ]
    assert codes[:30] == [422] * 30  # refused bodies count too: they are counted first
    assert codes[30] == 429


async def test_grid_page_is_unaffected_by_the_odd_requests(client):
    r = await client.get(f"/api/grids/{DEMO_GRID_CODE}")
    assert r.status_code == 200
    assert DEMO_PASSWORD
