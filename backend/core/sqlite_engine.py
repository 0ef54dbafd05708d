"""Piccolo's SQLite engine, with connections kept open and a transaction's statements run on
the event loop.

Piccolo opens a new aiosqlite connection (and with it a thread) for every query outside a
transaction and for every transaction, and sends each statement of a transaction to that
thread as four calls. Each call is a round trip between two threads; on a busy machine one
costs milliseconds of waiting to be scheduled, and a transaction held SQLite's only write lock
through all of them: measured here, creating cases queued behind that lock at about 75 per
second. A statement that writes a row or two takes microseconds, less than one round trip.

So each event loop keeps two connections:

- a shared one for queries outside transactions, in autocommit mode, in aiosqlite's thread:
  SQLite in WAL mode lets it read while a writer works, and a large read does not hold up the
  loop. Each query is executed and read to the end in one call.
- a writer for transactions, which take turns on an asyncio lock (first come, first served,
  where SQLite's busy handler makes waiting writers sleep and poll). Its statements run right
  on the event loop, so the write lock is held no longer than the work takes. Large statements
  (many parameters, or one that proved slow) and whatever uses the connection's aiosqlite
  methods (backend.core.bulk) go to its thread, so an import does not stop the loop.

Nothing on the loop waits for the disk or for another process: the writer's busy timeout is
zero and BEGIN IMMEDIATE is retried with ``asyncio.sleep`` until the engine's timeout; commits
do not checkpoint the WAL (``wal_autocheckpoint=0``), a connection of its own does that in its
thread every ``CHECKPOINT_EVERY`` commits. The writer runs at ``synchronous=NORMAL``: durable
against a crash of the process; a power cut may lose the last commits, never the file's
consistency.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import aiosqlite
from piccolo.engine import SQLiteEngine
from piccolo.engine.sqlite import SQLiteTransaction, TransactionType, dict_factory

# A statement with more parameters than this is a bulk write: it runs in the writer's thread.
BULK_ARGS = 100
# A transaction one of whose statements took more than SLOW_STEPS × STEPS steps of SQLite's
# virtual machine (a progress handler counts them: no clock to read, and time the machine gives
# other processes meanwhile is no one's fault) sends the rest to its thread.
STEPS = 1_000
SLOW_STEPS = 200  # a millisecond or two of work
CHECKPOINT_EVERY = 200

log = logging.getLogger("wangge.db")


def _busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _fetch(db: sqlite3.Connection, query: str, args: list[Any]) -> list[Any]:
    return db.execute(query, args).fetchall()


def make_private(path: str) -> None:
    """Create the database file readable and writable by its owner only, or make it so.

    It holds every person's phone number and password hash. SQLite creates a file 0644 (less
    the umask), and its -wal and -shm with the database file's own mode: so the file is made
    first, 0600, and the three are narrowed if they were made before.
    """
    if path == ":memory:" or path.startswith("file:"):
        return
    database = Path(path)
    # Failing here means it exists, or cannot be made: SQLite says why better when it opens it.
    with contextlib.suppress(OSError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for file in (database, Path(f"{path}-wal"), Path(f"{path}-shm")):
        # Absent, or on a read-only disk, where nothing can be done about it.
        with contextlib.suppress(OSError):
            if file.stat().st_mode & 0o077:
                file.chmod(0o600)


def _finish(db: sqlite3.Connection, statement: str) -> None:
    # A failed statement may have ended the transaction already (SQLite rolls back by itself
    # on some errors): finishing one that is gone is not an error.
    if db.in_transaction:
        db.execute(statement)


class _Writer:
    """The writer's aiosqlite connection as a transaction's ``connection``: code that calls its
    methods (such as backend.core.bulk) works in its thread, and the transaction then ends there
    too, after that work."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.aio = connection
        self.db: sqlite3.Connection = connection._conn
        self.threaded = False
        self.steps = 0
        self.db.set_progress_handler(self._step, STEPS)

    def _step(self) -> bool:
        self.steps += 1
        return False

    def __getattr__(self, name: str) -> Any:
        self.threaded = True
        return getattr(self.aio, name)


class _Transaction(SQLiteTransaction):
    """A transaction on its loop's writer connection, holding the loop's writer lock."""

    engine: SharedSQLiteEngine
    connection: _Writer

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        self._lock = self.engine._writer_lock()
        await self._lock.acquire()
        try:
            self.connection = _Writer(await self.engine._writer())
            await self.begin()
        except BaseException:
            self._lock.release()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def begin(self) -> None:
        # IMMEDIATE whatever was asked: the write lock is taken here, where waiting for it
        # does not stop the loop, and never by a later statement.
        deadline = time.monotonic() + self.engine.busy_timeout
        pause = 0.001
        while True:
            try:
                self.connection.db.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(pause)  # another process is writing
            pause = min(pause * 2, 0.05)

    async def run(self, query: str, args: list[Any]) -> list[Any]:
        writer = self.connection
        if writer.threaded or len(args) > BULK_ARGS:
            return await writer.aio._execute(_fetch, writer.db, query, args)
        writer.steps = 0
        rows = writer.db.execute(query, args).fetchall()
        if writer.steps > SLOW_STEPS:
            writer.threaded = True
        return rows

    async def _end(self, statement: str) -> None:
        writer = self.connection
        if writer.threaded:  # after whatever is still queued in the thread
            await writer.aio._execute(_finish, writer.db, statement)
        else:
            _finish(writer.db, statement)

    async def commit(self) -> None:
        await self._end("COMMIT")
        self._committed = True
        self.engine._committed()

    async def rollback(self) -> None:
        await self._end("ROLLBACK")
        self._rolled_back = True

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent is not None:
            return exception is None
        try:
            if exception is not None:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            try:
                if self.connection.db.in_transaction:
                    # A commit that failed, or a rollback cut short: the next transaction
                    # must not start inside this one's leftovers.
                    await self.engine._drop_writer(self.connection.aio)
            finally:
                self.engine.current_transaction.reset(self.context)
                self._lock.release()
        return exception is None


