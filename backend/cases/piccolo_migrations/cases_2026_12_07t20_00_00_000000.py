"""The stages' deadlines on the case row, and the categories' time to verify.

A case keeps its time to accept (``accept_due_at``, set at submission: accepting overwrites
``due_at`` with the time to close), when it entered the workflow and who accepted it, who
dispatched it first, its time to handle (set at its dispatch) and its last handling, the time
to verify that handling (set at it) and its verification, and whether it was handled on the
spot by its finder (自处置). The assessment's 按时立案率, 处置率, 按时处置率 and 按时核查率 read
them off the row, and find the cases whose deadline fell in a period by the indexes on the
three deadlines. Cases from before this migration have none: they count in no period's
应立案数, 应处置数 or 应核查数, and none is self-handled.

A category's ``verify_hours`` ({priority: hours}, as the other stages'): filled for the seeded
categories by the next migration.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean, Integer, Text, Timestamptz
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-07T20:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the stages' deadlines on the case row; the categories' time to verify"


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


_DEADLINE = _params(index=True)
CASE_COLUMNS = (
    ("dispatched_by", Integer, _params()),
    ("accept_due_at", Timestamptz, _DEADLINE),
    ("accepted_at", Timestamptz, _params()),
    ("accepted_by", Integer, _params()),
    ("handle_due_at", Timestamptz, _DEADLINE),
    ("handled_at", Timestamptz, _params()),
    ("handled_by", Integer, _params()),
    ("verify_due_at", Timestamptz, _DEADLINE),
    ("verified_at", Timestamptz, _params()),
    ("verified_by", Integer, _params()),
    ("self_handled", Boolean, _params(default=False, null=False)),
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)
    for name, column_class, params in CASE_COLUMNS:
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
    manager.add_column(
        table_class_name="Category",
        tablename="category",
        column_name="verify_hours",
        db_column_name="verify_hours",
        column_class_name="Text",
        column_class=Text,
        params=_params(default="{}", null=False),
        schema=None,
    )
    return manager
