from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T21:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one item per broadcast and target"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tasks", description=DESCRIPTION)

    # building_id is NULL for a grid's item, and NULLs never collide in a unique index:
    # COALESCE makes them collide, on both databases.
    async def one_item_per_target():
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX task_item_target"
            " ON task_item (broadcast, grid_code, COALESCE(building_id, 0))"
        )

    manager.add_raw(one_item_per_target)
    return manager
