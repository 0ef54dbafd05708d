"""``wangge backup`` while ``wangge serve`` runs, then ``wangge restore`` into a fresh database
and data folder: the case, its photo and the sign-in (the secret key) are all there; a restore
over a database holding a city is refused unless forced."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from PIL import Image

from backend.core.settings import Settings
from backend.demo import DEMO_PASSWORD
from geo.demo import DEMO_ACCOUNTS
from tests.backend.case_steps import demo_spot, report_body
from tests.conftest import _database_copy, admin_sql, postgres_url
from tests.served import ROOT, served


def wangge(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": settings.database_url,
            "WANGGE_DATA_DIR": str(settings.data_dir),
            "WANGGE_SECRET_KEY": settings.secret_key,
        },
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture
async def fresh(city_template: tuple[str, str], tmp_path: Path) -> AsyncIterator[Settings]:
    """An empty database of this run's kind, with an empty data folder of its own."""
    kind, _ = city_template
    data = tmp_path / "restored"
    if kind == "sqlite":
        yield Settings(data_dir=data, database_url=f"sqlite:///{data / 'wangge.sqlite'}")
        return
    name = f"wangge_restore_{uuid.uuid4().hex[:10]}"
    await admin_sql(f'CREATE DATABASE "{name}"')
    try:
        yield Settings(data_dir=data, database_url=postgres_url(name))
    finally:
        await admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((320, 240), 64).convert("RGB").save(out, "JPEG")
    return out.getvalue()


async def test_a_backup_taken_while_serving_restores_the_case_its_photo_and_sign_ins(
    city_template, demo_city, tmp_path, fresh
):
    kind, template = city_template
    archive = tmp_path / "wangge.tar"
    async with _database_copy(kind, template, tmp_path / "data") as db:
        # No key in the environment: the server keeps it in the data folder, which the backup
        # must then carry for the token below to stay valid.
        source = replace(db.settings, secret_key="")
        async with (
            served(source, source.data_dir) as server,
            httpx.AsyncClient(base_url=server.base, timeout=30) as http,
        ):
            r = await http.post(
                "/api/auth/sign-in",
                json={"phone": DEMO_ACCOUNTS["resident"], "password": DEMO_PASSWORD},
            )
            auth = {"Authorization": f"Bearer {r.json()['token']}"}
            r = await http.post("/api/cases", json=report_body(demo_spot(demo_city)), headers=auth)
            assert r.status_code == 201, r.text
            case = r.json()["id"]
            r = await http.post(
                f"/api/cases/{case}/photos",
                files={"file": ("p.jpg", jpeg(), "image/jpeg")},
                headers=auth,
            )
            assert r.status_code == 201, r.text
            photo_url = r.json()["url"]
            photo = (await http.get(photo_url, headers=auth)).content

            done = wangge(source, "backup", str(archive))
            assert done.returncode == 0, done.stderr
            assert archive.stat().st_mode & 0o077 == 0

    done = wangge(fresh, "restore", str(archive))
    assert done.returncode == 0, done.stderr
    refused = wangge(fresh, "restore", str(archive))
    assert refused.returncode != 0 and "--force" in refused.stderr
    assert wangge(fresh, "restore", "--force", str(archive)).returncode == 0

    async with (
        served(fresh, fresh.data_dir) as server,
        httpx.AsyncClient(base_url=server.base, timeout=30) as http,
    ):
        r = await http.get(f"/api/cases/{case}", headers=auth)
        assert r.status_code == 200, r.text
        assert r.json()["description"] == "3号楼前路灯不亮"
        r = await http.get(photo_url, headers=auth)
        assert r.status_code == 200 and r.content == photo


def test_restore_refuses_what_is_no_backup_and_backup_a_database_that_is_not(tmp_path):
    settings = Settings(data_dir=tmp_path / "d", database_url=f"sqlite:///{tmp_path / 'd/x'}")
    (tmp_path / "junk.tar").write_bytes(b"not a tar")
    done = wangge(settings, "restore", str(tmp_path / "junk.tar"))
    assert done.returncode != 0 and "is not a wangge backup" in done.stderr
    done = wangge(settings, "backup", str(tmp_path / "b.tar"))
    assert done.returncode != 0 and "there is no database" in done.stderr
    assert not (tmp_path / "d" / "x").exists() and not (tmp_path / "b.tar").exists()
