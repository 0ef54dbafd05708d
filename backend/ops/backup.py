"""``wangge backup PATH`` and ``wangge restore PATH``: one tar archive holding the database and
what the data folder keeps beside it.

Members of the archive:

- ``wangge-backup.json``: the format, the kind of database, when it was made;
- ``database.sqlite`` (SQLite's online backup API: a consistent copy taken while the servers
  keep writing) or ``database.pgdump`` (``pg_dump -Fc``, itself a consistent snapshot);
- ``photos/``: case and task photos with their thumbnails (files never changed once written);
- ``secret.key``, when the key lives in the data folder: sign-ins stay valid after a restore.

The archive is not compressed: photos and the PostgreSQL custom format are compressed already.
A restore refuses a database that holds a city (areas or people) unless forced.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

import asyncpg

from backend.core.settings import Settings

MANIFEST = "wangge-backup.json"
FORMAT = 1
# Tables whose rows make a database "a city": a fresh or freshly migrated one has none.
CITY_TABLES = ("area", "person")


class BackupError(Exception):
    """A backup or restore that cannot be done; its message is for the operator."""


def _sqlite_path(settings: Settings) -> Path:
    return Path(settings.database_url.removeprefix("sqlite:///"))


def _kind(settings: Settings) -> str:
    return "sqlite" if settings.is_sqlite else "postgresql"


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _run(*args: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {done.stderr.strip()}")


def backup(settings: Settings, target: Path) -> dict[str, object]:
    """Write the archive to ``target`` (through a temporary file beside it, so that a backup
    cut short never leaves a truncated archive under the name); returns its manifest."""
    target = target.resolve()
    manifest: dict[str, object] = {
        "format": FORMAT,
        "database": _kind(settings),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        if settings.is_sqlite:
            if not _sqlite_path(settings).is_file():
                raise BackupError(f"there is no database at {_sqlite_path(settings)}")
            database = Path(work) / "database.sqlite"
            source = sqlite3.connect(_sqlite_path(settings))
            copy = sqlite3.connect(database)
            try:
                source.backup(copy)
            finally:
                copy.close()
                source.close()
        else:
            database = Path(work) / "database.pgdump"
            _run(_tool("pg_dump"), "-Fc", "--no-owner", "-f", str(database), settings.database_url)
        (Path(work) / MANIFEST).write_text(json.dumps(manifest))
        partial = Path(work) / "archive.tar"
        with tarfile.open(partial, "w") as tar:
            tar.add(Path(work) / MANIFEST, arcname=MANIFEST)
            tar.add(database, arcname=database.name)
            photos = settings.data_dir / "photos"
            if photos.is_dir():
                tar.add(photos, arcname="photos")
            key = settings.data_dir / "secret.key"
            if key.is_file():
                tar.add(key, arcname="secret.key")
        os.chmod(partial, 0o600)  # it holds the secret key and every phone number
        os.replace(partial, target)
    return manifest


async def holds_city(settings: Settings) -> bool:
    """Whether the database has areas or people (a fresh or only migrated one has neither)."""
    if settings.is_sqlite:
        path = _sqlite_path(settings)
        if not path.exists():
            return False
        db = sqlite3.connect(path)
        try:
            names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            return any(
                db.execute(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone() is not None
                for t in CITY_TABLES
                if t in names
            )
        finally:
            db.close()
    connection = await asyncpg.connect(settings.database_url)
    try:
        for table in CITY_TABLES:
            if await connection.fetchval("SELECT to_regclass($1)", table) is None:
                continue
            if await connection.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{table}")'):
                return True
        return False
    finally:
        await connection.close()


async def restore(settings: Settings, source: Path, *, force: bool = False) -> dict[str, object]:
    """Put the archive's database in place of the configured one and its files into the data
    folder; returns the archive's manifest. The servers should be stopped first."""
    try:
        with tarfile.open(source, "r") as tar:
            member = tar.extractfile(MANIFEST)
            manifest = json.load(member) if member else {}
    except (OSError, KeyError, tarfile.TarError, json.JSONDecodeError) as exc:
        raise BackupError(f"{source} is not a wangge backup") from exc
    with tarfile.open(source, "r") as tar, tempfile.TemporaryDirectory() as work:
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{source} is a backup of format {manifest.get('format')}")
        if manifest["database"] != _kind(settings):
            raise BackupError(
                f"{source} holds a {manifest['database']} database, "
                f"DATABASE_URL is {_kind(settings)}"
            )
        if not force and await holds_city(settings):
            raise BackupError(
                "the database already holds a city: restore with --force to replace it"
            )
        # The "data" filter refuses absolute paths, links out of the folder and device files.
        tar.extractall(work, filter="data")
        if settings.is_sqlite:
            target = _sqlite_path(settings)
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            copy = sqlite3.connect(Path(work) / "database.sqlite")
            into = sqlite3.connect(target)
            try:
                copy.backup(into)  # page by page under SQLite's locks, WAL included
            finally:
                into.close()
                copy.close()
        else:
            _run(
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "-d",
                settings.database_url,
                str(Path(work) / "database.pgdump"),
            )
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        photos = Path(work) / "photos"
        if photos.is_dir():
            shutil.copytree(photos, settings.data_dir / "photos", dirs_exist_ok=True)
        key = Path(work) / "secret.key"
        if key.is_file():
            shutil.copyfile(key, settings.data_dir / "secret.key")
            os.chmod(settings.data_dir / "secret.key", 0o600)
    return manifest
