"""A lattice cell per case (geo/cells.py): the key of the nearby-duplicate search. Its values
and index come in the next migration (Piccolo runs a migration's raw steps before its columns).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T16:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a lattice cell per case"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Case",
        tablename="case_record",
        column_name="cell",
        db_column_name="cell",
        column_class_name="BigInt",
        column_class=BigInt,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager
