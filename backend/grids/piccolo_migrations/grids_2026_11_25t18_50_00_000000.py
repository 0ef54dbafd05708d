from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T18:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one row per person and post in a grid"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="grids", description=DESCRIPTION)

    # A raw step, because SQLite cannot add Piccolo's table constraints with ALTER TABLE;
    # a unique index means the same on both databases.
    async def unique_posts():
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX grid_post_unique ON grid_post (grid, person, post)"
        )

    manager.add_raw(unique_posts)
    return manager
