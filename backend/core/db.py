"""The database engine: built from ``DATABASE_URL``, bound to every table, migrated.

SQLite (a file) is the default; ``postgresql://`` URLs select PostgreSQL with a pool that the
app's lifespan opens and closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import io
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.tables import Migration
from piccolo.conf.apps import AppRegistry
from piccolo.engine import Engine, PostgresEngine, SQLiteEngine
from piccolo.engine.sqlite import TransactionType
from piccolo.querystring import QueryString
from piccolo.table import Table

from backend.core.postgres_engine import SafePostgresEngine
from backend.core.sqlite_engine import SharedSQLiteEngine

# Piccolo finds its app registry through this module path; set before any table is used.
os.environ.setdefault("PICCOLO_CONF", "backend.piccolo_conf")

log = logging.getLogger("wangge.db")

# In dependency order; each is a feature folder with its tables and migrations.
APPS = [
    "backend.areas.piccolo_app",
    "backend.people.piccolo_app",
    "backend.grids.piccolo_app",
    "backend.buildings.piccolo_app",
    "backend.points.piccolo_app",
    "backend.events.piccolo_app",
    "backend.cases.piccolo_app",
    "backend.emergency.piccolo_app",
    "backend.tasks.piccolo_app",
    "backend.positions.piccolo_app",
    "backend.party.piccolo_app",
    "backend.assessment.piccolo_app",
    "backend.health.piccolo_app",
    "backend.hotline.piccolo_app",
    "backend.calendar.piccolo_app",
    "backend.open311.piccolo_app",
    "backend.sms.piccolo_app",
    "backend.notify.piccolo_app",
]


# By template, engine type and argument count: a statement that takes a variable number of
# rows has a template per count.
@functools.lru_cache(maxsize=64)
def _compiled(template: str, engine_type: str, count: int) -> str:
    return QueryString(template, *([None] * count)).compile_string(engine_type)[0]


class _Compiled(QueryString):
    """A raw statement answered from its template compiled once: ``compile_string`` is what
    Piccolo's engines call to run a query, and what Piccolo's own ``freeze`` caches."""

    __slots__ = ("sql",)

    def __init__(self, template: str, sql: str, args: tuple[Any, ...]) -> None:
        # QueryString's own __init__ goes through its arguments for columns and nested
        # queries, which these plain values never are: it is given none, and they are kept
        # after, as Piccolo would keep them (for its query log).
        super().__init__(template)
        self.args = args
        self.sql = sql

    def compile_string(self, engine_type: str = "postgres") -> tuple[str, list[Any]]:
        return self.sql, list(self.args)


async def raw(table: type[Table], template: str, *args: Any) -> list[dict[str, Any]]:
    """The rows of ``table.raw(template, *args)``, for plain values (no columns or nested
    queries), with the template compiled once per engine type.

    Piccolo splits a raw statement's template into fragments again on every run, and its query
    object adds layers (validation, the output delegate, the query string chosen per engine):
    for the statements of a case created, a sizeable share of the request's CPU
    (bench/cases.py). So the statement goes to the table's engine directly, as Piccolo's
    ``Raw`` would send it, and its rows come back as dictionaries, as ``Raw`` gives them.
    """
    return await raw_on(table._meta.db, template, *args)


async def raw_on(engine: Engine, template: str, *args: Any) -> list[dict[str, Any]]:
    """:func:`raw` through ``engine`` itself, whatever engine the tables are bound to."""
    sql = _compiled(template, engine.engine_type, len(args))
    rows = await engine.run_querystring(_Compiled(template, sql, args), in_pool=True)
    return engine.transform_response_to_dicts(rows) if rows else []


async def rows_of(table: type[Table], query: QueryString) -> list[dict[str, Any]]:
    """The rows of a statement composed of query strings (nested queries and all), as
    dictionaries, without the layers of a Piccolo query object around it (see :func:`raw`)."""
    engine = table._meta.db
    rows = await engine.run_querystring(query, in_pool=True)
    return engine.transform_response_to_dicts(rows) if rows else []


class UnsupportedDatabase(ValueError):
    pass


def make_engine(database_url: str) -> Engine:
    """``sqlite:///relative.db``, ``sqlite:////absolute.db`` or ``postgresql://…``."""
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        # A generous busy timeout: Piccolo opens a connection per query, and a reader must
        # wait out a writer's commit instead of failing.
        return SharedSQLiteEngine(path=str(path), timeout=30)
    if database_url.startswith(("postgresql://", "postgres://")):
        return SafePostgresEngine(config={"dsn": database_url})
    raise UnsupportedDatabase(
        f"DATABASE_URL must be sqlite:/// or postgresql://, not {database_url!r}"
    )


def registry() -> AppRegistry:
    return AppRegistry(apps=APPS)


# What every cache of values read from the database registered to be emptied with: a process
# serving one database keeps plain caches; one that moves to another (tests, tools) starts over.
_resets: list[Callable[[], None]] = []


def on_engine_change(reset: Callable[[], None]) -> Callable[[], None]:
    """Call ``reset`` whenever :func:`use_engine` binds the tables to another engine (a cache
    of the old database's values empties itself); returns ``reset``, so that it may decorate."""
    _resets.append(reset)
    return reset


