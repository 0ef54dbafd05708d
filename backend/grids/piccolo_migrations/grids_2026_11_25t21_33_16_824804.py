from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from enum import Enum
from piccolo.columns.column_types import Varchar

ID = "2026-11-25T21:33:16:824804"
VERSION = "1.38.0"
DESCRIPTION = ""


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="grids", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="GridPost",
        tablename="grid_post",
        column_name="post",
        db_column_name="post",
        params={
            "choices": Enum(
                "Post",
                {
                    "leader": "leader",
                    "police": "police",
                    "fulltime": "fulltime",
                    "parttime": "parttime",
                    "party_secretary": "party_secretary",
                    "property_party_secretary": "property_party_secretary",
                },
            )
        },
        old_params={
            "choices": Enum(
                "Post",
                {
                    "leader": "leader",
                    "police": "police",
                    "fulltime": "fulltime",
                    "parttime": "parttime",
                    "party_secretary": "party_secretary",
                },
            )
        },
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
