"""Categories seeded before limits had units: their stages on the clock, dispatch and handle
hours and department, from categories.json as it is now.

A database seeded before the working calendar has each category's limits but ``calendar_hours``
``{}``: every limit would run in working time, urgent cases and 突发事件 included. Each seeded
category still as it was (no units set) takes the seed file's; a category the city has given
units, or one the file does not know, is left alone. A fresh database has no categories yet:
the seed writes them whole after the migrations.
"""

import json
from pathlib import Path

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text, Varchar
from piccolo.engine import engine_finder
from piccolo.table import Table

ID = "2026-12-07T13:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "units of the seeded categories' limits"

SEED = Path(__file__).resolve().parents[1] / "categories.json"


class Category(Table, tablename="category", schema=None):
    code = Varchar(length=16)
    calendar_hours = Text()


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run():
        Category._meta.db = engine_finder()  # the engine being migrated now
        seed = json.loads(SEED.read_text(encoding="utf-8"))
        for r in seed["categories"]:
            if "limits" not in r:
                continue  # a group: no limits
            await Category.raw(
                "UPDATE category SET calendar_hours = {}, dispatch_hours = {},"
                " handle_hours = {}, department = COALESCE(department, {})"
                " WHERE code = {} AND calendar_hours = '{{}}' AND limits != '{{}}'",
                json.dumps(r.get("calendar_hours", seed["calendar_hours"])),
                json.dumps(r.get("dispatch_hours", {})),
                json.dumps(r.get("handle_hours", {})),
                r.get("department"),
                r["code"],
            )

    manager.add_raw(run)
    return manager
