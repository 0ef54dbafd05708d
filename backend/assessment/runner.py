"""Running the assessment's queries: named parameters, and on PostgreSQL read-only
transactions tuned for a month of cases, several side by side on one snapshot.

PostgreSQL runs one query on one core. The parts of an assessment (the case rows, the workflow
events, patrols, tasks, hours) do not depend on each other, so each gets a connection of its
own; the first exports its snapshot (``pg_export_snapshot``) and the others adopt it, so that
all of them read the database as of the same instant. SQLite runs them one after the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from piccolo.engine import PostgresEngine

from backend.assessment.dialect import Dialect, bind
from backend.cases.tables import Case

Params = dict[str, tuple[str, Any]]
Rows = list[dict[str, Any]]
_ISOLATION = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
# JIT compilation cost more than the queries' own second or so; 64 MB sorts and hashes a
# month's cases in memory. The planner cannot know how many cases a month's events touch (it is
# handed their ids as an array, so that it looks each up by its key instead of hashing a
# million cases), guesses a handful, and would then join each to its category's time limits
# one by one: it is kept to hash joins.
_TUNING = (
    "SET LOCAL jit = off",
    "SET LOCAL work_mem = '64MB'",
    "SET LOCAL enable_nestloop = off",
)
# The case rows of a period are found by seven ranges (created, due, closed and the stages'
# deadlines), which the planner takes for independent: 44% of a year's cases, so it reads the
# whole table (480 ms over a million cases). They overlap: a month's are 9%, which the indexes
# give in 60 ms. The statement that reads them is kept to the indexes.
INDEXED = ("SET LOCAL enable_seqscan = off",)


@dataclass(frozen=True)
class Query:
    """A statement, and the planner settings of its own it runs with besides ``_TUNING``."""

    sql: str
    tuning: tuple[str, ...] = ()


async def run(sql: str, **params: tuple[str, Any]) -> Rows:
    """An assessment query with named parameters, on the tables' engine."""
    text, args = bind(sql, Dialect.of(Case._meta.db), **params)
    return await Case.raw(text, *args)


def _postgres() -> PostgresEngine | None:
    engine = Case._meta.db
    if isinstance(engine, PostgresEngine) and engine.current_transaction.get() is None:
        return engine
    return None


@asynccontextmanager
async def reading() -> AsyncIterator[None]:
    """One read-only, tuned transaction on PostgreSQL (nothing on SQLite, or when the caller
    is in a transaction already)."""
    engine = _postgres()
    if engine is None:
        yield
        return
    async with engine.transaction():
        for setting in (_ISOLATION, *_TUNING):
            await Case.raw(setting)
        yield


async def run_all(queries: Sequence[Query], params: Params) -> list[Rows]:
    """The rows of each query, as of one snapshot."""
    engine = _postgres()
    if engine is None:
        return [await run(q.sql, **params) for q in queries]
    async with reading():
        snapshot = (await Case.raw("SELECT pg_export_snapshot() AS id"))[0]["id"]

        async def first(query: Query) -> Rows:
            for setting in query.tuning:  # local to this transaction, the first query's
                await Case.raw(setting)
            return await run(query.sql, **params)

        async def alongside(query: Query) -> Rows:
            # This task's own transaction, not the exporter's it was started inside of.
            engine.current_transaction.set(None)
            async with engine.transaction():
                await Case.raw(_ISOLATION)
                await Case.raw(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                for setting in (*_TUNING, *query.tuning):
                    await Case.raw(setting)
                rows = await run(query.sql, **params)
            return rows

        head, *rest = queries
        return list(await asyncio.gather(first(head), *(alongside(q) for q in rest)))
