from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T09:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "one weight per level and indicator; the indexes the assessment's queries use"

# The workflow events the assessment reads; the queries repeat this list word for word, so that
# SQLite, which proves a partial index usable only by an identical term, uses these too.
TYPES = "'case.accept', 'case.dispatch', 'case.handle', 'case.self_handle', 'case.escalate'"

INDEXES = (
    "CREATE UNIQUE INDEX IF NOT EXISTS assessment_weights_unique "
    "ON assessment_weights (level, indicator)",
    # Cases submitted, due or closed in a period.
    "CREATE INDEX IF NOT EXISTS assessment_case_created ON case_record (created_at)",
    "CREATE INDEX IF NOT EXISTS assessment_case_due ON case_record (due_at)",
    "CREATE INDEX IF NOT EXISTS assessment_case_closed ON case_record (closed_at)",
    # A period's workflow events, read from the index alone.
    "CREATE INDEX IF NOT EXISTS assessment_event_at ON event (at, subject, type) "
    f"WHERE type IN ({TYPES})",
    # A case's earlier workflow events.
    "CREATE INDEX IF NOT EXISTS assessment_event_subject ON event (subject, type, at) "
    f"WHERE type IN ({TYPES})",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="assessment", description=DESCRIPTION)

    async def indexes():
        for ddl in INDEXES:
            await engine_finder().run_ddl(ddl)

    manager.add_raw(indexes)
    return manager
