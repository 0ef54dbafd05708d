"""The tracking key's unique index, and the departments of departments.json.

Raw steps run before a migration's own table changes, so these follow the migration that
made the column and the tables. SQLite cannot add a UNIQUE column to an existing table: an
index of its own does the same on both databases (NULLs, the signed-in reporters' cases, do
not collide). The departments are the seed file's as it is now; ON CONFLICT leaves rows a
city has edited alone.
"""

import json
from pathlib import Path

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.engine import engine_finder
from piccolo.table import Table

ID = "2026-11-25T21:31:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tracking key index, seeded departments"

SEED = Path(__file__).resolve().parents[1] / "departments.json"


class Department(Table, tablename="department", schema=None):
    code = Varchar(length=32)
    name = Varchar(length=32)
    full_name = Varchar(length=128)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run():
        # The engine being migrated now: one process may migrate several databases.
        Department._meta.db = engine_finder()
        await Department.raw(
            "CREATE UNIQUE INDEX IF NOT EXISTS case_record_tracking_key"
            " ON case_record (tracking_key)"
        )
        for d in json.loads(SEED.read_text(encoding="utf-8"))["departments"]:
            await Department.raw(
                "INSERT INTO department (code, name, full_name) VALUES ({}, {}, {})"
                " ON CONFLICT (code) DO NOTHING",
                d["code"],
                d["name"],
                d["full_name"],
            )

    manager.add_raw(run)
    return manager
