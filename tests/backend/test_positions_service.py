"""The positions service as the live socket drives it (``on_message``, ``on_disconnect``), with a
fake hub in place of backend/live's, on both databases."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import msgspec
import pytest
import pytest_asyncio
import redis.asyncio as aioredis
import shapely

from backend.auth.principal import principal_of
from backend.core.principal import Principal
from backend.grids.locator import load_grid_index
from backend.grids.tables import Grid, GridPost
from backend.live.schemas import Moved
from backend.people.tables import Person
from backend.positions.patrol_service import patrol_log
from backend.positions.redis_store import RedisStore
from backend.positions.service import Positions
from backend.positions.store import MemoryStore, Presence
from backend.positions.tables import DutyPeriod, TrackPoint
from backend.positions.tracks import TrackWriter
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE

NEXT_GRID = DEMO_GRID_CODE[:-2] + "02"
REDIS_URL = "redis://127.0.0.1:6379/0"


class FakeHub:
    """What backend/live's hub offers positions: ``broadcast(scope, message)`` for presence,
    ``moved(fix)`` for the fixes it batches (kept here as "position" messages of the grid)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict]] = []

    def broadcast(self, scope: str, message: dict) -> None:
        self.sent.append((scope, message))

    def moved(self, fix: Moved) -> None:
        self.sent.append((fix.grid, {"type": "position", **msgspec.structs.asdict(fix)}))

    def of(self, kind: str) -> list[tuple[str, dict]]:
        return [(s, m) for s, m in self.sent if m["type"] == kind]


async def principal(role: str) -> Principal:
    row = await Person.select(Person.id).where(Person.phone == DEMO_ACCOUNTS[role]).first()
    found = await principal_of(row["id"])
    assert found is not None
    return found


async def inside(code: str) -> tuple[float, float]:
    row = await Grid.select(Grid.geom).where(Grid.code == code).first()
    p = shapely.point_on_surface(shapely.from_geojson(row["geom"]))
    return p.x, p.y


def position(lon: float, lat: float, seconds_ago: float = 0.0, **extra) -> dict:
    at = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    base = {"type": "position", "lon": lon, "lat": lat, "accuracy": 8.0, "at": at.isoformat()}
    return base | extra


@pytest_asyncio.fixture
async def live(scratch_database) -> AsyncIterator[tuple[Positions, FakeHub]]:
    hub = FakeHub()
    index = await load_grid_index()
    positions = Positions(MemoryStore(), TrackWriter(), hub=lambda: hub, grid_index=lambda: index)
    yield positions, hub
    await positions.close()


async def track_rows(person: int) -> list[dict]:
    return await TrackPoint.select().where(TrackPoint.person == person).order_by(TrackPoint.at)


@pytest.mark.parametrize("role", ["resident", "community_staff", "street_staff", "city_admin"])
async def test_only_grid_staff_share_positions(live, role):
    positions, hub = live
    who = await principal(role)
    for msg in ({"type": "duty", "on": True}, position(106.8, 39.67)):
        answer = await positions.on_message(who, msg)
        assert answer["type"] == "error" and answer["code"] == "forbidden"
    assert hub.sent == [] and positions.on_duty == {}
    assert await DutyPeriod.count() == 0


async def test_positions_need_duty_first(live):
    positions, hub = live
    worker = await principal("grid_worker")
    answer = await positions.on_message(worker, position(*await inside(DEMO_GRID_CODE)))
    assert answer["code"] == "not_on_duty"
    assert hub.sent == [] and await positions.store.position_of(worker.id) is None


