"""The last-position store in Redis, shared by every process (``REDIS_URL``).

Keys, under a prefix:

- ``pos:{grid}`` and ``duty:{grid}``: hashes person → JSON, positions and presence of the
  workers shown under that grid;
- ``where:pos`` and ``where:duty``: hashes person → "grid time_ms", where each worker's entry is
  and how new it is, so that a worker who moves to another of their grids leaves no copy
  behind and an older fix never overwrites a newer one;
- ``grids``: the set of grids with entries; a scope's read takes those under it;
- ``lease:{person}``: while a worker is on duty, the process holding their socket renews this
  key every third of ``lease_s``, and it expires ``lease_s`` after the last renewal. A presence
  "on duty" whose lease is gone was left by a process that died without ending the duty: it is
  read as off duty, so the big screen does not show a worker on duty forever.

Writes are queued and sent by one task as one script call for everything queued meanwhile:
under load a call carries hundreds of workers, and a worker who sent twice meanwhile is written
once. The script keeps the "newer wins" rule atomic across processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

import msgspec
import redis.asyncio as aioredis

from backend.core.areas import code_within
from backend.positions.store import Latest, Position, Presence, combine

log = logging.getLogger("wangge.positions")

# ARGV: prefix, then (kind, person, grid, time_ms, body) per entry.
_PUT = """
local prefix = ARGV[1]
for i = 2, #ARGV, 5 do
  local kind, person, grid, t, body = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local where = prefix .. 'where:' .. kind
  local was = redis.call('HGET', where, person)
  local newer = true
  if was then
    local sep = string.find(was, ' ', 1, true)
    local old_grid = string.sub(was, 1, sep - 1)
    if tonumber(t) < tonumber(string.sub(was, sep + 1)) then
      newer = false
    elseif old_grid ~= grid then
      redis.call('HDEL', prefix .. kind .. ':' .. old_grid, person)
    end
  end
  if newer then
    redis.call('HSET', prefix .. kind .. ':' .. grid, person, body)
    redis.call('HSET', where, person, grid .. ' ' .. t)
    redis.call('SADD', prefix .. 'grids', grid)
  end
end
return 0
"""

_Entry = tuple[str, int, bytes]  # grid, time_ms, body
# How long a dead process's workers stay shown on duty.
LEASE_S = 90.0


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


class RedisStore:
    def __init__(self, url: str, prefix: str, lease_s: float = LEASE_S) -> None:
        self.prefix = prefix
        self.lease_ms = int(lease_s * 1000)
        self._redis = aioredis.Redis.from_url(url)
        self._put = self._redis.register_script(_PUT)
        self._queued: dict[tuple[str, int], _Entry] = {}
        self._on_duty: set[int] = set()  # the workers whose leases this process renews
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._writer = asyncio.create_task(self._write_forever(), name="positions-redis")
        self._renewer = asyncio.create_task(self._renew_forever(), name="positions-leases")

    def _queue(self, kind: str, person: int, grid: str, at: datetime, body: bytes) -> None:
        key, t = (kind, person), _ms(at)
        queued = self._queued.get(key)
        if queued is None or t >= queued[1]:
            self._queued[key] = (grid, t, body)
            self._wake.set()

    def put_position(self, position: Position) -> None:
        body = msgspec.json.encode(position)
        self._queue("pos", position.person, position.grid, position.at, body)

    async def put_presence(self, presence: Presence) -> None:
        lease = self._lease(presence.person)
        # The lease before "on duty" is written: read in between, the worker would be off.
        if presence.on_duty:
            self._on_duty.add(presence.person)
            await self._redis.set(lease, 1, px=self.lease_ms)
        else:
            # A renewal already on its way may bring the lease back for up to lease_s: harmless,
            # a lease is only read for a presence that says on duty.
            self._on_duty.discard(presence.person)
            await self._redis.delete(lease)
        body = msgspec.json.encode(presence)
        self._queue("duty", presence.person, presence.grid, presence.since, body)
        await self.flush()

    def _lease(self, person: int) -> str:
        return f"{self.prefix}lease:{person}"

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.lease_ms / 3000)
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for person in self._on_duty:
                        pipe.set(self._lease(person), 1, px=self.lease_ms)
                    await pipe.execute()
            except Exception:
                log.exception("renewing duty leases in Redis failed; retrying")

    async def flush(self) -> None:
        async with self._lock:
            while self._queued:
                batch, self._queued = self._queued, {}
                args: list[str | int | bytes] = [self.prefix]
                for (kind, person), (grid, t, body) in batch.items():
                    args += [kind, person, grid, t, body]
                try:
                    await self._put(args=args)
                except BaseException:
                    # Kept for the next try, unless something newer was queued meanwhile.
                    for key, entry in batch.items():
                        self._queued.setdefault(key, entry)
                    raise

    async def _write_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.flush()
            except Exception:
                log.exception("writing positions to Redis failed; retrying in 1 s")
                await asyncio.sleep(1)
                self._wake.set()

    async def _stored(self, kind: str, person: int) -> bytes | None:
        """A worker's entry of ``kind`` ("pos" or "duty"), found through where it is kept."""
        where = await self._redis.hget(f"{self.prefix}where:{kind}", str(person))
        if where is None:
            return None
        grid = where.decode().partition(" ")[0]
        return await self._redis.hget(f"{self.prefix}{kind}:{grid}", str(person))

    async def position_of(self, person: int) -> Position | None:
        body = await self._stored("pos", person)
        return None if body is None else msgspec.json.decode(body, type=Position)

    async def presence_of(self, person: int) -> Presence | None:
        body = await self._stored("duty", person)
        if body is None:
            return None
        [presence] = await self._leased([msgspec.json.decode(body, type=Presence)])
        return presence

    async def latest(self, scope: str) -> list[Latest]:
        grids = sorted(
            g
            for g in (m.decode() for m in await self._redis.smembers(f"{self.prefix}grids"))
            if code_within(g, scope)
        )
        if not grids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for grid in grids:
                pipe.hvals(f"{self.prefix}pos:{grid}")
                pipe.hvals(f"{self.prefix}duty:{grid}")
            found = await pipe.execute()
        positions = [msgspec.json.decode(b, type=Position) for b in _flat(found[0::2])]
        presences = [msgspec.json.decode(b, type=Presence) for b in _flat(found[1::2])]
        return combine(positions, await self._leased(presences))

    async def _leased(self, presences: list[Presence]) -> list[Presence]:
        """The presences, with "on duty" kept only where its lease is alive."""
        on = [p for p in presences if p.on_duty]
        if not on:
            return presences
        alive = await self._redis.mget([self._lease(p.person) for p in on])
        lapsed = {p.person for p, a in zip(on, alive, strict=True) if a is None}
        return [
            msgspec.structs.replace(p, on_duty=False) if p.person in lapsed else p
            for p in presences
        ]

    async def close(self) -> None:
        try:
            await self.flush()
        finally:
            for task in (self._writer, self._renewer):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self._redis.aclose()


def _flat(lists: list[list[bytes]]) -> list[bytes]:
    return [b for values in lists for b in values]
