"""Piccolo's SQLite engine, with connections kept open and a transaction's statements run on
the event loop.

Piccolo opens a new aiosqlite connection (and with it a thread) for every query outside a
transaction and for every transaction, and sends each statement of a transaction to that
thread as four calls. Each call is a round trip between two threads; on a busy machine one
costs milliseconds of waiting to be scheduled, and a transaction held SQLite's only write lock
through all of them: measured here, creating cases queued behind that lock at about 75 per
second. A statement that writes a row or two takes microseconds, less than one round trip.

So each event loop keeps two connections of its own (``Link``: Python's sqlite3 connection and
one thread that works on it, in place of aiosqlite, which offers no way to run a statement on
the loop):

- a shared one for queries outside transactions, in autocommit mode, in its thread: SQLite in
  WAL mode lets it read while a writer works, and a large read does not hold up the loop. Each
  query is executed and read to the end in one call.
- but a small read (a SELECT of few parameters) outside a transaction runs first right on the
  loop, on the writer's connection while no transaction holds it (``LoopReads``). It is cut
  off (SQLite's progress handler interrupts it) once it has taken SLOW_STEPS × STEPS steps, or
  if it meets a lock, and then runs again in the shared connection's thread; a statement cut
  off once goes there directly from then on. Measured on a case created (bench/cases.py), the
  round trip to the thread (a pool's submit, a thread woken, the GIL handed back and forth)
  cost more CPU than the index-served read itself. The writer's connection, not one of its
  own: every commit of this process was made on it, so what it reads next is never older
  than a write this process has answered for; and an autocommit read begins a new snapshot,
  which holds every other process's commits too.
- a writer for transactions, which take turns on an asyncio lock (first come, first served,
  where SQLite's busy handler makes waiting writers sleep and poll). Its statements run right
  on the event loop, so the write lock is held no longer than the work takes. Large statements
  (many parameters, or one that proved slow) and whatever uses the connection's aiosqlite-like
  methods (backend.core.bulk) go to its thread, so an import does not stop the loop.

The engine plugs in through Piccolo's public engine interface only: ``run_querystring`` and
``run_ddl`` (every query of the ORM and of ``raw`` goes through them) and ``transaction``,
whose transaction subclasses Piccolo's and overrides its public methods.

Nothing on the loop waits for the disk or for another process: the writer's busy timeout is
zero and BEGIN IMMEDIATE is retried with ``asyncio.sleep`` until the engine's timeout; commits
do not checkpoint the WAL (``wal_autocheckpoint=0``), a connection of its own does that in a
thread every ``CHECKPOINT_EVERY`` commits. The writer runs at ``synchronous=NORMAL``: durable
against a crash of the process; a power cut may lose the last commits, never the file's
consistency.

SQLite writes the WAL from its beginning again only once a checkpoint has copied all of it
and no reader still uses it; under a steady stream of commits a checkpoint made beside them
never catches up, and the WAL grew by every commit (150 MB after 1,200 cases created in
bench/cases.py), each commit writing pages new to the file. So a checkpoint takes two
passes: the first, while writers go on, copies most; the second, holding this loop's writer
lock (writers wait; reads go on), copies what they wrote meanwhile, and the next commit
starts the WAL over.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from piccolo.engine import SQLiteEngine
from piccolo.engine.sqlite import SQLiteTransaction, TransactionType, dict_factory
from piccolo.querystring import QueryString

# A statement with more parameters than this is a bulk write: it runs in the writer's thread.
BULK_ARGS = 100
# A transaction one of whose statements took more than SLOW_STEPS × STEPS steps of SQLite's
# virtual machine (a progress handler counts them: no clock to read, and time the machine gives
# other processes meanwhile is no one's fault) sends the rest to its thread.
STEPS = 1_000
SLOW_STEPS = 200  # a millisecond or two of work
CHECKPOINT_EVERY = 200

log = logging.getLogger("wangge.db")
T = TypeVar("T")


def _busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def _fetch(db: sqlite3.Connection, query: str, args: Sequence[Any]) -> list[Any]:
    return db.execute(query, args).fetchall()


def _finish(db: sqlite3.Connection, statement: str) -> bool:
    # A failed statement may have ended the transaction already (SQLite rolls back by itself
    # on some errors): finishing one that is gone is not an error.
    if not db.in_transaction:
        return False
    db.execute(statement)
    return True


def _checkpoint(connect: dict[str, Any]) -> None:
    # PASSIVE: copies what no reader still needs, and waits for nobody.
    db = sqlite3.connect(**connect)
    try:
        db.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        db.close()


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


class Link:
    """A sqlite3 connection and the one thread that works on it away from the event loop.

    The thread is a pool's worker: it ends with the process, so a command that forgets to close
    the engine still exits (no connection is left inside a transaction: nothing is lost)."""

    def __init__(self, db: sqlite3.Connection, thread: ThreadPoolExecutor) -> None:
        self.db = db
        self.thread = thread

    @classmethod
    async def open(cls, connect: dict[str, Any]) -> Link:
        thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wangge-sqlite")
        link = cls(await _in(thread, functools.partial(sqlite3.connect, **connect)), thread)
        link.db.row_factory = dict_factory
        try:
            await link.call(link.db.execute, "PRAGMA foreign_keys = 1")
            await link.call(link.db.execute, "PRAGMA synchronous = NORMAL")
            # ANALYZE (and PRAGMA optimize, which may run it) reads a sample of each index.
            await link.call(link.db.execute, "PRAGMA analysis_limit = 1000")
        except BaseException:
            await link.close()
            raise
        return link

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` in this connection's thread, after what was sent there before."""
        return await _in(self.thread, functools.partial(function, *args))

    async def close(self) -> None:
        try:
            await self.call(self.db.close)
        finally:
            self.thread.shutdown(wait=False)


