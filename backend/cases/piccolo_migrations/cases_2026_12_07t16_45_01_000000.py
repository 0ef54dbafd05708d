"""The nearby-duplicate search by lattice cell (nearby.py, geo/cells.py).

The index it had, (category, lon, lat), narrowed the search to a strip across the whole city,
100 m wide: every case of the category in that strip was read to check its latitude. A cell
key computed at insert, indexed with the category, the time and the status, reads only the
few cells around the point, and only their recent open cases, from the index.

Older cases get their cell from the same arithmetic as geo/cells.py's ``cell_of`` (PostgreSQL
casts a double to an integer by rounding, SQLite by truncation: each is given its floor).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T16:45:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "the cells of older cases, and the nearby search's index on them"

FLOOR = {
    "sqlite": "CAST(({} + {}) * 1000 AS INTEGER)",  # never negative here: truncation is floor
    "postgres": "CAST(FLOOR(({} + {}) * 1000) AS BIGINT)",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def cells_and_index():
        engine = engine_finder()
        floor = FLOOR["sqlite" if engine.engine_type == "sqlite" else "postgres"]
        x, y = floor.format("lon", 180), floor.format("lat", 90)
        await engine.run_ddl(f"UPDATE case_record SET cell = {x} * 200000 + {y}")
        await engine.run_ddl("DROP INDEX IF EXISTS case_record_nearby")
        await engine.run_ddl(
            "CREATE INDEX IF NOT EXISTS case_record_nearby"
            " ON case_record (category, cell, created_at, status)"
        )

    manager.add_raw(cells_and_index)
    return manager
