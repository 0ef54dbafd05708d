"""Positions and patrol logs over HTTP, on both databases: the last positions under a scope,
offline uploads, patrol logs and who may read them, the app's wiring, and two server processes
agreeing through Redis."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import geopandas as gpd
import httpx
import numpy as np
import pytest
import redis
import shapely
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.auth.principal import principal_of
from backend.auth.tokens import TokenClaims, issue_token
from backend.core.db import use_engine
from backend.core.principal import Principal
from backend.demo import DEMO_PASSWORD
from backend.grids.tables import GridPost
from backend.positions.tables import DutyPeriod, TrackPoint
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE, METRIC_CRS
from tests.backend.test_positions_service import FakeHub

REPO = Path(__file__).resolve().parents[2]
COMMUNITY = DEMO_GRID_CODE[:12]
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def api(scratch_database):
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        client.app.state.hub = FakeHub()
        yield client


async def sign_in(client, role: str) -> tuple[dict[str, str], Principal]:
    r = await client.post(
        "/api/auth/sign-in", json={"phone": DEMO_ACCOUNTS[role], "password": DEMO_PASSWORD}
    )
    body = r.json()
    me = (await client.get("/api/me", headers=bearer(body["token"]))).json()
    found = on_app(client, principal_of, me["id"])  # the app's pool is its loop's
    assert found is not None
    return bearer(body["token"]), found


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def on_app(client, fn, *args):
    """Run ``fn`` on the app's own event loop, as the live socket would."""
    return client.blocking_portal.call(fn, *args)


@pytest.fixture
def grid_shape(demo_city) -> shapely.Polygon:
    return demo_city.grids.set_index("code").loc[DEMO_GRID_CODE].geometry


def at(t: datetime) -> str:
    return t.isoformat()