class SharedSQLiteEngine(SQLiteEngine):
    def __init__(self, path: str, **kwargs: Any) -> None:
        super().__init__(path=path, **kwargs)
        self.busy_timeout = float(self.connection_kwargs.get("timeout", 5.0))
        self._shared: dict[asyncio.AbstractEventLoop, aiosqlite.Connection] = {}
        self._writers: dict[asyncio.AbstractEventLoop, aiosqlite.Connection] = {}
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}
        self._checkpoints: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}
        self._commits = 0
        self._made_private = False

    async def _connect(self, **extra: Any) -> aiosqlite.Connection:
        if not self._made_private:
            make_private(self.path)
            self._made_private = True
        connection = aiosqlite.connect(**{**self.connection_kwargs, **extra})
        # A daemon thread: a command that forgets to close the engine still exits. No
        # connection is left inside a transaction, so nothing is lost when it is cut.
        connection._thread.daemon = True
        await connection
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA foreign_keys = 1")
        await connection.execute("PRAGMA synchronous = NORMAL")
        return connection

    async def get_connection(self) -> aiosqlite.Connection:
        """A connection of the caller's own (Piccolo's batch reads use one and close it)."""
        return await self._connect()

    async def _shared_connection(self) -> aiosqlite.Connection:
        loop = asyncio.get_running_loop()
        if loop not in self._shared:
            self._shared[loop] = await self._connect()
        return self._shared[loop]

    def _writer_lock(self) -> asyncio.Lock:
        return self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())

    async def _writer(self) -> aiosqlite.Connection:
        """This loop's writer connection; call with the writer lock held."""
        loop = asyncio.get_running_loop()
        if loop not in self._writers:
            # Used from the loop and from its own thread, never both at once (the lock).
            # Opened in its thread with the engine's busy timeout (opening may meet another
            # connection's lock), then set to never wait: its statements run on the loop.
            writer = await self._connect(check_same_thread=False)
            await writer.execute("PRAGMA wal_autocheckpoint = 0")
            await writer.execute("PRAGMA busy_timeout = 0")
            self._writers[loop] = writer
        return self._writers[loop]

    async def _drop_writer(self, connection: aiosqlite.Connection) -> None:
        self._writers.pop(asyncio.get_running_loop(), None)
        await connection.close()

    def _committed(self) -> None:
        self._commits += 1
        loop = asyncio.get_running_loop()
        running = self._checkpoints.get(loop)
        if self._commits >= CHECKPOINT_EVERY and (running is None or running.done()):
            self._commits = 0
            self._checkpoints[loop] = loop.create_task(self._checkpoint())

    async def _checkpoint(self) -> None:
        # PASSIVE: copies what no reader still needs, and waits for nobody.
        try:
            connection = await self._connect()
            try:
                await connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                await connection.close()
        except sqlite3.Error as exc:
            # Nobody awaits this task: a full or read-only disk is said here, and the WAL
            # keeps the commits until a later checkpoint succeeds.
            log.warning("WAL checkpoint failed: %s", exc)

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> SQLiteTransaction:
        return _Transaction(self, transaction_type=transaction_type, allow_nested=allow_nested)

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        connection = await self._shared_connection()
        # Read to the end in one call: a statement left open between two calls would pin the
        # connection to an old snapshot while other requests' queries interleave.
        return list(await connection.execute_fetchall(query, args or []))

    async def _run_in_existing_connection(
        self,
        connection: Any,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        transaction = self.current_transaction.get()
        if isinstance(transaction, _Transaction) and transaction.connection is connection:
            # Piccolo also sets foreign_keys before each statement: set on connect, and a
            # no-op inside a transaction anyway.
            return await transaction.run(query, args or [])
        return await super()._run_in_existing_connection(connection, query, args, query_type, table)

    async def close(self) -> None:
        """Close this event loop's connections (the app's shutdown calls it)."""
        loop = asyncio.get_running_loop()
        self._locks.pop(loop, None)
        checkpoint = self._checkpoints.pop(loop, None)
        if checkpoint is not None:
            await asyncio.gather(checkpoint, return_exceptions=True)
        for pool in (self._shared, self._writers):
            connection = pool.pop(loop, None)
            if connection is not None:
                await connection.close()
