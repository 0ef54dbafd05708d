"""The hub in this process, with sockets faked at the ASGI ``send``: wake-up on commit, replay
then live, personal cases, a stalled socket, transient messages through Redis."""

from __future__ import annotations

import asyncio
import json
import random
import uuid

import pytest

from backend.core.db import close_pool, open_pool, write_transaction
from backend.core.principal import Principal
from backend.core.territory import Territory
from backend.events.service import NewEvent, append
from backend.events.tables import Event
from backend.live.hub import Hub

GRID, OTHER_GRID = "15030200100101", "15030400200301"
CITY = Principal(1, "市", "1", Territory(1, "city_admin"))
RESIDENT = Principal(9, "居民", "9", Territory(9, "resident"))


class FakeSocket:
    """An ASGI send that, like uvicorn's, returns at once unless the client stopped reading."""

    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.reading = asyncio.Event()
        self.reading.set()

    async def send(self, message: dict) -> None:
        await self.reading.wait()
        self.sent.append(message)

    def messages(self, kind: str = "event") -> list[dict]:
        out = [json.loads(m["text"]) for m in self.sent if m["type"] == "websocket.send"]
        return [m for m in out if m["type"] == kind]

    def close_codes(self) -> list[int]:
        return [m["code"] for m in self.sent if m["type"] == "websocket.close"]


async def nothing() -> set[str]:
    return set()


async def until(condition, within: float = 5.0) -> None:
    for _ in range(int(within / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not within {within} s")


@pytest.fixture
async def hubs(scratch_database):
    engine = scratch_database.engine
    await open_pool(engine)
    made: list[Hub] = []

    async def make(**options) -> Hub:
        # No periodic look at the log: what arrives, arrives through the wake-up.
        hub = Hub(engine, poll_s=60, **options)
        await hub.start()
        made.append(hub)
        return hub

    yield make
    for hub in made:
        await hub.close()
    await close_pool(engine)


async def write(engine, *events: NewEvent) -> list[int]:
    async with write_transaction(engine):
        return await append(list(events))


async def test_a_commit_wakes_the_hub_and_the_event_goes_out_at_once(hubs, scratch_database):
    hub = await hubs()
    sock = FakeSocket()
    await hub.subscribe(hub.connection(sock.send, CITY), ("150300",), ("1503",), None, nothing)
    assert sock.messages("subscribed")[0]["head"] == hub.head
    [eid] = await write(scratch_database.engine, NewEvent("case.submit", "case:1", GRID))
    await until(lambda: sock.messages(), within=2)
    [event] = sock.messages()
    assert (event["id"], event["event"], event["scope"]) == (eid, "case.submit", GRID)


async def test_replay_then_live_misses_nothing_and_repeats_nothing_under_concurrent_writers(
    hubs, scratch_database
):
    engine = scratch_database.engine
    hub = await hubs()
    rng = random.Random(5)

    async def writer(w: int) -> None:
        for k in range(15):
            scope = GRID if (w + k) % 3 else OTHER_GRID
            await write(engine, NewEvent("test", f"w:{w}", scope, {"k": k}))
            await asyncio.sleep(rng.uniform(0, 0.01))

    writers = asyncio.gather(*(writer(w) for w in range(6)))
    # Subscribers come and go while the writers write, each resuming where the last stopped.
    seen: list[int] = []
    while not writers.done():
        sock = FakeSocket()
        conn = hub.connection(sock.send, CITY)
        await hub.subscribe(conn, ("150302",), ("150302",), seen[-1] if seen else 0, nothing)
        await asyncio.sleep(rng.uniform(0.01, 0.05))
        hub.remove(conn)
        seen += [m["id"] for m in sock.messages()]
    await writers
    sock = FakeSocket()
    conn = hub.connection(sock.send, CITY)
    await hub.subscribe(conn, ("150302",), ("150302",), seen[-1], nothing)
    seen += [m["id"] for m in sock.messages()]
    rows = await Event.select(Event.id).where(Event.scope.like("150302%")).order_by(Event.id)
    assert seen == [r["id"] for r in rows]
    assert len(seen) == 60


async def test_a_resident_hears_only_their_own_cases_including_new_ones(hubs, scratch_database):
    engine = scratch_database.engine
    hub = await hubs()

    async def reported() -> set[str]:
        return {"case:7"}

    sock = FakeSocket()
    await hub.subscribe(hub.connection(sock.send, RESIDENT), (), (), None, reported)
    await write(
        engine,
        NewEvent("case.accept", "case:7", GRID),
        NewEvent("case.accept", "case:8", GRID),
        NewEvent("case.submit", "case:9", GRID, actor=RESIDENT.id),
        NewEvent("case.submit", "case:10", GRID, actor=RESIDENT.id + 1),
    )
    await write(engine, NewEvent("case.dispatch", "case:9", GRID, {"assignee": 5}, actor=3))
    await until(lambda: len(sock.messages()) == 3)
    assert [m["subject"] for m in sock.messages()] == ["case:7", "case:9", "case:9"]


async def test_a_stalled_socket_is_closed_with_4408_and_the_others_are_not_held_up(
    hubs, scratch_database
):
    hub = await hubs(backlog=5)
    stalled, healthy = FakeSocket(), FakeSocket()
    for sock in (stalled, healthy):
        await hub.subscribe(hub.connection(sock.send, CITY), (), ("1503",), None, nothing)
    stalled.reading.clear()
    ids = []
    for k in range(20):
        ids += await write(scratch_database.engine, NewEvent("test", "x", GRID, {"k": k}))
    await until(lambda: len(healthy.messages()) == 20, within=3)
    assert [m["id"] for m in healthy.messages()] == ids
    stalled.reading.set()
    await until(lambda: stalled.close_codes() == [4408])
    # What waited was dropped: the client resumes from the last event it got.
    assert stalled.messages() == []
    assert hub.head == ids[-1]


async def test_transient_messages_reach_the_sockets_of_another_process_through_redis(hubs):
    channel = f"wangge-test-{uuid.uuid4().hex}:live"
    here = await hubs(redis_url="redis://127.0.0.1:6379/0", channel=channel)
    there = await hubs(redis_url="redis://127.0.0.1:6379/0", channel=channel)
    covered, elsewhere = FakeSocket(), FakeSocket()
    await here.subscribe(here.connection(covered.send, CITY), (), ("150302",), None, nothing)
    await here.subscribe(here.connection(elsewhere.send, CITY), (), ("150304",), None, nothing)
    there.broadcast(GRID, {"type": "position", "person": 12, "grid": GRID, "lon": 106.8})
    await until(lambda: covered.messages("position"), within=3)
    assert covered.messages("position") == [
        {"type": "position", "person": 12, "grid": GRID, "lon": 106.8}
    ]
    await asyncio.sleep(0.2)
    assert elsewhere.messages("position") == []


async def test_a_grid_change_reloads_the_grid_index(hubs, scratch_database):
    reloads = []

    async def reload() -> None:
        reloads.append(1)

    await hubs(on_layers_changed=reload)
    await write(scratch_database.engine, NewEvent("grids.changed", "grids", "150302001001"))
    await until(lambda: reloads == [1])
