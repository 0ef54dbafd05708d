"""The indexes of the nearby-duplicate search (nearby.py), run on every new case.

Open cases of a category near a point: equality on the category, then a range on longitude
narrows it to a strip about 100 m wide; latitude is checked from the index too. Supporters
("me too") are events of one type: a partial index holds only those, so the many other events
do not pay for it. Queries name the type as the same literal, as SQLite uses a partial index
only for a term it can match word for word.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T22:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "indexes for nearby cases and their supporters"

INDEXES = (
    "CREATE INDEX IF NOT EXISTS case_record_nearby ON case_record (category, lon, lat)",
    "CREATE INDEX IF NOT EXISTS event_case_support ON event (subject, actor) "
    "WHERE type = 'case.support'",
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def indexes():
        for ddl in INDEXES:
            await engine_finder().run_ddl(ddl)

    manager.add_raw(indexes)
    return manager
