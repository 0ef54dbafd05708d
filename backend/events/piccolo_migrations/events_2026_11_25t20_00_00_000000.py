from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T20:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the event clock's one row"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="events", description=DESCRIPTION)

    async def first_tick():
        await engine_finder().run_ddl("INSERT INTO event_clock (last) VALUES (0)")

    manager.add_raw(first_tick)
    return manager
