"""Each case's first acceptance, handling, verification and escalation, and who took each, as
its events tell; its first dispatch and who made it, as its events tell where they have one (a
case dispatched before the row kept its first dispatch may hold a later one); whether it was
handled on the spot (kept on the row only since 2026-12-07T20:00); whether it was accepted,
verified or escalated again. Then the indexes that find the cases whose first action of a kind
fell in a period, and those taken again.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.table import Table

ID = "2026-12-08T05:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "the first actions of the cases there are, from their events; their indexes"

# The workflow events the assessment reads, word for word as their partial indexes list them.
TYPES = (
    "'case.accept', 'case.dispatch', 'case.handle', 'case.self_handle', 'case.escalate', "
    "'case.verify'"
)
KINDS = {
    "accepted": "'case.accept'",
    "handled": "'case.handle', 'case.self_handle'",
    "verified": "'case.verify'",
    "escalated": "'case.escalate'",
    "dispatched": "'case.dispatch'",
}
AGAIN = ("accepted", "verified", "escalated")
SELF_HANDLE = "'case.self_handle'"


def _of(kinds: str) -> str:
    return (
        "FROM event e WHERE e.subject = 'case:' || case_record.id "
        f"AND e.type IN ({TYPES}) AND e.type IN ({kinds})"
    )


def _first(kinds: str) -> tuple[str, str]:
    return (
        f"(SELECT MIN(e.at) {_of(kinds)})",
        f"(SELECT e.actor {_of(kinds)} ORDER BY e.at, e.id LIMIT 1)",
    )


def _fill() -> str:
    sets = []
    for name, kinds in KINDS.items():
        at, by = _first(kinds)
        if name == "dispatched":
            sets += [f"dispatched_at = COALESCE({at}, dispatched_at)"]
            sets += [f"dispatched_by = COALESCE({by}, dispatched_by)"]
        else:
            sets += [f"first_{name}_at = {at}", f"first_{name}_by = {by}"]
    on_the_spot = f"EXISTS (SELECT 1 {_of(SELF_HANDLE)})"
    sets.append(f"self_handled = CASE WHEN {on_the_spot} THEN TRUE ELSE self_handled END")
    again = " OR ".join(f"(SELECT COUNT(*) {_of(KINDS[name])}) > 1" for name in AGAIN)
    sets.append(f"repeated_actions = CASE WHEN {again} THEN TRUE ELSE FALSE END")
    return (
        f"UPDATE case_record SET {', '.join(sets)} WHERE id IN ("
        f"SELECT CAST(SUBSTR(subject, 6) AS INTEGER) FROM event WHERE type IN ({TYPES}))"
    )


FIRST_COLUMNS = ("first_accepted_at", "first_handled_at", "first_verified_at")
FIRST_COLUMNS += ("first_escalated_at", "dispatched_at")
INDEXES = [
    f"CREATE INDEX IF NOT EXISTS case_record_{column} ON case_record ({column}) "
    f"WHERE {column} IS NOT NULL"
    for column in FIRST_COLUMNS
]
INDEXES.append(
    "CREATE INDEX IF NOT EXISTS case_record_repeated_actions ON case_record (id) "
    "WHERE repeated_actions"
)


class Case(Table, tablename="case_record", schema=None):
    """The table the statements run on (``raw`` needs one)."""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run():
        Case._meta.db = engine_finder()  # the engine being migrated now
        for statement in [_fill(), *INDEXES]:
            await Case.raw(statement)
        await Case.raw("ANALYZE case_record")

    manager.add_raw(run)
    return manager
