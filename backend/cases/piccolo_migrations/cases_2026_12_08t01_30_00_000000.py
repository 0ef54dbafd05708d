"""PostgreSQL: statistics of the filter expressions that no index serves, so that the planner
knows how many cases they keep (backend/cases/listing.py, ``_unindexed``).

A list's branch of visibility writes a filter such as the status as ``(status || '')`` so that
PostgreSQL does not AND the status index's bitmap into the branch's own index. The planner has
no statistics of such an expression and guesses that it keeps 0.5% of the rows: for a
community's closed cases (88% of its cases) it then read every case of each of the community's
codes and sorted them, 50 ms at 1,000,000 cases, where reading one code's index in due order
stops after the page (0.14 ms). With these statistics (PostgreSQL 14 and later) it knows the
share. SQLite writes ``+status`` instead, which keeps its statistics.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.engine import PostgresEngine, engine_finder
from piccolo.table import Table

ID = "2026-12-08T01:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "statistics of the list filters' unindexed expressions"

# The columns listing._unindexed_in is given, as it writes them.
STATISTICS = [
    f"CREATE STATISTICS IF NOT EXISTS case_record_unindexed_{column}"
    f' ON (("{column}" || \'\')) FROM case_record'
    for column in ("status", "grid_code", "kind", "source")
]


class Case(Table, tablename="case_record", schema=None):
    status = Varchar(length=16)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run():
        engine = engine_finder()  # the engine being migrated now
        if not isinstance(engine, PostgresEngine):
            return
        Case._meta.db = engine
        [row] = await Case.raw("SELECT current_setting('server_version_num')::int AS v")
        if row["v"] < 140000:  # statistics of an expression came with PostgreSQL 14
            return
        for statement in STATISTICS:
            await Case.raw(statement)
        await Case.raw("ANALYZE case_record")

    manager.add_raw(run)
    return manager
