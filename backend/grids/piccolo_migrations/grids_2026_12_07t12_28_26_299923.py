from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import ForeignKey

ID = "2026-12-07T12:28:26:299923"
VERSION = "1.38.0"
DESCRIPTION = "grid_post.person indexed: the principal lookup reads a person's posts"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="grids", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="GridPost",
        tablename="grid_post",
        column_name="person",
        db_column_name="person",
        params={"index": True},
        old_params={"index": False},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    return manager
