"""A client that stops reading is closed with 4408, gets nothing out of order before the close,
resumes exactly where it stopped, and never holds up the others.

The stalled client asks for a long history (written into the log before the server starts),
so that its connection's buffers fill at once; events written meanwhile then pile up for it
until its bound (WANGGE_LIVE_BACKLOG) is passed. (How a live socket that falls behind is
handled step by step is tested in test_hub.py.)
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
import pytest_asyncio
from websockets.asyncio.client import connect

from tests.conftest import _database_copy
from tests.live.conftest import (
    COMMUNITY,
    Deployment,
    case_body,
    event_rows,
    sign_in,
    start,
    stop,
    wait_up,
)
from tests.live.rawsocket import StalledSocket

pytestmark = pytest.mark.parametrize("city_template", ["sqlite"], indirect=True)

HISTORY, LIVE, BACKLOG = 4000, 24, 8


def write_history(path: str, n: int) -> None:
    """``n`` events of the community, as if written long ago."""
    now = datetime.now(UTC).isoformat()
    payload = json.dumps({"note": "x" * 300})
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO event (id, at, type, subject, scope, actor, payload)"
            " VALUES (?, ?, 'test.history', 'history', ?, NULL, ?)",
            [(i, now, f"{COMMUNITY}01", payload) for i in range(1, n + 1)],
        )
        db.execute("UPDATE event_clock SET last = ?", (n,))


@pytest_asyncio.fixture
async def slow(city_template, tmp_path) -> AsyncIterator[Deployment]:
    kind, template = city_template
    async with _database_copy(kind, template, tmp_path) as db:
        write_history(db.settings.database_url.removeprefix("sqlite:///"), HISTORY)
        servers = [start(db, tmp_path, "server", WANGGE_LIVE_BACKLOG=str(BACKLOG))]
        await asyncio.to_thread(wait_up, servers)
        try:
            yield Deployment(kind, db, servers)
        finally:
            stop(servers)


async def test_a_stalled_client_is_closed_with_4408_and_the_others_go_on(slow, community_spots):
    server = slow.servers[0]
    staff, _ = await sign_in(server, "community_staff")
    resident, _ = await sign_in(server, "resident")
    stalled = await asyncio.to_thread(
        StalledSocket, "127.0.0.1", server.port, f"/api/live?token={staff}"
    )
    stalled.send({"type": "subscribe", "scopes": [], "after": 0})

    lags: list[float] = []
    async with connect(server.live_url(staff)) as healthy:
        await healthy.send(json.dumps({"type": "subscribe", "scopes": []}))
        assert json.loads(await healthy.recv())["type"] == "subscribed"
        async with httpx.AsyncClient(timeout=60) as client:
            for _ in range(LIVE):
                r = await client.post(
                    f"{server.base}/api/cases",
                    json=case_body(next(community_spots)),
                    headers={"Authorization": f"Bearer {resident}"},
                )
                assert r.status_code == 201, r.text
                written = time.monotonic()
                async with asyncio.timeout(10):
                    event = json.loads(await healthy.recv())
                lags.append(time.monotonic() - written)
                assert event["subject"] == f"case:{r.json()['id']}"
            # The stalled client has read nothing of its close yet, but the server has let go of
            # it and of what was queued for it: only the healthy socket is left.
            scrape = (await client.get(f"{server.base}/metrics")).text
            assert "\nwangge_live_sockets 1.0\n" in scrape, scrape
    assert max(lags) < 2.0, lags

    got = await asyncio.to_thread(stalled.read_all)
    stalled.close()
    assert got.close_code == 4408
    assert got.messages[0]["type"] == "subscribed"
    seen = [m["id"] for m in got.messages[1:]]
    expected = [e["id"] for e in await event_rows(slow.db, "scope LIKE $1", f"{COMMUNITY}%")]
    assert 0 < len(seen) < HISTORY
    assert seen == expected[: len(seen)]

    async with connect(server.live_url(staff)) as resumed:
        await resumed.send(json.dumps({"type": "subscribe", "scopes": [], "after": seen[-1]}))
        rest: list[int] = []
        async with asyncio.timeout(30):
            while len(seen) + len(rest) < len(expected):
                message = json.loads(await resumed.recv())
                if message["type"] == "event":
                    rest.append(message["id"])
    assert seen + rest == expected
