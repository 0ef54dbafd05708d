from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T13:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "at most one live key per system"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="open311", description=DESCRIPTION)

    # A partial unique index, the same on both databases: two admins issuing a key to one
    # system at once get one key, and the second an error the service turns into a 409.
    async def one_live_key():
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX open311_key_live ON open311_key (name) WHERE revoked_at IS NULL"
        )

    manager.add_raw(one_live_key)
    return manager
