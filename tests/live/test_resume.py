"""Resume: clients cut off again and again while several writers commit cases concurrently get
every event of their scope exactly once, in order (on PostgreSQL through either process)."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator

import httpx
from websockets.asyncio.client import connect

from tests.live.conftest import COMMUNITY, Deployment, Server, case_body, event_rows, sign_in

WRITERS = ("resident", "grid_worker", "grid_leader", "resident", "grid_police", "resident")
EACH = 12


class Follower:
    """A client that is cut off (no closing handshake) every tenth of a second or two and comes
    back, to the next server, resuming after the last event id it saw."""

    def __init__(self, servers: list[Server], token: str, seed: int) -> None:
        self.servers, self.token = servers, token
        self.rng = random.Random(seed)
        self.seen: list[int] = []
        self.head = 0
        self.connections = 0

    async def session(self, until: float | None = None, expected: int = 0) -> None:
        """One connection: subscribe (resuming), read for a while, then drop the line. With
        ``expected``, read until that many events were seen in all (or ``until`` s pass)."""
        server = self.servers[self.connections % len(self.servers)]
        self.connections += 1
        ws = await connect(server.live_url(self.token))
        after = self.seen[-1] if self.seen else (self.head if self.connections > 1 else None)
        await ws.send(json.dumps({"type": "subscribe", "scopes": [], "after": after}))
        hello = json.loads(await ws.recv())
        assert hello["type"] == "subscribed", hello
        if after is None:
            self.head = hello["head"]
        try:
            async with asyncio.timeout(until or self.rng.uniform(0.05, 0.25)):
                while not expected or len(self.seen) < expected:
                    message = json.loads(await ws.recv())
                    if message["type"] == "event":
                        self.seen.append(message["id"])
        except TimeoutError:
            pass
        ws.transport.abort()

    async def run(self, writing: asyncio.Task) -> None:
        while not writing.done():
            await self.session()


async def write_cases(server: Server, token: str, kind: str, spots: Iterator) -> list[int]:
    made = []
    async with httpx.AsyncClient(timeout=60) as client:
        for _ in range(EACH):
            r = await client.post(
                f"{server.base}/api/cases",
                json=case_body(next(spots), kind),
                headers={"Authorization": f"Bearer {token}"},
            )
            assert r.status_code == 201, r.text
            made.append(r.json()["id"])
            # Paced, so that the writing spans several of the followers' connections even on
            # a quiet machine.
            await asyncio.sleep(random.uniform(0.02, 0.12))
    return made


async def test_resume_after_forced_disconnects_with_concurrent_writers_misses_and_repeats_nothing(
    deployment: Deployment, community_spots
):
    servers = deployment.servers
    staff = Follower(servers, (await sign_in(servers[0], "community_staff"))[0], seed=1)
    resident_token, resident = await sign_in(servers[0], "resident")
    mine = Follower(servers, resident_token, seed=2)
    await staff.session()
    await mine.session()

    async def writer(i: int, role: str) -> list[int]:
        token, _ = await sign_in(servers[i % len(servers)], role)
        kind = "request" if role == "resident" else "incident"
        return await write_cases(servers[i % len(servers)], token, kind, community_spots)

    writing = asyncio.ensure_future(
        asyncio.gather(*(writer(i, role) for i, role in enumerate(WRITERS)))
    )
    await asyncio.gather(staff.run(writing), mine.run(writing))
    made = await writing

    expected = await event_rows(
        deployment.db, "id > $1 AND scope LIKE $2", staff.head, f"{COMMUNITY}%"
    )
    await staff.session(until=30, expected=len(expected))
    assert staff.seen == [e["id"] for e in expected]
    submitted = {e["subject"] for e in expected if e["type"] == "case.submit"}
    assert submitted == {f"case:{c}" for cases in made for c in cases}
    assert staff.connections > 3

    theirs = await event_rows(
        deployment.db,
        "id > $1 AND subject IN (SELECT 'case:' || id FROM case_record"
        " WHERE reporter = $2 OR assignee = $3)",
        mine.head,
        resident,
        resident,
    )
    await mine.session(until=30, expected=len(theirs))
    assert mine.seen == [e["id"] for e in theirs]
    reported = [cases for role, cases in zip(WRITERS, made, strict=True) if role == "resident"]
    assert {e["subject"] for e in theirs} == {f"case:{c}" for cases in reported for c in cases}
