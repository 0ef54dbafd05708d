"""Drop the index on case_record (category) alone: case_record_nearby (category, lon, lat)
starts with the same column and serves every lookup by category, and each new case paid for
keeping both."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar

ID = "2026-11-26T07:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "case_record.category: no index of its own"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)
    manager.alter_column(
        table_class_name="Case",
        tablename="case_record",
        column_name="category",
        db_column_name="category",
        params={"index": False},
        old_params={"index": True},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )
    return manager