async def _in(thread: ThreadPoolExecutor, function: Callable[[], T]) -> T:
    return await asyncio.get_running_loop().run_in_executor(thread, function)


class Writer:
    """The writer connection as a transaction's ``connection``.

    Its ``execute``, ``executemany`` and ``execute_fetchall`` are aiosqlite's (what
    backend.core.bulk, backend.positions and Piccolo's savepoints call): they work in its
    thread, and the rest of the transaction then goes there too, after that work."""

    def __init__(self, link: Link) -> None:
        self.link = link
        self.db = link.db
        self.threaded = False
        self.steps = 0
        self.db.set_progress_handler(self.step, STEPS)

    def step(self) -> int:
        self.steps += 1
        return 0

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> sqlite3.Cursor:
        self.threaded = True
        return await self.link.call(self.db.execute, sql, parameters)

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> sqlite3.Cursor:
        self.threaded = True
        return await self.link.call(self.db.executemany, sql, parameters)

    async def execute_fetchall(self, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
        self.threaded = True
        return await self.link.call(_fetch, self.db, sql, parameters)

    async def run(self, query: str, args: Sequence[Any]) -> list[Any]:
        """A statement of the ORM: on the loop, unless it is large or the transaction has
        started working in the thread."""
        if self.threaded or len(args) > BULK_ARGS:
            return await self.link.call(_fetch, self.db, query, args)
        self.steps = 0
        rows = _fetch(self.db, query, args)
        if self.steps > SLOW_STEPS:
            self.threaded = True
        return rows

    async def end(self, statement: str) -> bool:
        """COMMIT or ROLLBACK, if a transaction is still open; whether one was."""
        if self.threaded:  # after whatever is still queued in the thread
            return await self.link.call(_finish, self.db, statement)
        return _finish(self.db, statement)


class WriteTransaction(SQLiteTransaction):
    """A transaction on its loop's writer connection, holding the loop's writer lock.

    One inside another joins it, as Piccolo's do; it ends as the driver says it stands (a
    transaction committed or rolled back by hand, or by SQLite after an error, is not ended
    again)."""

    engine: SharedSQLiteEngine
    connection: Writer

    def __init__(
        self,
        engine: SharedSQLiteEngine,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> None:
        super().__init__(engine, transaction_type=transaction_type, allow_nested=allow_nested)
        self.outer = engine.current_transaction.get()

    async def __aenter__(self) -> SQLiteTransaction:
        if self.outer is not None:
            return self.outer
        self.lock = self.engine.writer_lock()
        await self.lock.acquire()
        try:
            self.connection = Writer(await self.engine.writer())
            await self.begin()
        except BaseException:
            self.lock.release()
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

    async def commit(self) -> None:
        if await self.connection.end("COMMIT"):
            self.engine.count_commit()

    async def rollback(self) -> None:
        await self.connection.end("ROLLBACK")

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self.outer is not None:
            return exception is None
        try:
            if exception is None:
                await self.commit()
            else:
                await self.rollback()
        finally:
            try:
                if self.connection.db.in_transaction:
                    # A commit that failed, or a rollback cut short: the next transaction
                    # must not start inside this one's leftovers.
                    await self.engine.drop_writer(self.connection.link)
            finally:
                self.engine.current_transaction.reset(self.context)
                self.lock.release()
        return exception is None


class LoopReads:
    """Small reads on the loop, on the writer's connection while no transaction holds it: a
    read that takes more than SLOW_STEPS × STEPS steps is interrupted (nothing to undo: it
    only read), and one that meets a lock gives way; both go to the reader's thread."""

    def __init__(self) -> None:
        self.steps = 0
        self.slow: set[str] = set()  # statements cut off before: to the thread directly

    def step(self) -> int:
        self.steps += 1
        return int(self.steps > SLOW_STEPS)

    def read(self, db: sqlite3.Connection, query: str, args: Sequence[Any]) -> list[Any] | None:
        """The rows, or None: the read is for the reader's thread."""
        if query in self.slow or db.in_transaction:
            return None
        self.steps = 0
        # A transaction's Writer puts its own handler in place when it begins.
        db.set_progress_handler(self.step, STEPS)
        try:
            return _fetch(db, query, args)
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                if len(self.slow) < 1000:
                    self.slow.add(query)
                return None
            if _busy(exc):
                return None
            raise


def _small_read(query: str, args: Sequence[Any]) -> bool:
    return len(args) <= BULK_ARGS and query.lstrip()[:6].upper() == "SELECT"


@dataclass
class _LoopLinks:
    """An event loop's connections (each loop its own: a link's futures belong to a loop)."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    reader: Link | None = None
    writer: Link | None = None
    loop_reads: LoopReads = field(default_factory=LoopReads)
    checkpoint: asyncio.Task[None] | None = None


class SharedSQLiteEngine(SQLiteEngine):
    def __init__(self, path: str, **kwargs: Any) -> None:
        super().__init__(path=path, **kwargs)
        self.busy_timeout = float(self.connection_kwargs.get("timeout", 5.0))
        self._loops: dict[asyncio.AbstractEventLoop, _LoopLinks] = {}
        self._last: tuple[asyncio.AbstractEventLoop, _LoopLinks] | None = None
        self._commits = 0
        self._made_private = False

    def _links(self) -> _LoopLinks:
        loop = asyncio.get_running_loop()
        last = self._last
        if last is not None and last[0] is loop:  # asked several times per statement
            return last[1]
        links = self._loops.get(loop)
        if links is None:
            links = self._loops[loop] = _LoopLinks()
        self._last = (loop, links)
        return links

    async def _open(self, **extra: Any) -> Link:
        if not self._made_private:
            make_private(self.path)
            self._made_private = True
        return await Link.open({**self.connection_kwargs, **extra})

    async def _reader(self) -> Link:
        links = self._links()
        if links.reader is None:
            links.reader = await self._open()
        return links.reader

    def writer_lock(self) -> asyncio.Lock:
        """The lock this loop's transactions take turns on."""
        return self._links().lock

    async def writer(self) -> Link:
        """This loop's writer connection; call with the writer lock held."""
        links = self._links()
        if links.writer is None:
            # Used from the loop and from its own thread, never both at once (the lock).
            # Opened in its thread with the engine's busy timeout (opening may meet another
            # connection's lock), then set to never wait: its statements run on the loop.
            writer = await self._open(check_same_thread=False)
            await writer.call(writer.db.execute, "PRAGMA wal_autocheckpoint = 0")
            await writer.call(writer.db.execute, "PRAGMA busy_timeout = 0")
            links.writer = writer
        return links.writer

    async def drop_writer(self, link: Link) -> None:
        """Close a writer left inside a transaction; the next transaction opens another."""
        links = self._links()
        if links.writer is link:
            links.writer = None
        await link.close()

    def count_commit(self) -> None:
        """A transaction committed: every ``CHECKPOINT_EVERY`` commits, checkpoint the WAL."""
        self._commits += 1
        links = self._links()
        running = links.checkpoint
        if self._commits >= CHECKPOINT_EVERY and (running is None or running.done()):
            self._commits = 0
            links.checkpoint = asyncio.get_running_loop().create_task(self._checkpoint())

    async def _checkpoint(self) -> None:
        try:
            await asyncio.to_thread(_checkpoint, self.connection_kwargs)
            async with self.writer_lock():
                await asyncio.to_thread(_checkpoint, self.connection_kwargs)
        except sqlite3.Error as exc:
            # Nobody awaits this task: a full or read-only disk is said here, and the WAL
            # keeps the commits until a later checkpoint succeeds.
            log.warning("WAL checkpoint failed: %s", exc)

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> SQLiteTransaction:
        return WriteTransaction(self, transaction_type=transaction_type, allow_nested=allow_nested)

    async def run_querystring(self, querystring: QueryString, in_pool: bool = False) -> Any:
        query, args = querystring.compile_string(engine_type=self.engine_type)
        return await self._run(query, args)

    async def run_ddl(self, ddl: str, in_pool: bool = False) -> Any:
        return await self._run(ddl, [])

    def _read_on_loop(self, query: str, args: Sequence[Any]) -> list[Any] | None:
        """A small read's rows, read on the writer's connection while no transaction holds
        it; None if it is for the reader's thread."""
        links = self._links()
        writer = links.writer
        if writer is None or links.lock.locked() or not _small_read(query, args):
            return None
        # Nothing awaits between the lock's check and the read: no transaction of this loop
        # can begin meanwhile.
        return links.loop_reads.read(writer.db, query, args)

    async def _run(self, query: str, args: list[Any]) -> list[Any]:
        query_id = self.get_query_id()
        if self.log_queries:
            self.print_query(query_id=query_id, query=query)
        transaction = self.current_transaction.get()
        rows: list[Any] | None
        if isinstance(transaction, WriteTransaction):
            # Piccolo also sets foreign_keys before each statement: set on connect, and a
            # no-op inside a transaction anyway.
            rows = await transaction.connection.run(query, args)
        else:
            rows = self._read_on_loop(query, args)
            if rows is None:
                reader = await self._reader()
                # Read to the end in one call: a statement left open between two calls would
                # pin the connection to an old snapshot while other requests' queries
                # interleave.
                rows = await reader.call(_fetch, reader.db, query, args)
        if self.log_responses:
            self.print_response(query_id=query_id, response=rows)
        return rows

    async def close(self) -> None:
        """Close this event loop's connections (the app's shutdown calls it)."""
        self._last = None
        links = self._loops.pop(asyncio.get_running_loop(), None)
        if links is None:
            return
        if links.checkpoint is not None:
            await asyncio.gather(links.checkpoint, return_exceptions=True)
        if links.reader is not None:
            # What SQLite recommends before closing a long-lived connection: statistics for
            # the tables its queries would have used, if they are missing or stale.
            with contextlib.suppress(sqlite3.Error):
                await links.reader.call(links.reader.db.execute, "PRAGMA optimize")
        for link in (links.reader, links.writer):
            if link is not None:
                await link.close()
