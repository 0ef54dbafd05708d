"""Real server processes for the live stream, and real clients.

On SQLite one uvicorn process; on PostgreSQL two, with Redis between them and a channel prefix
of this run's own, and no periodic look at the log (``WANGGE_LIVE_POLL_S`` of a minute): what
one process hears of the other's writes it hears through Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import numpy as np
import pytest
import pytest_asyncio
import shapely

from backend.demo import DEMO_PASSWORD
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE, DemoCity
from tests.conftest import TestDatabase, _database_copy

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("WANGGE_TEST_REDIS", "redis://127.0.0.1:6379/0")
COMMUNITY = DEMO_GRID_CODE[:12]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    base: str
    port: int
    proc: subprocess.Popen
    log: Path

    def live_url(self, token: str) -> str:
        return f"ws://127.0.0.1:{self.port}/api/live?token={token}"


def start(db: TestDatabase, data_dir: Path, name: str, port: int = 0, **env: str) -> Server:
    """A server process on ``port`` (a free one if 0)."""
    port = port or free_port()
    log = data_dir / f"{name}.log"
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "backend.app:create_app_from_env", "--factory"),
            *("--host", "127.0.0.1", "--port", str(port)),
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": db.settings.database_url,
            "WANGGE_DATA_DIR": str(data_dir),
            "WANGGE_SECRET_KEY": db.settings.secret_key,
            "WANGGE_ESCALATION_INTERVAL_S": "0",
            **env,
        },
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    return Server(f"http://127.0.0.1:{port}", port, proc, log)


def wait_up(servers: list[Server]) -> None:
    deadline = time.monotonic() + 90
    for s in servers:
        while True:
            try:
                if httpx.get(f"{s.base}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if s.proc.poll() is not None or time.monotonic() > deadline:
                stop(servers)
                pytest.fail(f"server did not start:\n{s.log.read_text()[-3000:]}")
            time.sleep(0.3)


def stop(servers: list[Server]) -> None:
    for s in servers:
        s.proc.terminate()
    for s in servers:
        try:
            s.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            s.proc.kill()


@dataclass
class Deployment:
    kind: str
    db: TestDatabase
    servers: list[Server]


@pytest_asyncio.fixture(scope="session")
async def deployment(
    city_template: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Deployment]:
    kind, template = city_template
    data_dir = tmp_path_factory.mktemp(f"live-{kind}")
    async with _database_copy(kind, template, data_dir) as db:
        if kind == "sqlite":
            servers = [start(db, data_dir, "server")]
        else:
            shared = {
                "REDIS_URL": REDIS_URL,
                "WANGGE_REDIS_PREFIX": f"wangge-test-{uuid.uuid4().hex}:",
                "WANGGE_LIVE_POLL_S": "60",
            }
            servers = [start(db, data_dir, f"server{i}", **shared) for i in (1, 2)]
        await asyncio.to_thread(wait_up, servers)
        try:
            yield Deployment(kind, db, servers)
        finally:
            stop(servers)


async def sign_in(server: Server, role: str) -> tuple[str, int]:
    async with httpx.AsyncClient(timeout=30) as client:
        r = await client.post(
            f"{server.base}/api/auth/sign-in",
            json={"phone": DEMO_ACCOUNTS[role], "password": DEMO_PASSWORD},
        )
    body = r.json()
    return body["token"], body["person"]["id"]


@pytest.fixture(scope="session")
def community_spots(demo_city: DemoCity) -> Iterator[tuple[float, float]]:
    """Endless random points inside the grids of the demo community (spread out: cases at one
    spot would all be each other's nearby duplicates)."""
    grids = demo_city.grids[demo_city.grids["parent_code"] == COMMUNITY].geometry.values
    rng = np.random.default_rng(11)

    def spots() -> Iterator[tuple[float, float]]:
        while True:
            grid = grids[rng.integers(len(grids))]
            x0, y0, x1, y1 = grid.bounds
            x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
            if grid.contains(shapely.Point(x, y)):
                yield float(x), float(y)

    return spots()


def case_body(spot: tuple[float, float], kind: str = "request") -> dict:
    lon, lat = spot
    return {
        "client_id": str(uuid.uuid4()),
        "kind": kind,
        "category": "1501",
        "description": "路灯不亮",
        "lon": lon,
        "lat": lat,
    }


async def event_rows(db: TestDatabase, where: str, *args: object) -> list[dict]:
    """Rows of the event log (id, type, subject, scope), read straight from the database."""
    sql = f"SELECT id, type, subject, scope FROM event WHERE {where} ORDER BY id"
    if db.kind == "sqlite":
        path = db.settings.database_url.removeprefix("sqlite:///")

        def read() -> list[dict]:
            with sqlite3.connect(path) as c:
                c.row_factory = sqlite3.Row
                return [dict(r) for r in c.execute(re.sub(r"\$\d+", "?", sql), args)]

        return await asyncio.to_thread(read)
    conn = await asyncpg.connect(db.settings.database_url)
    try:
        return [dict(r) for r in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def writes_held(db: TestDatabase) -> AsyncIterator[None]:
    """Every write waits while the block runs: SQLite's write lock; on PostgreSQL the event
    clock's row (each write takes the next event id) and the health check's."""
    if db.kind == "sqlite":
        path = db.settings.database_url.removeprefix("sqlite:///")
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    pg = await asyncpg.connect(db.settings.database_url)
    try:
        async with pg.transaction():
            await pg.execute("SELECT * FROM event_clock FOR UPDATE")
            await pg.execute("SELECT * FROM health_probe FOR UPDATE")
            yield
    finally:
        await pg.close()
