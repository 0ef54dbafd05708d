"""The last-position store: each worker's newest fix and their presence (on duty or not).

Last value wins, by the fix's own time: an offline batch uploaded late never hides a newer live
fix. In memory here; backend.positions.redis_store keeps the same in Redis so that every
process answers alike. Reads go by scope: a grid code, or an area code covering grids.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

import msgspec

from backend.core.areas import code_within


class Position(msgspec.Struct, frozen=True):
    """A worker's accepted fix; ``grid`` is the grid it is shown under, ``received`` when the
    server got it."""

    person: int
    name: str
    grid: str
    lon: float
    lat: float
    accuracy: float
    at: datetime
    received: datetime


class Presence(msgspec.Struct, frozen=True):
    """On duty or not, since when; ``grid`` is the worker's home grid."""

    person: int
    name: str
    grid: str
    on_duty: bool
    since: datetime


class Latest(msgspec.Struct):
    """What ``GET /api/positions/latest`` answers per worker; position fields are null until a
    first fix arrives."""

    person: int
    name: str
    grid: str
    on_duty: bool
    last_seen: datetime | None
    lon: float | None = None
    lat: float | None = None
    accuracy: float | None = None
    at: datetime | None = None


class Store(Protocol):
    def put_position(self, position: Position) -> None:
        """Keep ``position`` unless a newer fix of the worker is stored; never blocks."""

    async def put_presence(self, presence: Presence) -> None: ...

    async def position_of(self, person: int) -> Position | None: ...

    async def presence_of(self, person: int) -> Presence | None: ...

    async def latest(self, scope: str) -> list[Latest]: ...

    async def flush(self) -> None:
        """Return once every put so far can be read by every process."""

    async def close(self) -> None: ...


def combine(positions: Iterable[Position], presences: Iterable[Presence]) -> list[Latest]:
    """One entry per worker, ordered by grid then person; last seen is the later of the last
    fix received and the last duty change.

    >>> from datetime import UTC
    >>> t0, t1 = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 0, 5, tzinfo=UTC)
    >>> [e.last_seen == t1 for e in combine(
    ...     [Position(1, "甲", "15030200100101", 106.8, 39.6, 5.0, t0, t1)],
    ...     [Presence(1, "甲", "15030200100101", True, t0)])]
    [True]
    """
    entries: dict[int, Latest] = {}
    for p in presences:
        entries[p.person] = Latest(p.person, p.name, p.grid, p.on_duty, p.since)
    for f in positions:
        entry = entries.get(f.person)
        if entry is None:
            entry = entries[f.person] = Latest(f.person, f.name, f.grid, False, None)
        entry.grid, entry.lon, entry.lat, entry.accuracy, entry.at = (
            f.grid,
            f.lon,
            f.lat,
            f.accuracy,
            f.at,
        )
        if entry.last_seen is None or f.received > entry.last_seen:
            entry.last_seen = f.received
    return sorted(entries.values(), key=lambda e: (e.grid, e.person))


class MemoryStore:
    """The store of a single process."""

    def __init__(self) -> None:
        self._positions: dict[int, Position] = {}
        self._presence: dict[int, Presence] = {}

    def put_position(self, position: Position) -> None:
        old = self._positions.get(position.person)
        if old is None or position.at >= old.at:
            self._positions[position.person] = position

    async def put_presence(self, presence: Presence) -> None:
        self._presence[presence.person] = presence

    async def position_of(self, person: int) -> Position | None:
        return self._positions.get(person)

    async def presence_of(self, person: int) -> Presence | None:
        return self._presence.get(person)

    async def latest(self, scope: str) -> list[Latest]:
        return combine(
            (p for p in self._positions.values() if code_within(p.grid, scope)),
            (p for p in self._presence.values() if code_within(p.grid, scope)),
        )

    async def flush(self) -> None:
        return None

    async def close(self) -> None:
        return None
