"""Many rows at once, inside the current write transaction, without Piccolo's per-row objects.

An import writes up to hundreds of thousands of rows: ``executemany`` on SQLite and
``COPY``/``executemany`` on PostgreSQL do that in a fraction of the time a query builder takes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Sequence
from typing import Any

from piccolo.engine import SQLiteEngine
from piccolo.table import Table

_CHUNK = 10_000


def _connection(table: type[Table]) -> tuple[Any, bool]:
    engine = table._meta.db
    transaction = engine.current_transaction.get()
    if transaction is None:
        raise RuntimeError("bulk writes must run inside backend.db.write_transaction()")
    return transaction.connection, isinstance(engine, SQLiteEngine)


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


async def insert(
    table: type[Table], columns: Sequence[str], chunks: Iterable[Sequence[tuple]]
) -> None:
    """Insert rows given chunk by chunk.

    Each chunk is written while the next one is being made: SQLite works in aiosqlite's
    thread and shapely's encoders release the GIL, so on two cores the two overlap.
    """
    connection, sqlite = _connection(table)
    name = table._meta.tablename
    if sqlite:
        marks = ", ".join("?" * len(columns))
        sql = f'INSERT INTO "{name}" ({_quoted(columns)}) VALUES ({marks})'

        def write(rows: Sequence[tuple]) -> Awaitable[Any]:
            return connection.executemany(sql, rows)
    else:

        def write(rows: Sequence[tuple]) -> Awaitable[Any]:
            return connection.copy_records_to_table(name, records=rows, columns=list(columns))

    pending: asyncio.Future | None = None
    try:
        for rows in chunks:
            if not rows:
                continue
            if pending is not None:
                await pending
            pending = asyncio.ensure_future(write(rows))
            await asyncio.sleep(0)  # let the write start before the next chunk is made
    finally:
        # Also when making a chunk failed: the transaction must not roll back under a write.
        if pending is not None:
            await pending


async def update(
    table: type[Table], key: str, columns: Sequence[str], rows: Sequence[tuple]
) -> None:
    """Each row is ``(*values, key_value)``."""
    if not rows:
        return
    connection, sqlite = _connection(table)
    name = table._meta.tablename
    if sqlite:
        sets = ", ".join(f'"{c}" = ?' for c in columns)
        sql = f'UPDATE "{name}" SET {sets} WHERE "{key}" = ?'
    else:
        sets = ", ".join(f'"{c}" = ${i}' for i, c in enumerate(columns, 1))
        sql = f'UPDATE "{name}" SET {sets} WHERE "{key}" = ${len(columns) + 1}'
    await connection.executemany(sql, rows)


async def delete(table: type[Table], key: str, values: Sequence[Any]) -> None:
    if not values:
        return
    connection, sqlite = _connection(table)
    name = table._meta.tablename
    for start in range(0, len(values), _CHUNK):
        chunk = list(values[start : start + _CHUNK])
        if sqlite:
            marks = ", ".join("?" * len(chunk))
            await connection.execute(f'DELETE FROM "{name}" WHERE "{key}" IN ({marks})', chunk)
        else:
            await connection.execute(f'DELETE FROM "{name}" WHERE "{key}" = ANY($1)', chunk)