async def test_duty_on_a_fix_and_duty_off(live):
    positions, hub = live
    worker = await principal("grid_worker")
    lon, lat = await inside(DEMO_GRID_CODE)
    assert await positions.on_message(worker, {"type": "duty", "on": True}) is None
    [(scope, presence)] = hub.of("presence")
    assert scope == DEMO_GRID_CODE
    assert presence | {"last_seen": None} == {
        "type": "presence",
        "person": worker.id,
        "name": worker.name,
        "grid": DEMO_GRID_CODE,
        "on_duty": True,
        "last_seen": None,
    }
    assert await positions.on_message(worker, position(lon, lat, 1.0)) is None
    [(scope, sent)] = hub.of("position")
    assert scope == DEMO_GRID_CODE
    assert {k: sent[k] for k in ("person", "name", "grid", "lon", "lat", "accuracy")} == {
        "person": worker.id,
        "name": worker.name,
        "grid": DEMO_GRID_CODE,
        "lon": lon,
        "lat": lat,
        "accuracy": 8.0,
    }
    stored = await positions.store.position_of(worker.id)
    assert (stored.lon, stored.lat, stored.at.isoformat()) == (lon, lat, sent["at"])
    await positions.tracks.flush()
    assert [(r["lon"], r["lat"]) for r in await track_rows(worker.id)] == [(lon, lat)]

    assert await positions.on_message(worker, {"type": "duty", "on": False}) is None
    assert hub.of("presence")[-1][1]["on_duty"] is False
    [period] = await DutyPeriod.select().where(DutyPeriod.person == worker.id)
    assert period["ended_at"] >= period["started_at"]
    answer = await positions.on_message(worker, position(lon, lat))
    assert answer["code"] == "not_on_duty"
    [entry] = await positions.store.latest(DEMO_GRID_CODE[:12])
    assert (entry.person, entry.on_duty, entry.lon) == (worker.id, False, lon)


@pytest.mark.parametrize(
    ("change", "check"),
    [
        ({"lon": 200.0}, "invalid_coordinate"),
        ({"accuracy": 900.0}, "inaccurate"),
        ({"accuracy": -1}, "invalid_accuracy"),
        ({"at": "2099-01-01T00:00:00Z"}, "future_timestamp"),
        ({"at": "2020-01-01T00:00:00Z"}, "stale_timestamp"),
        ({"crs": "mars"}, "unknown_crs"),
        ({"lat": "39.6"}, "invalid_value"),
        ({"lon": 106.0}, "impossible_jump"),  # ~70 km from the first fix, a second later
    ],
)
async def test_a_bad_fix_gets_an_error_and_changes_nothing(live, change, check):
    positions, hub = live
    worker = await principal("grid_worker")
    lon, lat = await inside(DEMO_GRID_CODE)
    await positions.on_message(worker, {"type": "duty", "on": True})
    await positions.on_message(worker, position(lon, lat, 2.0))
    before = (list(hub.sent), await positions.store.position_of(worker.id))
    answer = await positions.on_message(worker, position(lon, lat, 1.0) | change)
    assert answer["type"] == "error" and answer["code"] == "bad_position"
    assert answer["check"] == check and answer["reason"]
    assert (list(hub.sent), await positions.store.position_of(worker.id)) == before
    await positions.tracks.flush()
    assert len(await track_rows(worker.id)) == 1
    # The refused fix did not become the reference for the next one either.
    assert await positions.on_message(worker, position(lon, lat, 0.5)) is None


async def test_malformed_messages_are_named(live):
    positions, _ = live
    worker = await principal("grid_worker")
    assert (await positions.on_message(worker, {"type": "duty"}))["code"] == "bad_message"
    assert (await positions.on_message(worker, {"type": "duty", "on": "yes"}))["code"] == (
        "bad_message"
    )
    assert (await positions.on_message(worker, {"type": "chat"}))["code"] == "bad_message"


async def test_every_accepted_fix_goes_to_the_hub_which_batches_them(live):
    positions, hub = live
    worker, leader = await principal("grid_worker"), await principal("grid_leader")
    lon, lat = await inside(DEMO_GRID_CODE)
    for who in (worker, leader):
        await positions.on_message(who, {"type": "duty", "on": True})
    for i in range(5):
        for who in (worker, leader):
            fix = position(lon + i * 1e-5, lat, 1.0 - i * 0.1)
            assert await positions.on_message(who, fix) is None
    sent = hub.of("position")
    assert len(sent) == 10
    assert [m["lon"] for _, m in sent if m["person"] == worker.id] == [
        lon + i * 1e-5 for i in range(5)
    ]
    # Every fix was accepted: the store has the newest, the track has all five.
    assert (await positions.store.position_of(worker.id)).lon == lon + 4e-5
    await positions.tracks.flush()
    assert len(await track_rows(worker.id)) == 5


