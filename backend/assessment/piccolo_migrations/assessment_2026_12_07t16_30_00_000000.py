from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.engine import engine_finder

ID = "2026-12-07T16:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = (
    "published (frozen) periods; the workflow-event indexes with verification and the actor"
)

# The workflow events the assessment reads; the queries repeat this list word for word
# (case_sql.TYPES), so that SQLite, which proves a partial index usable only by an identical
# term, uses these too. The actor is in the index: a worker's figures go to whoever acted.
TYPES = (
    "'case.accept', 'case.dispatch', 'case.handle', 'case.self_handle', 'case.escalate', "
    "'case.verify'"
)

INDEXES = (
    "DROP INDEX IF EXISTS assessment_event_at",
    "DROP INDEX IF EXISTS assessment_event_subject",
    "CREATE INDEX IF NOT EXISTS assessment_event_at_actor ON event (at, subject, type, actor) "
    f"WHERE type IN ({TYPES})",
    "CREATE INDEX IF NOT EXISTS assessment_event_subject_types ON event (subject, type, at) "
    f"WHERE type IN ({TYPES})",
)


def _params(**extra):
    return {
        "null": False,
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
    manager = MigrationManager(migration_id=ID, app_name="assessment", description=DESCRIPTION)
    manager.add_table(
        class_name="AssessmentPublication",
        tablename="assessment_publication",
        schema=None,
        columns=None,
    )
    for name, cls, params in (
        ("period", Varchar, _params(length=8, default="", unique=True)),
        ("published_at", Timestamptz, _params(default=TimestamptzNow())),
        ("published_by", Integer, _params(default=None, null=True)),
        ("figures", Text, _params(default="")),
    ):
        manager.add_column(
            table_class_name="AssessmentPublication",
            tablename="assessment_publication",
            column_name=name,
            db_column_name=name,
            column_class_name=cls.__name__,
            column_class=cls,
            params=params,
            schema=None,
        )

    async def indexes():
        for ddl in INDEXES:
            await engine_finder().run_ddl(ddl)

    manager.add_raw(indexes)
    return manager
