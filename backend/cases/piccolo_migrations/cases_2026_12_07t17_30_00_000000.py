"""Partial indexes of the few cases that moves mark (backend/cases/listing.py): a transfer
waiting for its answer, a joint handling, the reporters of merged duplicates.

Each is a branch of a case list's visibility; without an index of its own, every list would
read every case to find the handful with these columns set. The listing's conditions carry
the index's own ``IS NOT NULL``, so that both planners take them.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.engine import engine_finder
from piccolo.table import Table

ID = "2026-12-07T17:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "partial indexes of transfers, joint handling and merges"

INDEXES = [
    f"CREATE INDEX IF NOT EXISTS case_record_{column}_set ON case_record ({column})"
    f" WHERE {column} IS NOT NULL"
    for column in ("transfer_to", "departments", "followers")
]


class Case(Table, tablename="case_record", schema=None):
    status = Varchar(length=16)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run():
        Case._meta.db = engine_finder()  # the engine being migrated now
        for statement in INDEXES:
            await Case.raw(statement)

    manager.add_raw(run)
    return manager
