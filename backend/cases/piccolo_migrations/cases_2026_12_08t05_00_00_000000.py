"""The first of each workflow action the assessment counts by, on the case row
(backend/cases/firsts.py): its first acceptance, handling, verification and escalation, who took
each, and whether it was accepted, verified or escalated a second time. The next migration fills
them for the cases there are, from their events.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean, Integer, Timestamptz
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-08T05:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the first of each action the assessment counts by, on the case row"


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


CASE_COLUMNS = (
    *(
        (f"first_{name}_{part}", column, _params())
        for name in ("accepted", "handled", "verified", "escalated")
        for part, column in (("at", Timestamptz), ("by", Integer))
    ),
    ("repeated_actions", Boolean, _params(default=False, null=False)),
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
    return manager
