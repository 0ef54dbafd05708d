from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Text, Timestamptz, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T16:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Moves: transfer, grid history, joint departments, merges, pauses"


def _params(**extra):
    return {
        "default": None,
        "null": True,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
        **extra,
    }


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="cases", description=DESCRIPTION
    )
    columns = [
        ("transfer_to", Varchar, _params(length=16)),
        ("grid_history", Varchar, _params(length=256)),
        ("departments", Varchar, _params(length=256)),
        ("merged_into", Integer, _params(index=True)),
        ("followers", Text, _params()),
        ("paused_at", Timestamptz, _params()),
    ]
    for name, column_class, params in columns:
        manager.add_column(
            table_class_name="Case",
            tablename="case_record",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )

    return manager
