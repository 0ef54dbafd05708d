"""Piccolo's SQLite engine, with one reused connection for queries outside transactions.

Piccolo opens a new aiosqlite connection (and with it a thread) for every query that runs
outside a transaction; a request that makes ten small queries paid for ten. Here they share one
connection per event loop, in autocommit mode: SQLite in WAL mode lets it read while a writer
works, and aiosqlite runs its calls one after another on the connection's own thread.
Transactions still get a connection of their own, set to ``synchronous=NORMAL``: durable against
a crash of the process; a power cut may lose the last commits, never the file's consistency.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiosqlite
from piccolo.engine import SQLiteEngine
from piccolo.engine.sqlite import dict_factory


class SharedSQLiteEngine(SQLiteEngine):
    def __init__(self, path: str, **kwargs: Any) -> None:
        super().__init__(path=path, **kwargs)
        self._shared: dict[asyncio.AbstractEventLoop, aiosqlite.Connection] = {}

    async def _connect(self) -> aiosqlite.Connection:
        connection = aiosqlite.connect(**self.connection_kwargs)
        # A daemon thread: a command that forgets to close the engine still exits. The shared
        # connection holds no transaction, so nothing is lost when it is cut.
        connection._thread.daemon = True
        await connection
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA foreign_keys = 1")
        await connection.execute("PRAGMA synchronous = NORMAL")
        return connection

    async def get_connection(self) -> aiosqlite.Connection:
        return await self._connect()

    async def _shared_connection(self) -> aiosqlite.Connection:
        loop = asyncio.get_running_loop()
        if loop not in self._shared:
            self._shared[loop] = await self._connect()
        return self._shared[loop]

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        connection = await self._shared_connection()
        # Executed and read to the end in one call on the connection's thread: a statement
        # left open between two calls would pin the connection to an old snapshot while other
        # requests' queries interleave, and it would stop seeing new commits.
        return list(await connection.execute_fetchall(query, args or []))

    async def close(self) -> None:
        """Close this event loop's shared connection (the app's shutdown calls it)."""
        connection = self._shared.pop(asyncio.get_running_loop(), None)
        if connection is not None:
            await connection.close()
