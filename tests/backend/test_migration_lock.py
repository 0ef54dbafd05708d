"""Several processes started at once on a fresh database (systemd starting N units, or all of
them restarted after an upgrade): each runs ``wangge migrate``; one migrates and seeds, the
others wait for it and find nothing left to do. All succeed, and each migration and each
seeded category is there once."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from backend.cases.categories import SEED
from backend.core.db import close_pool, make_engine, use_engine
from tests.conftest import admin_sql, postgres_url

PROCESSES = 3


@pytest.fixture
async def fresh_url(city_template: tuple[str, str], tmp_path: Path) -> AsyncIterator[str]:
    kind, _ = city_template
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'wangge.sqlite'}"
        return
    name = f"wangge_miglock_{uuid.uuid4().hex[:10]}"
    await admin_sql(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url(name)
    finally:
        await admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def wangge_migrate(url: str, data_dir: Path) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backend.cli",
        "migrate",
        env={**os.environ, "DATABASE_URL": url, "WANGGE_DATA_DIR": str(data_dir)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=180)
    return proc.returncode or 0, out.decode()


async def test_processes_starting_together_migrate_once(fresh_url, tmp_path):
    results = await asyncio.gather(
        *(wangge_migrate(fresh_url, tmp_path / "data") for _ in range(PROCESSES))
    )
    for code, out in results:
        assert code == 0, out[-3000:]
        assert "schema is up to date" in out

    engine = make_engine(fresh_url)
    use_engine(engine)
    try:
        twice = await engine.run_ddl(
            "SELECT app_name, name, COUNT(*) AS n FROM migration "
            "GROUP BY app_name, name HAVING COUNT(*) > 1"
        )
        total = await engine.run_ddl("SELECT COUNT(*) AS n FROM migration")
        categories = await engine.run_ddl("SELECT COUNT(*) AS n FROM category")
    finally:
        await close_pool(engine)
    assert twice == []
    assert total[0]["n"] > 10
    assert categories[0]["n"] == len(json.loads(SEED.read_text())["categories"])
