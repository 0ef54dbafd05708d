"""Shared fixtures: the demo city, and a database of each kind holding it.

Every test that touches storage takes ``database`` (or ``client``) and so runs twice: on an
SQLite file and on the PostgreSQL server of this machine. A PostgreSQL that cannot be reached
fails those tests; nothing is skipped.
"""

from __future__ import annotations

import asyncio
import os
import queue
import shutil
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient
from piccolo.engine import Engine

from backend.app import create_app
from backend.cases.categories import seed_categories
from backend.core.db import close_pool, make_engine, migrate, use_engine
from backend.core.settings import Settings
from backend.demo import load_city
from geo.demo import DemoCity, build_demo_city

POSTGRES_ADMIN_URL = os.environ.get(
    "WANGGE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


@dataclass
class TestDatabase:
    kind: str
    settings: Settings
    engine: Engine


@pytest.fixture(scope="session")
def demo_city() -> DemoCity:
    return build_demo_city()


def postgres_url(name: str) -> str:
    return urlunsplit(urlsplit(POSTGRES_ADMIN_URL)._replace(path=f"/{name}"))


async def admin_sql(sql: str) -> None:
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(sql)
    finally:
        await admin.close()


class _PostgresCopies:
    """Copies of a template database made ahead, and dropped after, by a thread of its own.

    ``CREATE DATABASE … TEMPLATE`` and ``DROP DATABASE`` take a second or two each on a busy
    machine, most of a storage test's time: made while the tests before run, a copy is ready
    when a test asks. Jobs run one at a time, in order, so a template is retired only after the
    copies asked of it are made.
    """

    AHEAD = 2

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[str, str, threading.Event | None]] = queue.Queue()
        self._ready: dict[str, queue.Queue[str | BaseException]] = {}
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True, name="pg-copies")
                self._thread.start()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        conn = loop.run_until_complete(asyncpg.connect(POSTGRES_ADMIN_URL))
        retired: set[str] = set()
        while True:
            job, name, done = self._jobs.get()
            try:
                if job == "make" and name not in retired:
                    copy = f"wangge_test_{uuid.uuid4().hex[:10]}"
                    try:
                        loop.run_until_complete(
                            conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')
                        )
                        # A test database is thrown away: commits need not wait for the disk.
                        loop.run_until_complete(
                            conn.execute(f'ALTER DATABASE "{copy}" SET synchronous_commit TO off')
                        )
                        self._ready[name].put(copy)
                    except Exception as e:  # the test that takes it fails with the reason
                        self._ready[name].put(e)
                elif job == "drop":
                    loop.run_until_complete(
                        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    )
                elif job == "retire":
                    retired.add(name)
                    ready = self._ready.pop(name, None)
                    while ready is not None and not ready.empty():
                        left = ready.get()
                        if isinstance(left, str):
                            loop.run_until_complete(
                                conn.execute(f'DROP DATABASE IF EXISTS "{left}" WITH (FORCE)')
                            )
            finally:
                if done is not None:
                    done.set()

    def take(self, template: str) -> str:
        """A fresh copy of ``template`` (blocks until one is made)."""
        self._start()
        with self._lock:
            ready = self._ready.get(template)
            if ready is None:
                ready = self._ready[template] = queue.Queue()
                for _ in range(self.AHEAD):
                    self._jobs.put(("make", template, None))
        self._jobs.put(("make", template, None))
        copy = ready.get()
        if isinstance(copy, BaseException):
            raise copy
        return copy

    def drop(self, name: str) -> None:
        self._start()
        self._jobs.put(("drop", name, None))

    def retire(self, template: str) -> None:
        """Drops the copies made ahead of ``template`` once every earlier job is done."""
        self._start()
        done = threading.Event()
        self._jobs.put(("retire", template, done))
        done.wait()


_COPIES = _PostgresCopies()


@asynccontextmanager
async def _database_copy(kind: str, template: str, data_dir: Path) -> AsyncIterator[TestDatabase]:
    """A database holding what ``template`` holds: a copied file, or a PostgreSQL template copy."""
    os.makedirs(data_dir, exist_ok=True)
    pg_name = None
    if kind == "sqlite":
        path = data_dir / "wangge.sqlite"
        shutil.copyfile(template, path)
        url = f"sqlite:///{path}"
    else:
        pg_name = await asyncio.to_thread(_COPIES.take, template)
        url = postgres_url(pg_name)
    settings = Settings(data_dir=data_dir, database_url=url, secret_key="s" * 40)
    try:
        yield TestDatabase(kind, settings, make_engine(url))
    finally:
        if pg_name:
            _COPIES.drop(pg_name)


