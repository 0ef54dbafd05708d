from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T21:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "at most one active mode per area"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="emergency", description=DESCRIPTION)

    # A partial unique index, the same on both databases: two admins switching one area at
    # once get one mode, and the second an error the service turns into a 409.
    async def one_active_mode():
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX emergency_mode_active ON emergency_mode (area_code)"
            " WHERE ended_at IS NULL"
        )

    manager.add_raw(one_active_mode)
    return manager
