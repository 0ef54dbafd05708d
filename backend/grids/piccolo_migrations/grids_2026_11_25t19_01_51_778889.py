from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import DoublePrecision
from piccolo.columns.column_types import Varchar

ID = "2026-11-25T19:01:51:778889"
VERSION = "1.38.0"
DESCRIPTION = "True"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="grids", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Grid",
        tablename="grid",
        column_name="min_lon",
        db_column_name="min_lon",
        params={"index": False},
        old_params={"index": True},
        column_class=DoublePrecision,
        old_column_class=DoublePrecision,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Grid",
        tablename="grid",
        column_name="min_lat",
        db_column_name="min_lat",
        params={"index": False},
        old_params={"index": True},
        column_class=DoublePrecision,
        old_column_class=DoublePrecision,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Grid",
        tablename="grid",
        column_name="code",
        db_column_name="code",
        params={"index": False},
        old_params={"index": True},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
