"""A graceful restart: a server process told to stop (SIGTERM, what systemd sends) while cases
are being written closes its live sockets with 1012 (service restart) and answers the requests
it holds; a new process takes its port, the client resumes there from the last event id it got
and receives every event of its scope exactly once."""

from __future__ import annotations

import asyncio
import json
import signal

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from backend.demo import DEMO_PASSWORD
from geo.demo import DEMO_ACCOUNTS
from tests.conftest import _database_copy
from tests.live.conftest import (
    COMMUNITY,
    case_body,
    event_rows,
    sign_in,
    start,
    stop,
    wait_up,
    writes_held,
)
from tests.served import serve
from tests.served import stop as stop_served
from tests.served import wait_up as wait_served

RESTART = 1012
BEFORE = 5  # events seen on the first process before it is told to stop


async def subscribe(ws: ClientConnection, after: int | None) -> int:
    await ws.send(json.dumps({"type": "subscribe", "scopes": [], "after": after}))
    hello = json.loads(await ws.recv())
    assert hello["type"] == "subscribed", hello
    return hello["head"]


async def read_events(ws: ClientConnection, seen: list[int], until: int | None = None) -> None:
    while until is None or len(seen) < until:
        message = json.loads(await ws.recv())
        if message["type"] == "event":
            seen.append(message["id"])


async def test_sigterm_closes_with_1012_and_the_client_resumes_on_the_next_process(
    city_template, tmp_path, community_spots
):
    kind, template = city_template
    async with _database_copy(kind, template, tmp_path) as db:
        first = start(db, tmp_path, "before")
        servers = [first]
        try:
            await asyncio.to_thread(wait_up, servers)
            staff, _ = await sign_in(first, "community_staff")
            resident, _ = await sign_in(first, "resident")
            made: list[int] = []
            writing_stops = asyncio.Event()

            async def write() -> None:
                """Cases one after another, each sent again (same client id) when the server
                went away before answering, as the field app's outbox does."""
                auth = {"Authorization": f"Bearer {resident}"}
                async with httpx.AsyncClient(timeout=30) as http:
                    while not writing_stops.is_set():
                        body = case_body(next(community_spots))
                        while True:
                            try:
                                r = await http.post(
                                    f"{first.base}/api/cases", json=body, headers=auth
                                )
                                break
                            except httpx.TransportError:
                                await asyncio.sleep(0.1)
                        assert r.status_code in (200, 201), r.text
                        made.append(r.json()["id"])
                        await asyncio.sleep(0.05)

            seen: list[int] = []
            code = None
            async with connect(first.live_url(staff)) as ws:
                head = await subscribe(ws, None)
                writing = asyncio.create_task(write())
                async with asyncio.timeout(20):
                    await read_events(ws, seen, BEFORE)
                # A write in flight when the signal comes (it waits for the database) is
                # still answered, after the sockets are closed.
                async with httpx.AsyncClient(timeout=30) as http:
                    async with writes_held(db):
                        held = asyncio.create_task(
                            http.post(
                                f"{first.base}/api/cases",
                                json=case_body(next(community_spots)),
                                headers={"Authorization": f"Bearer {resident}"},
                            )
                        )
                        await asyncio.sleep(0.5)
                        first.proc.terminate()
                        try:
                            async with asyncio.timeout(20):
                                await read_events(ws, seen)
                        except ConnectionClosed as closed:
                            code = closed.rcvd.code if closed.rcvd else None
                        assert first.proc.poll() is None
                        assert not held.done()
                    r = await held
                    assert r.status_code == 201, r.text
                    made.append(r.json()["id"])
            assert code == RESTART
            # uvicorn raises the signal again once it has shut down, as systemd expects.
            assert await asyncio.to_thread(first.proc.wait, 20) == -signal.SIGTERM
            assert "Application shutdown complete" in first.log.read_text()

            second = start(db, tmp_path, "after", port=first.port)
            servers.append(second)
            await asyncio.to_thread(wait_up, [second])
            # Writes go on with the new process.
            restarted = len(made)
            for _ in range(200):
                if len(made) >= restarted + BEFORE:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("no writes taken by the new process")
            writing_stops.set()
            await writing

            expected = [
                e["id"]
                for e in await event_rows(db, "id > $1 AND scope LIKE $2", head, f"{COMMUNITY}%")
            ]
            async with connect(second.live_url(staff)) as ws:
                await subscribe(ws, seen[-1])
                async with asyncio.timeout(20):
                    await read_events(ws, seen, len(expected))
            assert seen == expected
            submitted = {
                e["subject"] for e in await event_rows(db, "id > $1 AND type = 'case.submit'", head)
            }
            assert submitted == {f"case:{c}" for c in made}
            assert "Traceback" not in first.log.read_text()
        finally:
            stop(servers)


async def test_a_request_that_outlasts_the_shutdown_timeout_does_not_hold_up_the_stop(
    city_template, tmp_path, community_spots
):
    kind, template = city_template
    async with _database_copy(kind, template, tmp_path) as db:
        server = serve(db.settings, tmp_path, WANGGE_SHUTDOWN_TIMEOUT_S="1")
        try:
            await wait_served(server)
            async with httpx.AsyncClient(base_url=server.base, timeout=30) as http:
                r = await http.post(
                    "/api/auth/sign-in",
                    json={"phone": DEMO_ACCOUNTS["resident"], "password": DEMO_PASSWORD},
                )
                auth = {"Authorization": f"Bearer {r.json()['token']}"}
                async with writes_held(db):
                    held = asyncio.create_task(
                        http.post("/api/cases", json=case_body(next(community_spots)), headers=auth)
                    )
                    await asyncio.sleep(0.5)
                    server.proc.terminate()
                    # Stopped while the write still waits: it was given its second, then
                    # cancelled (the client's outbox sends it again), and the app shut down.
                    await asyncio.to_thread(server.proc.wait, 15)
                    assert "Application shutdown complete" in server.log.read_text()
                    try:
                        answer = (await held).status_code
                    except httpx.TransportError:
                        answer = None
                    assert answer != 201
        finally:
            stop_served(server)
