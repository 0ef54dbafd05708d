"""Indexes for case lists that cost the page, not the table (backend/cases/listing.py).

- Each branch of "who may see it" (owner, grid where it happened, reporter, assignee,
  department) and the status filter has an index ending in the inbox order (due_at, id), so one
  branch's page is read in order and stops after the page.
- (lon, lat) serves a bbox.
- Text search: on SQLite a contentless FTS5 table with the trigram tokenizer (substrings of three
  characters or more, Chinese included), kept in step with case_record by triggers in the same
  transaction as each write; each text ends in two U+001F characters, so that a shorter
  substring is the prefix of some indexed trigram. On PostgreSQL pg_trgm GIN indexes on
  lower(description) and lower(address), which LIKE '%…%' uses.
- ANALYZE, so that the planners know these indexes' selectivity from the start.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.engine import SQLiteEngine, engine_finder
from piccolo.table import Table

ID = "2026-12-07T16:35:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "case list indexes, text search structures"

INDEXES = [
    "CREATE INDEX IF NOT EXISTS case_record_list_owner ON case_record (owner_code, due_at, id)",
    "CREATE INDEX IF NOT EXISTS case_record_list_grid ON case_record (grid_code, due_at, id)",
    "CREATE INDEX IF NOT EXISTS case_record_list_reporter ON case_record (reporter, due_at, id)",
    "CREATE INDEX IF NOT EXISTS case_record_list_assignee ON case_record (assignee, due_at, id)",
    "CREATE INDEX IF NOT EXISTS case_record_list_department"
    " ON case_record (department, due_at, id)",
    "CREATE INDEX IF NOT EXISTS case_record_list_status ON case_record (status, due_at, id)",
    "CREATE INDEX IF NOT EXISTS case_record_lonlat ON case_record (lon, lat)",
]

_BODY = "{0}.description || char(31, 31, 10) || {0}.address || char(31, 31)"
SQLITE_SEARCH = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS case_search"
    " USING fts5(body, content='', tokenize='trigram')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS case_search_terms USING fts5vocab(case_search, 'row')",
    "CREATE TRIGGER IF NOT EXISTS case_search_insert AFTER INSERT ON case_record BEGIN"
    f" INSERT INTO case_search (rowid, body) VALUES (new.id, {_BODY.format('new')}); END",
    "CREATE TRIGGER IF NOT EXISTS case_search_update"
    " AFTER UPDATE OF description, address ON case_record BEGIN"
    " INSERT INTO case_search (case_search, rowid, body)"
    f" VALUES ('delete', old.id, {_BODY.format('old')});"
    f" INSERT INTO case_search (rowid, body) VALUES (new.id, {_BODY.format('new')}); END",
    "CREATE TRIGGER IF NOT EXISTS case_search_delete AFTER DELETE ON case_record BEGIN"
    " INSERT INTO case_search (case_search, rowid, body)"
    f" VALUES ('delete', old.id, {_BODY.format('old')}); END",
    "INSERT INTO case_search (case_search) VALUES ('delete-all')",
    f"INSERT INTO case_search (rowid, body) SELECT id, {_BODY.format('case_record')}"
    " FROM case_record",
]
POSTGRES_SEARCH = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS case_record_search_description"
    " ON case_record USING gin (lower(description) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS case_record_search_address"
    " ON case_record USING gin (lower(address) gin_trgm_ops)",
]


class Case(Table, tablename="case_record", schema=None):
    owner_code = Varchar(length=16)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def run():
        engine = engine_finder()  # the engine being migrated now
        Case._meta.db = engine
        sqlite = isinstance(engine, SQLiteEngine)
        for statement in [*INDEXES, *(SQLITE_SEARCH if sqlite else POSTGRES_SEARCH)]:
            await Case.raw(statement)
        await Case.raw("ANALYZE case_record")

    manager.add_raw(run)
    return manager
