from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T21:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one claim per member and need, one star row per branch and period"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="party", description=DESCRIPTION)

    # Raw steps, because SQLite cannot add Piccolo's table constraints with ALTER TABLE;
    # a unique index means the same on both databases.
    async def unique_claims():
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX need_claim_unique ON need_claim (need, member)"
        )

    async def unique_stars():
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX branch_star_unique ON branch_star (area_code, period)"
        )

    manager.add_raw(unique_claims)
    manager.add_raw(unique_stars)
    return manager
