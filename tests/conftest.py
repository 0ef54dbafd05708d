"""Shared fixtures: the demo city, and a database of each kind holding it.

Every test that touches storage takes ``database`` (or ``client``) and so runs twice: on an
SQLite file and on the PostgreSQL server of this machine. A PostgreSQL that cannot be reached
fails those tests; nothing is skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient
from piccolo.engine import Engine

from backend.app import create_app
from backend.db import make_engine, migrate, use_engine
from backend.demo import load_city
from backend.settings import Settings
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


async def _create_postgres_database() -> tuple[str, str]:
    name = f"wangge_test_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return name, urlunsplit(urlsplit(POSTGRES_ADMIN_URL)._replace(path=f"/{name}"))


async def _drop_postgres_database(name: str) -> None:
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest_asyncio.fixture(scope="session", params=["sqlite", "postgres"])
async def database(
    request: pytest.FixtureRequest, demo_city: DemoCity, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[TestDatabase]:
    data_dir: Path = tmp_path_factory.mktemp(f"data-{request.param}")
    pg_name = None
    if request.param == "sqlite":
        url = f"sqlite:///{data_dir / 'wangge.sqlite'}"
    else:
        pg_name, url = await _create_postgres_database()
    settings = Settings(data_dir=data_dir, database_url=url, secret_key="s" * 40)
    engine = make_engine(url)
    await migrate(engine)
    await load_city(demo_city)
    try:
        yield TestDatabase(request.param, settings, engine)
    finally:
        if pg_name:
            await _drop_postgres_database(pg_name)


@pytest.fixture(autouse=True)
def _bind_engine(request: pytest.FixtureRequest) -> None:
    """Tests of both databases interleave in one process: point the tables at this test's.

    With a client, that is the app's own engine: the test client runs the app (and its
    PostgreSQL pool) on an event loop of its own.
    """
    if "client" in request.fixturenames:
        use_engine(request.getfixturevalue("client").app.state.engine)
    elif "database" in request.fixturenames:
        use_engine(request.getfixturevalue("database").engine)


@pytest_asyncio.fixture(scope="session")
async def client(database: TestDatabase) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(database.settings)) as c:
        yield c