KINDS = ("sqlite", "postgres")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=(*KINDS, "both"),
        default="both",
        help="the databases to run storage tests on; `make test` runs each in its own process "
        "(sqlite with every other test, then postgres with only the storage tests)",
    )


def _kinds(config: pytest.Config) -> tuple[str, ...]:
    chosen = config.getoption("--db")
    return KINDS if chosen == "both" else (chosen,)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marked = any(
        "city_template" in str(m.args[0]) for m in metafunc.definition.iter_markers("parametrize")
    )
    if "city_template" in metafunc.fixturenames and not marked:
        kinds = _kinds(metafunc.config)
        metafunc.parametrize("city_template", kinds, indirect=True, scope="session")


def _kind_of(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    return None if callspec is None else callspec.params.get("city_template")


def _walks_on(item: pytest.Item, kind: str | None) -> bool:
    # A browser test checks the app, and every route's storage is checked on both databases by
    # the HTTP tests: walking each screen on PostgreSQL again doubled the browser's minutes for
    # nothing new. The flows that cross the most of the server walk on both.
    return kind != "postgres" or "e2e" not in item.keywords or "both_databases" in item.keywords


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Only the chosen databases' tests; with ``--db postgres`` alone, the tests that use no
    database ran in the sqlite pass, and the browser walks only the ``both_databases`` flows."""
    kinds = _kinds(config)
    kept = [
        i
        for i in items
        if (_kind_of(i) in kinds and _walks_on(i, _kind_of(i)))
        or (_kind_of(i) is None and "sqlite" in kinds)
    ]
    if len(kept) < len(items):
        chosen = set(map(id, kept))
        config.hook.pytest_deselected(items=[i for i in items if id(i) not in chosen])
        items[:] = kept


@pytest_asyncio.fixture(scope="session")
async def city_template(
    request: pytest.FixtureRequest, demo_city: DemoCity, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[str, str]]:
    """The demo city migrated and loaded once per kind of database, to be copied by tests."""
    if request.param == "sqlite":
        template = str(tmp_path_factory.mktemp("template") / "city.sqlite")
        url = f"sqlite:///{template}"
    else:
        template = f"wangge_template_{uuid.uuid4().hex[:10]}"
        await admin_sql(f'CREATE DATABASE "{template}"')
        url = postgres_url(template)
    engine = make_engine(url)
    await migrate(engine)
    await seed_categories()
    await load_city(demo_city)
    # Closing the last connection checkpoints SQLite's WAL into the file that tests copy.
    await close_pool(engine)
    try:
        yield request.param, template
    finally:
        if request.param == "postgres":
            await asyncio.to_thread(_COPIES.retire, template)
            await admin_sql(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')


@pytest_asyncio.fixture(scope="session")
async def database(
    city_template: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[TestDatabase]:
    """The demo city, shared by every test that only reads it."""
    kind, template = city_template
    async with _database_copy(kind, template, tmp_path_factory.mktemp(f"data-{kind}")) as db:
        yield db


@pytest_asyncio.fixture
async def scratch_database(
    city_template: tuple[str, str], tmp_path: Path
) -> AsyncIterator[TestDatabase]:
    """A demo city of this test's own, for tests that change it."""
    kind, template = city_template
    async with _database_copy(kind, template, tmp_path / "data") as db:
        use_engine(db.engine)
        yield db


@pytest.fixture(autouse=True)
def _bind_engine(request: pytest.FixtureRequest) -> None:
    """Tests of both databases interleave in one process: point the tables at this test's.

    With a client, that is the app's own engine: the test client runs the app (and its
    PostgreSQL pool) on an event loop of its own.
    """
    if "scratch_database" in request.fixturenames:
        return  # bound by the fixture itself
    if "client" in request.fixturenames:
        use_engine(request.getfixturevalue("client").app.state.engine)
    elif "database" in request.fixturenames:
        use_engine(request.getfixturevalue("database").engine)


@pytest_asyncio.fixture(scope="session")
async def client(database: TestDatabase) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(database.settings)) as c:
        yield c
