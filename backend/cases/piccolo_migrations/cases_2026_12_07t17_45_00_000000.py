"""A case's dispatch deadline (set at acceptance from the category's dispatch_hours) and its
first dispatch: the assessment's 应派遣数 and 按时派遣率 read them off the row, and find the
cases whose deadline fell in a period by the index on ``dispatch_due_at``.

Cases accepted before this migration have neither: they count in no period's 应派遣数.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T17:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a case's dispatch deadline and first dispatch"


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
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)
    for name, params in (("dispatch_due_at", _params(index=True)), ("dispatched_at", _params())):
        manager.add_column(
            table_class_name="Case",
            tablename="case_record",
            column_name=name,
            db_column_name=name,
            column_class_name="Timestamptz",
            column_class=Timestamptz,
            params=params,
            schema=None,
        )
    return manager