async def test_a_closed_socket_ends_the_duty(live):
    positions, hub = live
    worker = await principal("grid_worker")
    await positions.on_message(worker, {"type": "duty", "on": True})
    await positions.on_disconnect(worker)
    assert hub.of("presence")[-1][1]["on_duty"] is False
    assert worker.id not in positions.on_duty
    assert await DutyPeriod.count().where(DutyPeriod.ended_at.is_null()) == 0
    await positions.on_disconnect(worker)  # a second close is harmless
    assert len(hub.of("presence")) == 2


async def test_duty_on_twice_is_one_period(live):
    positions, hub = live
    worker = await principal("grid_worker")
    await positions.on_message(worker, {"type": "duty", "on": True})
    await positions.on_message(worker, {"type": "duty", "on": True})
    assert await DutyPeriod.count() == 1 and len(hub.of("presence")) == 1


async def test_a_worker_of_two_grids_is_shown_in_the_one_they_stand_in(live):
    positions, hub = live
    worker = await principal("grid_worker")
    grid = await Grid.select(Grid.id).where(Grid.code == NEXT_GRID).first()
    await GridPost.insert(
        GridPost(grid=grid["id"], person=worker.id, post="parttime", since=datetime.now(UTC))
    )
    worker = await principal("grid_worker")  # read with the new post, as a request would
    await positions.on_message(worker, {"type": "duty", "on": True})
    assert hub.of("presence")[0][0] == DEMO_GRID_CODE  # home: the full-time post
    here, there = await inside(DEMO_GRID_CODE), await inside(NEXT_GRID)
    await positions.on_message(worker, position(*there, 120.0))
    await positions.on_message(worker, position(*here, 3.0))
    assert [s for s, _ in hub.of("position")] == [NEXT_GRID, DEMO_GRID_CODE]
    assert [e.grid for e in await positions.store.latest(NEXT_GRID)] == []


async def test_closing_ends_duties_and_writes_the_buffered_track(scratch_database):
    hub = FakeHub()
    positions = Positions(MemoryStore(), TrackWriter(seconds=60), lambda: hub, lambda: None)
    worker = await principal("grid_worker")
    lon, lat = await inside(DEMO_GRID_CODE)
    await positions.on_message(worker, {"type": "duty", "on": True})
    for i in range(3):
        await positions.on_message(worker, position(lon, lat + i * 1e-5, 3.0 - i))
    assert await track_rows(worker.id) == []
    await positions.close()
    assert len(await track_rows(worker.id)) == 3
    assert await DutyPeriod.count().where(DutyPeriod.ended_at.is_null()) == 0
    assert hub.of("presence")[-1][1]["on_duty"] is False


def fix(lon: float, lat: float, at: datetime) -> dict:
    return {"lon": lon, "lat": lat, "accuracy": 6, "at": at.isoformat()}


