"""Storage faults: a full disk, a read-only disk or database, and a PostgreSQL that cannot be
reached answer 503 ``storage_unavailable`` with the reason and ``Retry-After`` (never a bare
500), health says "degraded", and nothing is left half-written: no photo file, no row.

We run as root, so permissions make nothing read-only: the faults are real file systems, a
small tmpfs filled to the last byte and a bind mount remounted read-only (mounted here and
unmounted in ``finally``). The database file and the data folder are the owner's only.
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import sqlite3
import stat
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, closing, contextmanager
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
import shapely
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.core.db import close_pool, make_engine, migrate, write_transaction
from backend.core.photo_files import write_files
from backend.core.settings import Settings
from backend.core.storage import storage_fault
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE
from tests import conftest
from tests.backend.test_photos import phone_jpeg, sign_in, upload
from tests.conftest import admin_sql

FULL = "the disk is full"
READ_ONLY = "the database is read-only"
UNREACHABLE = "the database cannot be reached"


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, text=True)


@contextmanager
def mounted(target: Path, *options: str) -> Iterator[Path]:
    target.mkdir(parents=True, exist_ok=True)
    try:
        _run("mount", *options, str(target))
    except subprocess.CalledProcessError as exc:
        # No skipping: CI runs as root, as these tests need.
        pytest.fail(f"cannot mount {options} on {target}: {exc.stderr.strip()}")
    try:
        yield target
    finally:
        if subprocess.run(["umount", str(target)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "--lazy", str(target)], check=False)


def tmpfs(target: Path, size: str) -> AbstractContextManager[Path]:
    return mounted(target, "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs")


def fill(disk: Path) -> Path:
    """Take every free byte of ``disk``, and check it is so."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        free = os.statvfs(disk)
        os.posix_fallocate(fd, 0, free.f_bavail * free.f_frsize)
    finally:
        os.close(fd)
    probe = disk / "one-more-byte"
    with pytest.raises(OSError) as full:
        probe.write_bytes(b"x")
    probe.unlink()
    assert full.value.errno == errno.ENOSPC
    return filler


def on(db: conftest.TestDatabase, data_dir: Path) -> Settings:
    """The test's database with its data folder (photos, and the SQLite file) at ``data_dir``."""
    if db.kind == "postgres":
        return replace(db.settings, data_dir=data_dir)
    source = Path(db.settings.database_url.removeprefix("sqlite:///"))
    # Through SQLite, not as a file: the newest commits may still be in the -wal file while
    # another connection (the test's own engine) keeps it from being checkpointed.
    with (
        closing(sqlite3.connect(source)) as src,
        closing(sqlite3.connect(data_dir / "wangge.sqlite")) as dst,
    ):
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = WAL")
    return replace(
        db.settings, data_dir=data_dir, database_url=f"sqlite:///{data_dir}/wangge.sqlite"
    )


