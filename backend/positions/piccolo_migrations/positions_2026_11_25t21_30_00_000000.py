from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T21:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one track point per person and time"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="positions", description=DESCRIPTION)

    # A raw step, because SQLite cannot add Piccolo's table constraints with ALTER TABLE; the
    # unique index also serves every track read, which goes by person and time.
    async def unique_fixes():
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX track_point_person_at ON track_point (person, at)"
        )

    manager.add_raw(unique_fixes)
    return manager