async def test_a_retried_upload_does_not_double_the_track(live):
    positions, _ = live
    worker = await principal("grid_worker")
    lon, lat = await inside(DEMO_GRID_CODE)
    start = datetime.now(UTC) - timedelta(hours=2)
    items = [fix(lon + i * 1e-4, lat, start + timedelta(seconds=10 * i)) for i in range(20)]
    shuffled = items[10:] + items[:10]  # the phone may send them in any order
    bad = [fix(lon, 95.0, start), fix(lon + 1.0, lat, start + timedelta(seconds=55)), "no"]
    first = await positions.upload(worker, shuffled + bad)
    assert first.accepted == 20 and first.duplicates == 0
    assert [(r.index, r.code) for r in first.rejected] == [
        (20, "invalid_coordinate"),
        (21, "impossible_jump"),
        (22, "invalid_value"),
    ]
    again = await positions.upload(worker, shuffled)
    assert (again.accepted, again.duplicates, again.rejected) == (0, 20, [])
    rows = await track_rows(worker.id)
    assert len(rows) == 20 and [r["lon"] for r in rows] == [i["lon"] for i in items]
    newest = await positions.store.position_of(worker.id)
    assert newest.lon == items[-1]["lon"]
    # An upload older than the live position does not move the worker back.
    await positions.on_message(worker, {"type": "duty", "on": True})
    await positions.on_message(worker, position(lon, lat, 1.0))
    older = [{**items[0], "at": (start - timedelta(hours=1)).isoformat()}]
    assert (await positions.upload(worker, older)).accepted == 1
    assert (await positions.store.position_of(worker.id)).lon == lon


async def test_patrol_time_on_duty_comes_from_duty_periods_cut_to_the_local_day(scratch_database):
    worker = await principal("grid_worker")
    zone = ZoneInfo("Asia/Shanghai")
    now = datetime.now(UTC)
    today = now.astimezone(zone).date()
    day = today - timedelta(days=1)

    def local(d: date, hour: int) -> datetime:
        return datetime.combine(d, time(hour), zone)

    periods = [
        (local(day - timedelta(days=1), 22), local(day, 2)),  # 2 h of it on the day
        (local(day, 8), local(day, 12)),  # 4 h
        (local(day, 14), None),  # left open by a process that died: no time
        (now - timedelta(hours=1), None),  # open now
    ]
    for started, ended in periods:
        await DutyPeriod.insert(DutyPeriod(person=worker.id, started_at=started, ended_at=ended))
    store = MemoryStore()
    log = await patrol_log(worker, worker.id, day.isoformat(), zone, store)
    assert log.on_duty_seconds == 6 * 3600
    # Today: the open period runs until now while the worker is on duty, else it counts nothing.
    since = max(now - timedelta(hours=1), local(today, 0))
    await store.put_presence(Presence(worker.id, worker.name, DEMO_GRID_CODE, True, now))
    on = await patrol_log(worker, worker.id, "today", zone, store)
    assert on.on_duty_seconds == pytest.approx((now - since).total_seconds(), abs=30)
    await store.put_presence(Presence(worker.id, worker.name, DEMO_GRID_CODE, False, now))
    off = await patrol_log(worker, worker.id, "today", zone, store)
    assert off.on_duty_seconds == 0


async def test_duty_resumes_when_the_socket_on_the_other_process_closes(scratch_database):
    # One worker, two sockets on two processes sharing one Redis: closing the one ends the duty
    # (both processes read presence there), and "duty on" on the other takes it up again.
    prefix = f"wangge-test:{uuid.uuid4().hex[:12]}:positions:"
    hubs = [FakeHub(), FakeHub()]
    a, b = (
        Positions(
            RedisStore(REDIS_URL, prefix), TrackWriter(), hub=lambda h=h: h, grid_index=lambda: None
        )
        for h in hubs
    )
    worker = await principal("grid_worker")
    try:
        for process in (a, b):
            await process.on_message(worker, {"type": "duty", "on": True})
        await a.on_disconnect(worker)
        [entry] = await b.store.latest(DEMO_GRID_CODE)
        assert entry.on_duty is False
        await b.on_message(worker, {"type": "duty", "on": True})
        [entry] = await a.store.latest(DEMO_GRID_CODE)
        assert entry.on_duty is True
        assert hubs[1].of("presence")[-1][1]["on_duty"] is True
        await b.on_message(worker, {"type": "duty", "on": True})  # already on: nothing new
        assert len(hubs[1].of("presence")) == 2
    finally:
        await a.close()
        await b.close()
        client = aioredis.Redis.from_url(REDIS_URL)
        keys = [k async for k in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
