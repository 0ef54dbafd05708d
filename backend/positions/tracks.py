"""Tracks: accepted fixes written to ``track_point`` many rows per statement.

Live fixes are buffered and written by one task every second, or as soon as
:data:`FLUSH_ROWS` are waiting, and on shutdown; a fix already stored for the same person and
time is skipped by the database (``ON CONFLICT DO NOTHING`` on the unique index), so a retried
upload never doubles a track.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime

from piccolo.engine import Engine, SQLiteEngine

from backend.core.db import write_transaction
from backend.positions.checks import Fix
from backend.positions.tables import TrackPoint

log = logging.getLogger("wangge.positions")

FLUSH_SECONDS = 1.0
FLUSH_ROWS = 2_000
# What a database that stays away may cost in memory before the oldest fixes are dropped:
# about a minute of a city's fixes, some 20 MB.
MAX_BACKLOG = 100_000

Row = tuple[int, datetime, float, float, float]  # person, at, lon, lat, accuracy

_COLUMNS = '"person", "at", "lon", "lat", "accuracy"'
_SQLITE = (
    f'INSERT INTO "track_point" ({_COLUMNS}) VALUES (?, ?, ?, ?, ?)'
    ' ON CONFLICT ("person", "at") DO NOTHING'
)
# One statement for the whole batch: asyncpg's executemany would send a row per round of the
# protocol, and COPY cannot skip duplicates.
_POSTGRES = (
    f'INSERT INTO "track_point" ({_COLUMNS}) SELECT * FROM unnest('
    "$1::integer[], $2::timestamptz[], $3::float8[], $4::float8[], $5::float8[])"
    ' ON CONFLICT ("person", "at") DO NOTHING'
)


def row_of(person: int, fix: Fix) -> Row:
    return (person, fix.at, fix.lon, fix.lat, fix.accuracy)


async def write_rows(rows: Sequence[Row]) -> int:
    """Insert ``rows`` in one write transaction; how many were new."""
    if not rows:
        return 0
    engine: Engine = TrackPoint._meta.db
    async with write_transaction(engine):
        transaction = engine.current_transaction.get()
        if transaction is None:
            raise RuntimeError("write_transaction opened no transaction")
        connection = transaction.connection
        if isinstance(engine, SQLiteEngine):
            cursor = await connection.executemany(_SQLITE, rows)
            return cursor.rowcount
        status = await connection.execute(_POSTGRES, *(list(c) for c in zip(*rows, strict=True)))
        return int(status.rsplit(" ", 1)[-1])


class TrackWriter:
    """Buffers live fixes and writes them in batches from a task of its own."""

    def __init__(self, seconds: float = FLUSH_SECONDS, rows: int = FLUSH_ROWS) -> None:
        self.seconds = seconds
        self.rows = rows
        self._buffer: list[Row] = []
        self._full = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task = asyncio.create_task(self._write_forever(), name="positions-tracks")

    @property
    def buffered(self) -> int:
        """Fixes waiting for the next write."""
        return len(self._buffer)

    def add(self, person: int, fix: Fix) -> None:
        self._buffer.append(row_of(person, fix))
        if len(self._buffer) >= self.rows:
            self._full.set()

    async def flush(self) -> int:
        """Write what is buffered; on failure the rows stay for the next flush."""
        async with self._lock:
            rows, self._buffer = self._buffer, []
            try:
                return await write_rows(rows)
            except BaseException:
                self._buffer[:0] = rows
                if len(self._buffer) > MAX_BACKLOG:
                    dropped = len(self._buffer) - MAX_BACKLOG
                    del self._buffer[:dropped]
                    log.error("track backlog full: dropped the %d oldest fixes", dropped)
                raise

    async def _write_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), self.seconds)
            self._full.clear()
            try:
                await self.flush()
            except Exception:
                log.exception("writing %d track points failed; retrying", len(self._buffer))

    async def close(self) -> None:
        """Stop the task between two flushes (a cancelled one would roll back), then write what
        is left."""
        async with self._lock:
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self.flush()