def use_engine(engine: Engine) -> None:
    """Point every table (and Piccolo's own migration table) at ``engine``; when it is another
    engine than before, every cache registered with :func:`on_engine_change` is emptied."""
    from backend import piccolo_conf

    changed = Migration._meta.db is not engine
    piccolo_conf.DB = engine
    Migration._meta.db = engine
    for app in registry().app_configs.values():
        for table in app.table_classes:
            table._meta.db = engine
    if changed:
        for reset in list(_resets):
            reset()


async def open_pool(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=2, max_size=20)


async def close_pool(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine):
        if engine.pool is not None:
            await engine.close_connection_pool()
    elif isinstance(engine, SharedSQLiteEngine):
        await engine.close()


# The newest event id appended by the write transaction running in this context (its holder
# is a one-item list); listeners hear it once the transaction has committed.
_appended: ContextVar[list[int] | None] = ContextVar("wangge_appended", default=None)
CommitListener = Callable[[Engine, int], None]
_commit_listeners: list[CommitListener] = []


def on_events_committed(listener: CommitListener) -> Callable[[], None]:
    """Call ``listener(engine, newest_event_id)`` after every write transaction that appended
    events commits (the live hub wakes its readers with it); returns the function that stops
    it. Listeners must not block: they run in the writer's task."""
    _commit_listeners.append(listener)
    return lambda: _commit_listeners.remove(listener)


def note_appended(last_id: int) -> None:
    """Called by the event log: this transaction wrote events up to ``last_id``."""
    holder = _appended.get()
    if holder is not None:
        holder[:] = [max([last_id, *holder])]


@contextlib.asynccontextmanager
async def write_transaction(engine: Engine) -> AsyncIterator[Any]:
    """A transaction for writes; on SQLite it takes the write lock up front (IMMEDIATE), so a
    second writer waits for the first instead of failing half-way with a deadlock.

    After the outermost one commits, if it appended events, the commit listeners hear the
    newest id (an inner one is part of its parent and commits with it).
    """
    if isinstance(engine, SQLiteEngine):
        transaction = engine.transaction(transaction_type=TransactionType.immediate)
    else:
        transaction = engine.transaction()
    outermost = engine.current_transaction.get() is None
    holder: list[int] = []
    token = _appended.set(holder) if outermost else None
    try:
        async with transaction as t:
            yield t
    finally:
        if token is not None:
            _appended.reset(token)
    if holder:
        for listener in list(_commit_listeners):
            try:
                listener(engine, holder[0])
            except Exception:  # the write is committed: a listener's fault must not undo it
                log.exception("a commit listener failed")


async def lock_imports(engine: Engine) -> None:
    """Serialise imports (of layers, of people) for the rest of the current transaction.

    SQLite's IMMEDIATE transaction already admits one writer; PostgreSQL takes an advisory
    lock, so a second import waits and then compares with what the first one wrote.
    """
    if isinstance(engine, PostgresEngine):
        lock = QueryString("SELECT pg_advisory_xact_lock(hashtext({}))", "wangge.import")
        await engine.run_querystring(lock)


@contextlib.asynccontextmanager
async def migration_lock(engine: Engine) -> AsyncIterator[None]:
    """Held by one process at a time per database: when several processes start together
    (systemd units, a restart of all of them), one migrates and the others wait, then find
    nothing left to do. Without it they race to create the same tables and all but one fail.

    SQLite: an exclusive ``flock`` on ``migrate.lock`` beside the database file (released by
    the kernel if the holder dies). PostgreSQL: a session advisory lock, on a connection of
    its own, since the pool may hand each statement of a migration another connection.
    """
    if isinstance(engine, SQLiteEngine):
        path = Path(engine.path).parent / "migrate.lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the last descriptor lets the lock go
    elif isinstance(engine, PostgresEngine):
        import asyncpg

        connection = await asyncpg.connect(engine.config["dsn"])
        try:
            await connection.execute("SELECT pg_advisory_lock(hashtext('wangge.migrate'))")
            yield
        finally:
            await connection.close()  # the session ends, and its advisory lock with it
    else:
        yield


async def migrate(engine: Engine, after: Sequence[Callable[[], Awaitable[object]]] = ()) -> None:
    """Bring the schema up to date, then run ``after`` (seeding), all under
    :func:`migration_lock`. Safe to run on every start, by several processes at once."""
    use_engine(engine)
    if isinstance(engine, SQLiteEngine):
        # The data folder holds the database and the secret key: its owner's only.
        Path(engine.path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    async with migration_lock(engine):
        await _migrate(engine)
        for step in after:
            await step()


async def _migrate(engine: Engine) -> None:
    if isinstance(engine, SQLiteEngine):
        # WAL lets readers go on while one writer commits; it is a property of the file.
        await engine.run_ddl("PRAGMA journal_mode=WAL")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = await run_forwards("all")
    log.debug(out.getvalue())
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}\n{out.getvalue()}")
    if "not yet run" in out.getvalue():  # Piccolo says so for each app with migrations to run
        await analyze(engine)


async def analyze(engine: Engine) -> None:
    """Bring the query planners' statistics up to date: after migrations (new indexes) and
    bulk loads. SQLite never gathers them by itself (without them it guesses which index
    serves a case list); ``analysis_limit`` makes it read a sample of each index, milliseconds
    at a million cases. In between, SQLite's reader runs ``PRAGMA optimize`` when it closes
    and PostgreSQL's autovacuum analyzes tables that changed."""
    if isinstance(engine, SQLiteEngine):
        await engine.run_ddl("PRAGMA analysis_limit = 1000")
    await engine.run_ddl("ANALYZE")