@asynccontextmanager
async def app(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield client


async def count(settings: Settings, table: str) -> int:
    """Rows of ``table``, read straight from the database."""
    if settings.is_sqlite:
        path = settings.database_url.removeprefix("sqlite:///")

        def read() -> int:
            with sqlite3.connect(path) as c:
                return c.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

        return await asyncio.to_thread(read)
    conn = await asyncpg.connect(settings.database_url)
    try:
        return await conn.fetchval(f"SELECT count(*) FROM {table}")
    finally:
        await conn.close()


def case_body(demo_city) -> dict:
    spot = shapely.point_on_surface(demo_city.grids.set_index("code").loc[DEMO_GRID_CODE].geometry)
    return {
        "client_id": str(uuid.uuid4()),
        "kind": "request",
        "category": "1501",
        "description": "井盖缺失",
        "lon": spot.x,
        "lat": spot.y,
    }


async def new_case(api: AsyncTestClient, headers: dict, demo_city) -> int:
    r = await api.post("/api/cases", json=case_body(demo_city), headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def assert_unavailable(r, reason: str) -> None:
    assert r.status_code == 503, r.text
    assert r.json() == {"status": 503, "code": "storage_unavailable", "reason": reason}
    assert int(r.headers["retry-after"]) > 0


async def assert_degraded(api: AsyncTestClient, reason: str) -> None:
    r = await api.get("/api/health")
    assert r.status_code == 503, r.text
    assert (r.json()["status"], r.json()["reason"]) == ("degraded", reason)


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name != "filler")


async def test_a_full_disk_is_a_503_and_leaves_no_file_and_no_row(
    scratch_database, tmp_path, demo_city
):
    with tmpfs(tmp_path / "disk", "40m") as disk, tmpfs(disk / "photos", "20m") as photos:
        settings = on(scratch_database, disk)
        async with app(settings) as api:
            resident = await sign_in(api, DEMO_ACCOUNTS["resident"])
            case = await new_case(api, resident, demo_city)
            assert (await api.get("/api/health")).status_code == 200

            # The photos' disk fills up: the file being written goes, and no row is made.
            filler = fill(photos)
            r = await upload(api, case, resident, phone_jpeg((1600, 1200)))
            assert_unavailable(r, FULL)
            assert files_in(photos) == []
            assert await count(settings, "case_photo") == 0
            await assert_degraded(api, FULL)

            filler.unlink()  # space again: everything works as before
            assert (await upload(api, case, resident, phone_jpeg((400, 300)))).status_code == 201
            kept = files_in(photos)
            assert len(kept) == 2
            assert (await api.get("/api/health")).status_code == 200

            if scratch_database.kind == "sqlite":
                # The database's disk fills up: the photo is written, its row is refused at
                # the commit, and the photo goes again.
                cases = await count(settings, "case_record")
                filler = fill(disk)
                r = await api.post("/api/cases", json=case_body(demo_city), headers=resident)
                assert_unavailable(r, FULL)
                r = await upload(api, case, resident, phone_jpeg((400, 300)))
                assert_unavailable(r, FULL)
                assert files_in(photos) == kept
                await assert_degraded(api, FULL)
                filler.unlink()
                assert await count(settings, "case_record") == cases
                assert await count(settings, "case_photo") == 1
                await new_case(api, resident, demo_city)
                assert (await api.get("/api/health")).status_code == 200


@asynccontextmanager
async def read_only(
    db: conftest.TestDatabase, tmp_path: Path
) -> AsyncIterator[tuple[Settings, Path]]:
    """The database made read-only (as after a disk remounted read-only, or a PostgreSQL
    switched to read-only transactions), with the photos' folder still writable; yields the
    settings for a server started afterwards and the photos' folder."""
    if db.kind == "postgres":
        data = tmp_path / "data"
        (data / "photos").mkdir(parents=True)
        name = urlsplit(db.settings.database_url).path.lstrip("/")
        await admin_sql(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        yield replace(db.settings, data_dir=data), data / "photos"
        return
    disk = tmp_path / "disk"
    disk.mkdir()
    (disk / "photos").mkdir()
    settings = on(db, disk)
    # A connection through the writable path keeps the WAL's -shm in place, which a reader of
    # a read-only WAL database needs; the server opens the file through a read-only mount.
    keeper = sqlite3.connect(disk / "wangge.sqlite")
    keeper.execute("SELECT count(*) FROM case_record").fetchall()
    try:
        with (
            mounted(tmp_path / "data", "--bind", str(disk)) as data,
            tmpfs(data / "photos", "20m") as photos,
        ):
            _run("mount", "-o", "remount,bind,ro", str(data))
            path = f"sqlite:///{data}/wangge.sqlite"
            yield replace(settings, data_dir=data, database_url=path), photos
    finally:
        keeper.close()


async def test_a_read_only_database_is_a_503_and_leaves_no_file_and_no_row(
    scratch_database, tmp_path, demo_city
):
    async with app(scratch_database.settings) as api:
        resident = await sign_in(api, DEMO_ACCOUNTS["resident"])
        case = await new_case(api, resident, demo_city)
    async with read_only(scratch_database, tmp_path) as (settings, photos), app(settings) as api:
        cases = await count(settings, "case_record")
        # Reading goes on.
        assert (await api.get(f"/api/cases/{case}", headers=resident)).status_code == 200
        r = await api.post("/api/cases", json=case_body(demo_city), headers=resident)
        assert_unavailable(r, READ_ONLY)
        # The photo's files are written, its row is refused, and the files go again.
        r = await upload(api, case, resident, phone_jpeg((400, 300)))
        assert_unavailable(r, READ_ONLY)
        assert files_in(photos) == []
        assert await count(settings, "case_photo") == 0
        assert await count(settings, "case_record") == cases
        await assert_degraded(api, READ_ONLY)


@pytest.mark.parametrize("city_template", ["postgres"], indirect=True)
async def test_a_postgresql_that_cannot_be_reached_is_a_503(scratch_database, demo_city):
    settings = scratch_database.settings
    name = urlsplit(settings.database_url).path.lstrip("/")
    async with app(settings) as api:
        resident = await sign_in(api, DEMO_ACCOUNTS["resident"])
        await new_case(api, resident, demo_city)

        # Its connections cut (a restart): at worst one answer says so, then all is well.
        await admin_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )
        r = await api.post("/api/cases", json=case_body(demo_city), headers=resident)
        if r.status_code != 201:
            assert_unavailable(r, UNREACHABLE)
        await new_case(api, resident, demo_city)

        # Gone for good: every write, and health, say so.
        await admin_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        r = await api.post("/api/cases", json=case_body(demo_city), headers=resident)
        assert_unavailable(r, UNREACHABLE)
        await assert_degraded(api, UNREACHABLE)


@pytest.mark.parametrize("city_template", ["postgres"], indirect=True)
async def test_a_connection_lost_in_a_transaction_goes_back_to_the_pool(scratch_database):
    # One connection in the pool: a transaction that kept it (as Piccolo's own does when its
    # COMMIT fails) would leave the next one waiting forever.
    engine = make_engine(scratch_database.settings.database_url)
    await engine.start_connection_pool(min_size=1, max_size=1)
    try:
        for _ in range(3):
            with pytest.raises(Exception) as lost:
                async with asyncio.timeout(10), write_transaction(engine) as transaction:
                    pid = await transaction.connection.fetchval("SELECT pg_backend_pid()")
                    await admin_sql(f"SELECT pg_terminate_backend({pid})")
            assert storage_fault(lost.value) == UNREACHABLE, repr(lost.value)
        async with asyncio.timeout(10), write_transaction(engine) as transaction:
            assert await transaction.connection.fetchval("SELECT 1") == 1
    finally:
        try:
            async with asyncio.timeout(10):  # a connection kept would hold this up forever
                await close_pool(engine)
        except TimeoutError:
            engine.pool.terminate()
            raise


async def test_each_storage_failure_is_named_and_nothing_else_is(tmp_path):
    # Real failures, each raised by the library that meets it.
    with pytest.raises(sqlite3.OperationalError) as cannot_open:
        sqlite3.connect(tmp_path / "no-such-folder" / "wangge.sqlite")
    assert storage_fault(cannot_open.value) == "the database file cannot be opened"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    with pytest.raises(OSError) as refused:
        await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{closed_port}/test", timeout=5)
    assert storage_fault(refused.value) == UNREACHABLE
    with tmpfs(tmp_path / "disk", "1m") as disk:
        _run("mount", "-o", "remount,ro", str(disk))
        with pytest.raises(OSError) as read_only_disk:
            write_files(disk, {"a" * 32: b"jpeg", "b" * 32: b"thumbnail"})
        assert storage_fault(read_only_disk.value) == "the data folder is on a read-only disk"
        assert list(disk.iterdir()) == []
    # A fault of the request or of the code stays what it is (a 4xx or a 500).
    with sqlite3.connect(":memory:") as c:
        c.execute("CREATE TABLE t (x UNIQUE)")
        c.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(sqlite3.IntegrityError) as duplicate:
            c.execute("INSERT INTO t VALUES (1)")
    assert storage_fault(duplicate.value) is None
    with pytest.raises(FileNotFoundError) as missing:
        (tmp_path / "no-such-photo").read_bytes()
    assert storage_fault(missing.value) is None


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_data_folder_database_and_key_are_the_owner_s_only(tmp_path):
    data = tmp_path / "new" / "data"
    settings = Settings(data_dir=data).with_secret()
    assert (mode(data), mode(data / "secret.key")) == (0o700, 0o600)
    elsewhere = tmp_path / "db" / "wangge.sqlite"
    engine = make_engine(f"sqlite:///{elsewhere}")
    await migrate(engine)
    try:
        assert mode(elsewhere.parent) == 0o700
        for name in ("wangge.sqlite", "wangge.sqlite-wal", "wangge.sqlite-shm"):
            assert mode(elsewhere.parent / name) == 0o600, name
    finally:
        await close_pool(engine)
    assert settings.secret_key


def readable_by_all(database: Path, key: Path) -> None:
    """As a database copied in, and a key written by hand, usually are."""
    database.chmod(0o644)
    key.write_text("k" * 40)
    key.chmod(0o644)


@pytest.mark.parametrize("city_template", ["sqlite"], indirect=True)
async def test_a_database_file_readable_by_others_is_made_the_owner_s_only(scratch_database):
    path = Path(scratch_database.settings.database_url.removeprefix("sqlite:///"))
    key = scratch_database.settings.data_dir / "secret.key"
    readable_by_all(path, key)
    settings = replace(scratch_database.settings, secret_key="")
    async with app(settings) as api:
        assert (await api.get("/api/health")).status_code == 200
        for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), key):
            assert mode(file) == 0o600, file
