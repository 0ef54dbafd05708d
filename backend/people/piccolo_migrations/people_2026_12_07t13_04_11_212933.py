from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from enum import Enum
from piccolo.columns.column_types import Varchar

ID = "2026-12-07T13:04:11:212933"
VERSION = "1.38.0"
DESCRIPTION = ""


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="people", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Person",
        tablename="person",
        column_name="role",
        db_column_name="role",
        params={
            "choices": Enum(
                "Role",
                {
                    "resident": "resident",
                    "grid_worker": "grid_worker",
                    "grid_leader": "grid_leader",
                    "grid_police": "grid_police",
                    "community_staff": "community_staff",
                    "street_staff": "street_staff",
                    "district_admin": "district_admin",
                    "city_admin": "city_admin",
                    "department": "department",
                    "hotline_operator": "hotline_operator",
                },
            )
        },
        old_params={
            "choices": Enum(
                "Role",
                {
                    "resident": "resident",
                    "grid_worker": "grid_worker",
                    "grid_leader": "grid_leader",
                    "grid_police": "grid_police",
                    "community_staff": "community_staff",
                    "street_staff": "street_staff",
                    "district_admin": "district_admin",
                    "city_admin": "city_admin",
                    "department": "department",
                },
            )
        },
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
