"""The seeded categories' time to verify (核查), from categories.json as it is now.

A leaf with limits and no ``verify_hours`` yet takes the seed file's (its own, else the file's
default); its verification runs on the clock its closing runs on (the workflow sets every
stage's deadline on the close stage's calendar), so the stage's calendar hours are those of
``close``. A fresh database has no categories yet: the seed writes them whole after the
migrations.
"""

import json
from pathlib import Path

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text, Varchar
from piccolo.engine import engine_finder
from piccolo.table import Table

ID = "2026-12-07T20:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "the seeded categories' time to verify"

SEED = Path(__file__).resolve().parents[1] / "categories.json"


class Category(Table, tablename="category", schema=None):
    code = Varchar(length=16)
    limits = Text()
    verify_hours = Text()
    calendar_hours = Text()


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run():
        Category._meta.db = engine_finder()  # the engine being migrated now
        seed = json.loads(SEED.read_text(encoding="utf-8"))
        own = {r["code"]: r.get("verify_hours") for r in seed["categories"]}
        rows = await Category.select(Category.code, Category.calendar_hours).where(
            (Category.verify_hours == "{}") & (Category.limits != "{}")
        )
        for r in rows:
            clock = json.loads(r["calendar_hours"])
            clock["verify"] = clock.get("close", [])
            await Category.update(
                verify_hours=json.dumps(own.get(r["code"]) or seed["verify_hours"]),
                calendar_hours=json.dumps({s: p for s, p in clock.items() if p}),
            ).where(Category.code == r["code"])

    manager.add_raw(run)
    return manager
