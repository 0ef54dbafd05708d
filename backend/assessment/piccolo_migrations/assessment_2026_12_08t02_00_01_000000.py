"""The answers by door of the periods published before they were kept apart: moved from
``figures`` to ``by_source`` (backend/assessment/frozen.py)."""

import msgspec
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text, Varchar
from piccolo.engine import engine_finder
from piccolo.table import Table

ID = "2026-12-08T02:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "a publication's answers by door moved apart"

BY_SOURCE = "@"  # frozen.key: level@source


class AssessmentPublication(Table, tablename="assessment_publication", schema=None):
    period = Varchar(length=8)
    figures = Text()
    by_source = Text()


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="assessment", description=DESCRIPTION)

    async def run():
        AssessmentPublication._meta.db = engine_finder()  # the engine being migrated now
        table = AssessmentPublication
        for row in await table.select(table.period, table.figures):
            answers = msgspec.json.decode(row["figures"], type=dict[str, msgspec.Raw])
            whole = {k: v for k, v in answers.items() if BY_SOURCE not in k}
            doors = {k: v for k, v in answers.items() if BY_SOURCE in k}
            if doors:
                await table.update(
                    {
                        table.figures: msgspec.json.encode(whole).decode(),
                        table.by_source: msgspec.json.encode(doors).decode(),
                    }
                ).where(table.period == row["period"])

    manager.add_raw(run)
    return manager
