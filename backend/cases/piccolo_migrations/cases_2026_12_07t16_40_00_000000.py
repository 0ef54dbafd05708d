"""Partial indexes of the open cases, for the first run of a case list: open and past due,
the most overdue first (backend/cases/listing.py, ``OPEN_SQL``).

Read through an index of every case, a community's overdue cases are found among its closed
ones, each looked up in the table to learn its status: measured at 1,000,000 cases, 11,000
rows fetched for 700 on PostgreSQL. These hold the open cases only, in due order per branch of
visibility (and city-wide). Both planners use a partial index when the query's condition is
the index's own, literally: the statuses are written out here as the listing writes them.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.engine import engine_finder
from piccolo.table import Table

ID = "2026-12-07T16:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "partial indexes of the open cases"

OPEN_SQL = "'accepted', 'dispatched', 'handled', 'handling', 'submitted', 'verified'"
INDEXES = [
    f"CREATE INDEX IF NOT EXISTS case_record_open_{name} ON case_record ({columns})"
    f" WHERE status IN ({OPEN_SQL})"
    for name, columns in [
        ("due", "due_at, id"),
        ("owner", "owner_code, due_at, id"),
        ("grid", "grid_code, due_at, id"),
        ("reporter", "reporter, due_at, id"),
        ("assignee", "assignee, due_at, id"),
        ("department", "department, due_at, id"),
    ]
]


class Case(Table, tablename="case_record", schema=None):
    status = Varchar(length=16)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run():
        Case._meta.db = engine_finder()  # the engine being migrated now
        for statement in INDEXES:
            await Case.raw(statement)
        await Case.raw("ANALYZE case_record")

    manager.add_raw(run)
    return manager
