"""The hub in this process, with sockets faked at the ASGI ``send``: wake-up on commit, replay
then live, personal cases, a stalled socket, transient messages and positions through Redis,
positions batched per subscriber."""

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
from backend.live.schemas import Moved

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
    there.broadcast(GRID, {"type": "presence", "person": 12, "grid": GRID, "on_duty": True})
    await until(lambda: covered.messages("presence"), within=3)
    assert covered.messages("presence") == [
        {"type": "presence", "person": 12, "grid": GRID, "on_duty": True}
    ]
    await asyncio.sleep(0.2)
    assert elsewhere.messages("presence") == []


def moved(person: int, grid: str, lon: float, lat: float = 39.6, at: str = "10:00:00") -> Moved:
    return Moved(person, f"w{person}", grid, lon, lat, 5.0, f"2026-12-07T{at}+00:00")


def heard(sock: FakeSocket) -> list[list[tuple[int, float]]]:
    """The positions frames a socket got: (person, lon) of each worker in each."""
    return [[(w["person"], w["lon"]) for w in m["workers"]] for m in sock.messages("positions")]


async def test_each_subscriber_gets_one_frame_a_pass_with_the_workers_of_its_scope(hubs):
    # No pass of its own during the test: the test makes them.
    hub = await hubs(positions_s=3600)
    city, grid, other, viewport = FakeSocket(), FakeSocket(), FakeSocket(), FakeSocket()
    await hub.subscribe(hub.connection(city.send, CITY), (), ("1503",), None, nothing)
    await hub.subscribe(hub.connection(grid.send, CITY), (), (GRID,), None, nothing)
    await hub.subscribe(hub.connection(other.send, CITY), (), ("150304",), None, nothing)
    box = (106.75, 39.5, 106.85, 39.7)
    conn = hub.connection(viewport.send, CITY)
    await hub.subscribe(conn, (), ("1503",), None, nothing, box)
    assert viewport.messages("subscribed")[0]["bbox"] == list(box)
    for lon in (106.70, 106.80, 106.82):  # last value wins: one entry per worker
        hub.moved(moved(1, GRID, lon))
    hub.moved(moved(2, OTHER_GRID, 106.90))
    hub.send_positions()
    await until(lambda: heard(other))
    assert heard(city) == [[(1, 106.82), (2, 106.90)]]
    assert heard(grid) == [[(1, 106.82)]]
    assert heard(other) == [[(2, 106.90)]]
    assert heard(viewport) == [[(1, 106.82)]]
    # Nobody moved since: no frame. Then one worker did: only those covering it hear.
    hub.send_positions()
    hub.moved(moved(2, OTHER_GRID, 106.91, at="10:00:01"))
    hub.send_positions()
    await until(lambda: len(heard(other)) == 2)
    assert [len(heard(s)) for s in (city, grid, other, viewport)] == [2, 1, 2, 1]
    # A new viewport takes effect from the next pass; events are not concerned.
    conn.bbox = (106.85, 39.5, 107.0, 39.7)
    hub.moved(moved(1, GRID, 106.83, at="10:00:02"))
    hub.moved(moved(2, OTHER_GRID, 106.92, at="10:00:02"))
    hub.send_positions()
    await until(lambda: len(heard(viewport)) == 2)
    assert heard(viewport)[-1] == [(2, 106.92)]


async def test_a_screen_that_stops_reading_positions_is_closed_with_4408_at_its_byte_bound(hubs):
    hub = await hubs(positions_s=3600, backlog=1000, backlog_bytes=50_000)
    stalled, healthy = FakeSocket(), FakeSocket()
    for sock in (stalled, healthy):
        await hub.subscribe(hub.connection(sock.send, CITY), (), ("1503",), None, nothing)
    stalled.reading.clear()
    for k in range(40):  # frames of ~20 KB: the bound is passed well before 1,000 frames
        for person in range(150):
            hub.moved(moved(person, GRID, 106.8 + k * 1e-5, at=f"10:00:{k:02}"))
        hub.send_positions()
        await asyncio.sleep(0)
    await until(lambda: len(heard(healthy)) == 40)
    stalled.reading.set()
    await until(lambda: stalled.close_codes() == [4408])
    assert len(heard(stalled)) <= 3  # what it read before it stalled, nothing after


async def test_positions_taken_by_another_process_join_this_ones_next_pass(hubs):
    channel = f"wangge-test-{uuid.uuid4().hex}:live"
    here = await hubs(redis_url="redis://127.0.0.1:6379/0", channel=channel, positions_s=3600)
    there = await hubs(redis_url="redis://127.0.0.1:6379/0", channel=channel, positions_s=3600)
    sock = FakeSocket()
    await here.subscribe(here.connection(sock.send, CITY), (), ("1503",), None, nothing)
    here.moved(moved(1, GRID, 106.80))
    there.moved(moved(2, OTHER_GRID, 106.90))
    there.moved(moved(1, GRID, 106.79, at="09:59:59"))  # older than what this process has
    there.send_positions()  # sends its fixes to the others, once
    await until(lambda: len(here._moved) == 2, within=3)
    here.send_positions()
    await until(lambda: heard(sock))
    assert sorted(heard(sock)[0]) == [(1, 106.80), (2, 106.90)]


async def test_a_grid_change_reloads_the_grid_index(hubs, scratch_database):
    reloads = []

    async def reload() -> None:
        reloads.append(1)

    await hubs(on_layers_changed=reload)
    await write(scratch_database.engine, NewEvent("grids.changed", "grids", "150302001001"))
    await until(lambda: reloads == [1])
