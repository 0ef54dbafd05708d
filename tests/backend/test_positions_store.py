"""The last-position store, in memory and in the Redis server of this machine (127.0.0.1:6379).

Each Redis test works under a key prefix of its own and removes its keys afterwards. A Redis
that cannot be reached fails these tests; nothing is skipped.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
import redis.asyncio as aioredis

from backend.positions.redis_store import RedisStore
from backend.positions.store import MemoryStore, Position, Presence

REDIS_URL = "redis://127.0.0.1:6379/0"
T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
GRID_A, GRID_B = "15030200100101", "15030200100102"
OTHER_COMMUNITY_GRID = "15030200100201"


def fix(person: int, grid: str, seconds: float, lon: float = 106.8) -> Position:
    at = T0 + timedelta(seconds=seconds)
    return Position(person, f"w{person}", grid, lon, 39.67, 8.0, at, at)


@pytest_asyncio.fixture
async def prefix() -> AsyncIterator[str]:
    name = f"wangge-test:{uuid.uuid4().hex[:12]}:"
    yield name
    client = aioredis.Redis.from_url(REDIS_URL)
    keys = [k async for k in client.scan_iter(match=f"{name}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest_asyncio.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator:
    made = MemoryStore() if request.param == "memory" else RedisStore(REDIS_URL, prefix)
    yield made
    await made.close()


async def test_the_newest_fix_wins_whatever_the_order_of_arrival(store):
    store.put_position(fix(1, GRID_A, 10, lon=106.81))
    store.put_position(fix(1, GRID_A, 5, lon=106.80))  # an offline fix uploaded late
    await store.flush()
    assert (await store.position_of(1)).lon == 106.81
    store.put_position(fix(1, GRID_A, 11, lon=106.82))
    await store.flush()
    assert (await store.position_of(1)).lon == 106.82
    assert await store.position_of(2) is None


async def test_a_scope_returns_its_workers_with_presence(store):
    store.put_position(fix(1, GRID_A, 1))
    store.put_position(fix(2, GRID_B, 2))
    store.put_position(fix(3, OTHER_COMMUNITY_GRID, 3))
    await store.put_presence(Presence(1, "w1", GRID_A, True, T0))
    await store.put_presence(Presence(4, "w4", GRID_B, True, T0 + timedelta(seconds=30)))
    await store.flush()
    community = await store.latest(GRID_A[:12])
    assert [(e.person, e.grid, e.on_duty) for e in community] == [
        (1, GRID_A, True),
        (2, GRID_B, False),
        (4, GRID_B, True),
    ]
    one, _, four = community
    assert (one.lon, one.at, one.last_seen) == (106.8, T0 + timedelta(seconds=1), one.at)
    assert four.lon is None and four.last_seen == T0 + timedelta(seconds=30)
    assert [e.person for e in await store.latest(GRID_B)] == [2, 4]
    assert [e.person for e in await store.latest("150300")] == [1, 2, 4, 3]  # the city
    assert await store.latest("150303") == []


async def test_a_worker_who_moves_to_another_grid_is_listed_once(store):
    store.put_position(fix(1, GRID_A, 1))
    store.put_position(fix(1, GRID_B, 2))
    await store.flush()
    assert await store.latest(GRID_A) == []
    assert [(e.person, e.grid) for e in await store.latest(GRID_A[:12])] == [(1, GRID_B)]


async def test_going_off_duty_replaces_presence(store):
    await store.put_presence(Presence(1, "w1", GRID_A, True, T0))
    await store.put_presence(Presence(1, "w1", GRID_A, False, T0 + timedelta(minutes=5)))
    [entry] = await store.latest(GRID_A)
    assert (entry.on_duty, entry.last_seen) == (False, T0 + timedelta(minutes=5))


async def test_two_processes_on_one_redis_agree(prefix):
    first, second = RedisStore(REDIS_URL, prefix), RedisStore(REDIS_URL, prefix)
    try:
        for i in range(200):
            first.put_position(fix(i, GRID_A if i % 2 else GRID_B, i))
        await second.put_presence(Presence(7, "w7", GRID_B, True, T0))
        second.put_position(fix(7, GRID_B, -100))  # older than what the first one wrote
        await first.flush()
        await second.flush()
        for store in (first, second):
            seen = await store.latest(GRID_A[:12])
            assert len(seen) == 200
            assert next(e for e in seen if e.person == 7).at == T0 + timedelta(seconds=7)
            assert next(e for e in seen if e.person == 7).on_duty
    finally:
        await first.close()
        await second.close()


async def test_writes_queued_in_a_burst_reach_redis_without_an_explicit_flush(prefix):
    writer, reader = RedisStore(REDIS_URL, prefix), RedisStore(REDIS_URL, prefix)
    try:
        for i in range(1000):
            writer.put_position(fix(i % 100, GRID_A, i))  # each worker ten times
        for _ in range(100):
            if len(await reader.latest(GRID_A)) == 100:
                break
            await asyncio.sleep(0.02)
        latest = await reader.latest(GRID_A)
        assert len(latest) == 100
        assert {e.person: e.at for e in latest}[3] == T0 + timedelta(seconds=903)
    finally:
        await writer.close()
        await reader.close()


async def test_a_worker_left_on_duty_by_a_dead_process_is_read_as_off_duty(prefix):
    alive = RedisStore(REDIS_URL, prefix, lease_s=0.3)
    dying = RedisStore(REDIS_URL, prefix, lease_s=0.3)
    reader = RedisStore(REDIS_URL, prefix)
    try:
        await alive.put_presence(Presence(1, "w1", GRID_A, True, T0))
        await dying.put_presence(Presence(2, "w2", GRID_A, True, T0))
        await dying.close()  # its process dies: the duty is never ended, the lease not renewed
        await asyncio.sleep(0.6)  # two leases long: the living process renewed its own
        on = {e.person: e.on_duty for e in await reader.latest(GRID_A)}
        assert on == {1: True, 2: False}
        await alive.put_presence(Presence(2, "w2", GRID_A, True, T0 + timedelta(minutes=1)))
        on = {e.person: e.on_duty for e in await reader.latest(GRID_A)}
        assert on == {1: True, 2: True}  # the worker's phone said "duty on" to another process
    finally:
        await alive.close()
        await reader.close()
