"""``wangge init``: an empty database of each kind becomes a city with one city admin, who
signs in with the one-time password it printed once and must change it; a database with
people is refused."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.core.settings import Settings
from tests.conftest import admin_sql, postgres_url

ADMIN = "13500000001"


@pytest.fixture
async def empty_url(city_template: tuple[str, str], tmp_path: Path) -> AsyncIterator[str]:
    """A database with nothing in it, of the kind this run is for."""
    kind, _ = city_template
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'city.sqlite'}"
        return
    name = f"wangge_init_{uuid.uuid4().hex[:10]}"
    await admin_sql(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url(name)
    finally:
        await admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wangge_init(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", "init", *args],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )


CITY = ("--city-code", "150300", "--city-name", "乌海市", "--admin-phone", ADMIN)


async def test_init_makes_a_city_with_one_admin_who_must_change_the_password(empty_url, tmp_path):
    done = wangge_init(empty_url, *CITY, "--admin-name", "赵市管")
    assert done.returncode == 0, done.stderr
    password = re.search(r"one-time password (\S+)", done.stdout)[1]
    assert len(password) == 12 and done.stdout.count(password) == 1

    again = wangge_init(empty_url, *CITY, "--admin-name", "钱市管")
    assert again.returncode == 2
    assert "has people already" in again.stderr

    settings = Settings(data_dir=tmp_path / "data", database_url=empty_url, secret_key="s" * 40)
    async with AsyncTestClient(app=create_app(settings)) as api:
        r = await api.post("/api/auth/sign-in", json={"phone": ADMIN, "password": password})
        assert (r.status_code, r.json()["must_change_password"]) == (200, True), r.text
        me = r.json()["person"]
        assert (me["name"], me["role"], me["area"]["code"]) == ("赵市管", "city_admin", "150300")
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
        r = await api.get("/api/people", headers=headers)
        assert (r.status_code, r.json()["code"]) == (403, "password_change_required")
        body = {"old_password": password, "new_password": "a-city-of-our-own"}
        r = await api.post("/api/auth/password", json=body, headers=headers)
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
        people = (await api.get("/api/people", headers=headers)).json()
        assert [p["phone"] for p in people["items"]] == [ADMIN]
        city = (await api.get("/api/areas/150300")).json()
        assert (city["code"], city["name"], city["level"]) == ("150300", "乌海市", "city")


def test_init_refuses_a_bad_city_code_or_phone(tmp_path):
    url = f"sqlite:///{tmp_path / 'city.sqlite'}"
    done = wangge_init(url, "--city-code", "150302", "--admin-phone", ADMIN, "--admin-name", "x")
    assert (done.returncode, "not a city's code" in done.stderr) == (2, True)
    done = wangge_init(url, "--city-code", "150300", "--admin-phone", "123", "--admin-name", "x")
    assert (done.returncode, "mobile" in done.stderr) == (2, True)
    assert not (tmp_path / "city.sqlite").exists()
