"""Positions through the real live socket: uvicorn server processes and `websockets` clients, on
both databases; two processes on one Redis."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import redis
import shapely
import websockets

from backend.auth.tokens import TokenClaims, issue_token
from backend.core.roles import GRID_ROLES
from backend.demo import DEMO_PASSWORD
from backend.grids.tables import Grid, GridPost
from backend.people.tables import Person
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE

REPO = Path(__file__).resolve().parents[2]
COMMUNITY = DEMO_GRID_CODE[:12]
REDIS_URL = "redis://127.0.0.1:6379/0"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "backend.app:create_app_from_env"),
                *("--factory", "--port", str(self.port), "--log-level", "warning"),
            ],
            cwd=REPO,
            env={**os.environ, **env},
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )

    def wait_up(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base}/api/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                pytest.fail(f"server did not start:\n{self.log.read_text()}")
            time.sleep(0.2)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def token(self, role: str) -> str:
        r = httpx.post(
            f"{self.base}/api/auth/sign-in",
            json={"phone": DEMO_ACCOUNTS[role], "password": DEMO_PASSWORD},
        )
        return r.json()["token"]

    def socket(self, role: str) -> websockets.connect:
        return websockets.connect(f"ws://127.0.0.1:{self.port}/api/live?token={self.token(role)}")


def servers(scratch_database, tmp_path: Path, n: int, **extra: str) -> list[Server]:
    settings = scratch_database.settings
    env = {
        "DATABASE_URL": settings.database_url,
        "WANGGE_DATA_DIR": str(settings.data_dir),
        "WANGGE_SECRET_KEY": settings.secret_key,
        "WANGGE_ESCALATION_INTERVAL_S": "0",
        **extra,
    }
    made = [Server(env, tmp_path / f"server{i}.log") for i in range(n)]
    for s in made:
        s.wait_up()
    return made


@pytest.fixture
def server(scratch_database, tmp_path) -> Iterator[Server]:
    [s] = servers(scratch_database, tmp_path, 1)
    yield s
    s.stop()


@pytest.fixture
def spot(demo_city) -> tuple[float, float]:
    p = shapely.point_on_surface(demo_city.grids.set_index("code").loc[DEMO_GRID_CODE].geometry)
    return p.x, p.y


def fix(lon: float, lat: float, seconds_ago: float, **change) -> str:
    at = (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat()
    message = {"type": "position", "lon": lon, "lat": lat, "accuracy": 7.5, "at": at}
    return json.dumps(message | change)


async def subscribed(ws, scopes: list[str]) -> None:
    await ws.send(json.dumps({"type": "subscribe", "scopes": scopes}))
    while json.loads(await ws.recv())["type"] != "subscribed":
        pass


async def next_of(ws, kind: str, seconds: float = 5.0) -> dict:
    async with asyncio.timeout(seconds):
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == kind:
                return message


async def moved_of(ws, seconds: float = 5.0) -> dict:
    """The one worker of the next positions frame."""
    [worker] = (await next_of(ws, "positions", seconds))["workers"]
    return worker


async def nothing_of(ws, kind: str, seconds: float) -> None:
    with pytest.raises(TimeoutError):
        await next_of(ws, kind, seconds)


async def latest_of(server: Server, person: int) -> dict:
    """The person's entry in the last-position store, as the community's staff reads it."""
    headers = {"Authorization": f"Bearer {server.token('community_staff')}"}
    async with httpx.AsyncClient() as http:
        r = await http.get(f"{server.base}/api/positions/latest?scope={COMMUNITY}", headers=headers)
    [entry] = [w for w in r.json()["workers"] if w["person"] == person]
    return entry


async def test_a_worker_on_duty_is_seen_moving_and_bad_fixes_change_nothing(server, spot):
    lon, lat = spot
    async with server.socket("community_staff") as screen, server.socket("grid_worker") as phone:
        await subscribed(screen, [COMMUNITY])
        await phone.send(fix(lon, lat, 5))
        refused = json.loads(await phone.recv())
        assert (refused["type"], refused["code"]) == ("error", "not_on_duty")

        await phone.send(json.dumps({"type": "duty", "on": True}))
        presence = await next_of(screen, "presence")
        assert (presence["grid"], presence["on_duty"]) == (DEMO_GRID_CODE, True)
        await phone.send(fix(lon, lat, 4))
        moved = await moved_of(screen)
        assert (moved["grid"], moved["lon"], moved["lat"], moved["accuracy"]) == (
            DEMO_GRID_CODE,
            lon,
            lat,
            7.5,
        )
        worker = moved["person"]

        for bad, check in [
            (fix(lon, 95.0, 3), "invalid_coordinate"),
            (fix(lon, lat, -600), "future_timestamp"),
            (fix(lon + 0.5, lat, 3), "impossible_jump"),
            (fix(lon, lat, 3, accuracy=5000), "inaccurate"),
        ]:
            await phone.send(bad)
            answer = json.loads(await phone.recv())
            assert (answer["type"], answer["code"], answer["check"]) == (
                "error",
                "bad_position",
                check,
            )
        await nothing_of(screen, "positions", 1.5)
        entry = await latest_of(server, worker)
        assert (entry["lon"], entry["lat"], entry["on_duty"]) == (lon, lat, True)

        # Five fixes within half a second reach the screen as one frame (two if a pass fell
        # between them), the last with the newest fix.
        for i in range(5):
            await phone.send(fix(lon + (i + 1) * 1e-5, lat, 2 - i * 0.1))
        heard = [await moved_of(screen, 3)]
        if heard[-1]["lon"] != pytest.approx(lon + 5e-5):
            heard.append(await moved_of(screen, 3))
        assert heard[-1]["lon"] == pytest.approx(lon + 5e-5)
        await nothing_of(screen, "positions", 1.5)

    # The phone's socket closed: the worker goes off duty.
    async with server.socket("community_staff") as screen:
        await subscribed(screen, [COMMUNITY])
        assert (await latest_of(server, worker))["on_duty"] is False


async def two_workers_of_two_districts() -> list[tuple[int, str, float, float]]:
    """Two grid staff whose home grids lie in different districts: id, grid, a point in it."""
    rows = (
        await GridPost.select(GridPost.person, GridPost.grid.code.as_alias("grid"))
        .where(GridPost.person.role.is_in(list(GRID_ROLES)))
        .order_by(GridPost.person)
    )
    chosen: dict[str, tuple[int, str]] = {}
    for r in rows:
        chosen.setdefault(r["grid"][:6], (r["person"], r["grid"]))
    picked = sorted(chosen.values())[:2]
    shapes = {
        g["code"]: g["geom"]
        for g in await Grid.select(Grid.code, Grid.geom).where(
            Grid.code.is_in([code for _, code in picked])
        )
    }
    out = []
    for person, code in picked:
        p = shapely.point_on_surface(shapely.from_geojson(shapes[code]))
        out.append((person, code, p.x, p.y))
    return out


async def test_each_screen_gets_one_frame_a_second_with_only_its_workers_and_viewport(
    scratch_database, server
):
    (one, grid_one, x1, y1), (two, grid_two, x2, y2) = await two_workers_of_two_districts()
    secret = scratch_database.settings.secret_key

    def connect(person: int) -> websockets.connect:
        token = issue_token(TokenClaims(sub=person, exp=int(time.time()) + 600), secret)
        return websockets.connect(f"ws://127.0.0.1:{server.port}/api/live?token={token}")

    admin = (await Person.select(Person.id).where(Person.role == "city_admin").first())["id"]
    box = [x1 - 0.001, y1 - 0.001, x1 + 0.001, y1 + 0.001]  # around worker one only
    async with (
        connect(admin) as first,
        connect(admin) as second,
        connect(admin) as city,
        connect(admin) as viewport,
        connect(one) as phone_one,
        connect(two) as phone_two,
    ):
        await subscribed(first, [grid_one[:6]])
        await subscribed(second, [grid_two[:6]])
        await subscribed(city, [])
        await viewport.send(json.dumps({"type": "subscribe", "scopes": [], "bbox": box}))
        assert (await next_of(viewport, "subscribed"))["bbox"] == box

        async def frames(ws) -> list[tuple[float, list[int]]]:
            """The positions frames heard until none came for 2 s: when, and whose."""
            out = []
            with contextlib.suppress(TimeoutError):
                while True:
                    m = await next_of(ws, "positions", 2)
                    out.append((time.monotonic(), sorted(w["person"] for w in m["workers"])))
            return out

        listening = asyncio.gather(*(frames(ws) for ws in (first, second, city, viewport)))
        for phone in (phone_one, phone_two):
            await phone.send(json.dumps({"type": "duty", "on": True}))
        for k in range(3):  # three fixes each, over about 1.5 s
            for phone, x, y in ((phone_one, x1, y1), (phone_two, x2, y2)):
                await phone.send(fix(x + k * 1e-5, y, 3 - k * 0.5))
            await asyncio.sleep(0.5)
        for phone in (phone_one, phone_two):  # nothing was refused
            await nothing_of(phone, "error", 0.1)
        heard = await listening
    for got, whose in zip(heard, ([one], [two], sorted([one, two]), [one]), strict=True):
        assert got and all(people == whose or set(people) < set(whose) for _, people in got)
        # At most one frame an interval: three fixes each in 1.5 s make two or three frames.
        assert 1 <= len(got) <= 3
        gaps = [b - a for (a, _), (b, _) in itertools.pairwise(got)]
        assert all(gap > 0.5 for gap in gaps), gaps
    assert {p for _, people in heard[2] for p in people} == {one, two}


async def test_a_resident_cannot_share_a_position(server, spot):
    async with server.socket("resident") as ws:
        await ws.send(json.dumps({"type": "duty", "on": True}))
        assert json.loads(await ws.recv())["code"] == "forbidden"


async def test_two_processes_on_one_redis_show_a_worker_on_either(scratch_database, tmp_path, spot):
    prefix = f"wangge-test:{uuid.uuid4().hex}:"
    first, second = servers(
        scratch_database, tmp_path, 2, REDIS_URL=REDIS_URL, WANGGE_REDIS_PREFIX=prefix
    )
    try:
        lon, lat = spot
        async with second.socket("community_staff") as screen, first.socket("grid_worker") as phone:
            await subscribed(screen, [COMMUNITY])
            await phone.send(json.dumps({"type": "duty", "on": True}))
            assert (await next_of(screen, "presence"))["on_duty"] is True
            await phone.send(fix(lon, lat, 1))
            # Within two passes (its process's, then this one's), however busy the machine.
            moved = await moved_of(screen, 10)
            assert (moved["lon"], moved["lat"]) == (lon, lat)
            entry = await latest_of(second, moved["person"])
            assert (entry["lon"], entry["on_duty"]) == (lon, True)
    finally:
        first.stop()
        second.stop()
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()
