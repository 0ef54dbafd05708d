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
# The SQLite page cache (KiB) a large insert may fill: SQLite's default is 2 MB.
_INSERT_CACHE_KIB = 256 * 1024


def _connection(table: type[Table]) -> tuple[Any, bool]:
    engine = table._meta.db
    transaction = engine.current_transaction.get()
    if transaction is None:
        raise RuntimeError("bulk writes must run inside backend.core.db.write_transaction()")
    return transaction.connection, isinstance(engine, SQLiteEngine)


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


async def insert(
    table: type[Table], columns: Sequence[str], chunks: Iterable[Iterable[tuple]]
) -> None:
    """Insert rows given chunk by chunk (a chunk is a list of rows, or an iterator of them).

    Each chunk is written while the next one is being made: SQLite works in the writer
    connection's thread (backend.core.sqlite_engine), and releases the GIL while it steps, so
    on two cores the two overlap.
    """
    connection, sqlite = _connection(table)
    name = table._meta.tablename
    cache_size = None
    if sqlite:
        marks = ", ".join("?" * len(columns))
        sql = f'INSERT INTO "{name}" ({_quoted(columns)}) VALUES ({marks})'
        # With SQLite's 2 MB page cache, a large insert spilled the pages of the table and of
        # its indexes to the WAL and read them back chunk after chunk (a third of its time).
        # While it runs they may all stay in memory; dirty pages are kept until the commit
        # writes them, whatever the cache size is set back to.
        cache_size = _value(await connection.execute_fetchall("PRAGMA cache_size"))
        await connection.execute(f"PRAGMA cache_size = -{_INSERT_CACHE_KIB}")

        def write(rows: Iterable[tuple]) -> Awaitable[Any]:
            return connection.executemany(sql, rows)
    else:

        def write(rows: Iterable[tuple]) -> Awaitable[Any]:
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
        if cache_size is not None:
            await connection.execute(f"PRAGMA cache_size = {int(cache_size)}")


def _value(rows: Sequence[Any]) -> Any:
    """The one value a PRAGMA answers, whether rows come as dicts (Piccolo's) or tuples."""
    row = rows[0]
    return next(iter(row.values())) if isinstance(row, dict) else row[0]


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