async def test_the_app_hands_socket_messages_to_positions_and_answers_latest(api, grid_shape):
    positions = api.app.state.positions
    worker_h, worker = await sign_in(api, "grid_worker")
    p = shapely.point_on_surface(grid_shape)
    assert on_app(api, positions.on_message, worker, {"type": "duty", "on": True}) is None
    fix = {"type": "position", "lon": p.x, "lat": p.y, "accuracy": 9, "at": at(datetime.now(UTC))}
    assert on_app(api, positions.on_message, worker, fix) is None
    sent = [m for _, m in api.app.state.hub.sent]
    assert [m["type"] for m in sent] == ["presence", "position"]

    staff_h, _ = await sign_in(api, "community_staff")
    r = await api.get(f"/api/positions/latest?scope={COMMUNITY}", headers=staff_h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scope"] == COMMUNITY
    [entry] = [w for w in body["workers"] if w["person"] == worker.id]
    assert (entry["grid"], entry["on_duty"], entry["lon"], entry["lat"]) == (
        DEMO_GRID_CODE,
        True,
        p.x,
        p.y,
    )
    mine = await api.get(f"/api/positions/latest?scope={DEMO_GRID_CODE}", headers=worker_h)
    assert [w["person"] for w in mine.json()["workers"]] == [worker.id]

    on_app(api, positions.on_disconnect, worker)
    body = (await api.get(f"/api/positions/latest?scope={COMMUNITY}", headers=staff_h)).json()
    assert [w["on_duty"] for w in body["workers"] if w["person"] == worker.id] == [False]


@pytest.mark.parametrize(
    ("role", "scope", "status", "code"),
    [
        ("resident", COMMUNITY, 403, "forbidden"),
        ("grid_leader", COMMUNITY, 403, "forbidden"),
        ("grid_worker", DEMO_GRID_CODE[:-2] + "02", 403, "forbidden"),
        ("community_staff", DEMO_GRID_CODE[:9], 403, "forbidden"),
        ("street_staff", "15030200100", 422, "invalid_scope"),
        ("street_staff", "abc", 422, "invalid_scope"),
        ("street_staff", DEMO_GRID_CODE[:9], 200, None),
        ("city_admin", "150300", 200, None),
    ],
)
async def test_who_may_read_which_scope(api, role, scope, status, code):
    headers, _ = await sign_in(api, role)
    r = await api.get(f"/api/positions/latest?scope={scope}", headers=headers)
    assert r.status_code == status, r.text
    if code:
        assert r.json()["code"] == code


async def test_reading_positions_needs_a_token(api):
    assert (await api.get(f"/api/positions/latest?scope={COMMUNITY}")).status_code == 401
    assert (await api.post("/api/positions/batch", json={"positions": []})).status_code == 401


def walk_through(grid_shape, buildings: gpd.GeoDataFrame, start: datetime):
    """A walk from building to building of the grid (the first six by code), a fix every 8 s
    about 10 m apart; as upload items and as a metric line."""
    stops = buildings.sort_values("code").geometry.to_crs(METRIC_CRS).centroid.iloc[:6]
    line = shapely.LineString([(s.x, s.y) for s in stops])
    steps = np.linspace(0, line.length, int(line.length // 10) + 1)
    points = gpd.GeoSeries(shapely.line_interpolate_point(line, steps), crs=METRIC_CRS)
    ll = points.to_crs(4326)
    items = [
        {"lon": q.x, "lat": q.y, "accuracy": 5, "at": at(start + timedelta(seconds=8 * i))}
        for i, q in enumerate(ll)
    ]
    return items, line


async def test_an_offline_upload_and_the_patrol_log_it_makes(api, demo_city, grid_shape):
    worker_h, _ = await sign_in(api, "grid_worker")
    buildings = demo_city.buildings[demo_city.buildings["grid_code"] == DEMO_GRID_CODE]
    yesterday = datetime.now(SHANGHAI).date() - timedelta(days=1)
    start = datetime.combine(yesterday, datetime.min.time(), SHANGHAI) + timedelta(hours=9)
    items, line = walk_through(grid_shape, buildings, start)
    junk = [{"lon": 500, "lat": 0, "accuracy": 5, "at": at(start)}, 42]
    r = await api.post("/api/positions/batch", json={"positions": items + junk}, headers=worker_h)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "accepted": len(items),
        "duplicates": 0,
        "rejected": [
            {
                "index": len(items),
                "code": "invalid_coordinate",
                "reason": "longitude 500.0 is outside -180..180",
            },
            {
                "index": len(items) + 1,
                "code": "invalid_value",
                "reason": "each position is an object",
            },
        ],
    }
    again = await api.post("/api/positions/batch", json={"positions": items}, headers=worker_h)
    assert again.json() == {"accepted": 0, "duplicates": len(items), "rejected": []}

    log = await api.get(f"/api/patrol/me/{yesterday.isoformat()}", headers=worker_h)
    assert log.status_code == 200, log.text
    body = log.json()
    # The same questions answered independently: geopandas in UTM, buffer and intersect.
    near = buildings.to_crs(METRIC_CRS).intersects(line.buffer(30))
    expected = sorted(buildings.loc[near, "code"])
    assert body["passed"] == expected and len(expected) >= 6
    assert body["buildings_total"] == len(buildings)
    assert body["buildings_passed"] == len(expected)
    assert body["coverage"] == pytest.approx(len(expected) / len(buildings), abs=1e-4)
    # The jitter rule cuts each corner and the last few metres short, by at most the two
    # fixes' accuracies added up (5 + 5 m) on each side of a corner, and never adds.
    corners = len(line.coords) - 2
    assert line.length - 10 * (2 * corners + 1) <= body["distance_m"] <= line.length
    assert body["on_duty_seconds"] == 8 * (len(items) - 1)
    # One walk (no gap), every fix in order.
    assert body["track"] == [[[round(i["lon"], 6), round(i["lat"], 6)] for i in items]]
    assert (body["fixes"], body["date"], body["grids"]) == (
        len(items),
        yesterday.isoformat(),
        [DEMO_GRID_CODE],
    )
    today = (await api.get("/api/patrol/me/today", headers=worker_h)).json()
    assert (today["fixes"], today["distance_m"], today["buildings_passed"]) == (0, 0, 0)
    assert today["track"] == []


async def test_the_day_of_a_patrol_log_is_the_local_day(api, grid_shape):
    worker_h, _ = await sign_in(api, "grid_worker")
    p = shapely.point_on_surface(grid_shape)
    day = datetime.now(SHANGHAI).date() - timedelta(days=2)
    midnight = datetime.combine(day, datetime.min.time(), SHANGHAI)
    # 23:59 the day before and 00:01 local: the first is another day's, though both are UTC's.
    times = [midnight - timedelta(minutes=1), midnight + timedelta(minutes=1)]
    items = [{"lon": p.x, "lat": p.y, "accuracy": 5, "at": at(t)} for t in times]
    await api.post("/api/positions/batch", json={"positions": items}, headers=worker_h)
    body = (await api.get(f"/api/patrol/me/{day.isoformat()}", headers=worker_h)).json()
    assert body["fixes"] == 1 and body["timezone"] == "Asia/Shanghai"


def other_leader_token(api) -> str:
    async def find() -> int:
        row = (
            await GridPost.select(GridPost.person)
            .where((GridPost.post == "leader") & (GridPost.grid.code != DEMO_GRID_CODE))
            .first()
        )
        return row["person"]

    person = on_app(api, find)
    claims = TokenClaims(sub=person, exp=int(time.time()) + 600)
    return issue_token(claims, api.app.state.settings.secret_key)


async def test_who_may_read_whose_patrol_log(api):
    _, worker = await sign_in(api, "grid_worker")
    day = datetime.now(SHANGHAI).date().isoformat()
    url = f"/api/patrol/{worker.id}/{day}"
    for role, status in [
        ("grid_worker", 200),
        ("grid_leader", 200),
        ("community_staff", 200),
        ("street_staff", 200),
        ("district_admin", 200),
        ("grid_police", 403),
        ("resident", 403),
    ]:
        headers, _ = await sign_in(api, role)
        r = await api.get(url, headers=headers)
        assert r.status_code == status, (role, r.text)
    r = await api.get(url, headers=bearer(other_leader_token(api)))
    assert r.status_code == 403
    leader_h, _ = await sign_in(api, "grid_leader")
    _, staff = await sign_in(api, "community_staff")
    assert (await api.get(f"/api/patrol/{staff.id}/{day}", headers=leader_h)).status_code == 404
    assert (await api.get(f"/api/patrol/999999/{day}", headers=leader_h)).status_code == 404
    bad = await api.get(f"/api/patrol/{worker.id}/2026-13-01", headers=leader_h)
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_date")
    assert (await api.get(url)).status_code == 401


async def test_only_grid_staff_upload(api):
    headers, _ = await sign_in(api, "resident")
    r = await api.post("/api/positions/batch", json={"positions": []}, headers=headers)
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    worker_h, _ = await sign_in(api, "grid_worker")
    too_many = {"positions": [{}] * 5001}
    assert (
        await api.post("/api/positions/batch", json=too_many, headers=worker_h)
    ).status_code == 422
    odd = await api.post("/api/positions/batch", json={"positions": 3}, headers=worker_h)
    assert (odd.status_code, odd.json()["code"]) == (422, "invalid_type")


async def test_shutdown_writes_the_buffered_track_and_ends_duties(scratch_database, grid_shape):
    p = shapely.point_on_surface(grid_shape)
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        _, worker = await sign_in(client, "grid_worker")
        positions = client.app.state.positions
        on_app(client, positions.on_message, worker, {"type": "duty", "on": True})
        for i in range(3):
            t = datetime.now(UTC) - timedelta(seconds=3 - i)
            fix = {
                "type": "position",
                "lon": p.x,
                "lat": p.y + i * 1e-5,
                "accuracy": 5,
                "at": at(t),
            }
            assert on_app(client, positions.on_message, worker, fix) is None
    use_engine(scratch_database.engine)
    assert await TrackPoint.count().where(TrackPoint.person == worker.id) == 3
    [period] = await DutyPeriod.select().where(DutyPeriod.person == worker.id)
    assert period["ended_at"] is not None


# -- two processes, one Redis ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "backend.app:create_app_from_env", "--factory"),
            *("--port", str(port), "--log-level", "warning"),
        ],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    return proc, f"http://127.0.0.1:{port}"


def wait_up(proc: subprocess.Popen, base: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"server did not start:\n{log.read_text()}")
        time.sleep(0.2)


async def test_two_server_processes_share_last_positions_through_redis(
    scratch_database, grid_shape, tmp_path
):
    settings = replace(scratch_database.settings, redis_prefix=f"wangge-test:{uuid.uuid4().hex}:")
    env = {
        "DATABASE_URL": settings.database_url,
        "WANGGE_DATA_DIR": str(settings.data_dir),
        "WANGGE_SECRET_KEY": settings.secret_key,
        "WANGGE_ESCALATION_INTERVAL_S": "0",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "WANGGE_REDIS_PREFIX": settings.redis_prefix,
    }
    servers = [serve(env, tmp_path / f"server{i}.log") for i in range(2)]
    try:
        for i, (proc, base) in enumerate(servers):
            wait_up(proc, base, tmp_path / f"server{i}.log")
        (_, first), (_, second) = servers
        async with httpx.AsyncClient(timeout=10) as http:

            async def token(base: str, role: str) -> dict[str, str]:
                r = await http.post(
                    f"{base}/api/auth/sign-in",
                    json={"phone": DEMO_ACCOUNTS[role], "password": DEMO_PASSWORD},
                )
                return bearer(r.json()["token"])

            p = shapely.point_on_surface(grid_shape)
            now = datetime.now(UTC)
            items = [
                {
                    "lon": p.x,
                    "lat": p.y + i * 1e-5,
                    "accuracy": 5,
                    "at": at(now - timedelta(seconds=60 - i)),
                }
                for i in range(5)
            ]
            r = await http.post(
                f"{first}/api/positions/batch",
                json={"positions": items},
                headers=await token(first, "grid_worker"),
            )
            assert r.json()["accepted"] == 5
            r = await http.get(
                f"{second}/api/positions/latest?scope={COMMUNITY}",
                headers=await token(second, "community_staff"),
            )
            [entry] = r.json()["workers"]
            assert (entry["lon"], entry["lat"]) == (items[-1]["lon"], items[-1]["lat"])
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(timeout=10)
        client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
        keys = list(client.scan_iter(match=f"{settings.redis_prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
