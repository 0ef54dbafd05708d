"""The event log: ids become visible in commit order, so a cursor never skips an event."""

from __future__ import annotations

import asyncio
import random

import pytest

from backend.cases.states import Action
from backend.core.db import close_pool, open_pool, use_engine, write_transaction
from backend.core.events import CASE_EVENTS, case_event
from backend.events.service import NewEvent, after, after_on, append

WRITERS, EACH = 8, 12


async def test_a_reader_following_the_cursor_sees_every_event_of_concurrent_writers_once(
    scratch_database,
):
    engine = scratch_database.engine
    await open_pool(engine)  # PostgreSQL: writers on connections of their own
    rng = random.Random(7)

    async def writer(w: int) -> None:
        for k in range(EACH):
            async with write_transaction(engine):
                await asyncio.sleep(rng.uniform(0, 0.002))
                await append([NewEvent("test", f"writer:{w}", "15030200100101", {"k": k})])
                # A slow commit: without commit-ordered ids, a later id would show first.
                await asyncio.sleep(rng.uniform(0, 0.004))

    seen: list[int] = []
    done = asyncio.Event()

    async def reader() -> None:
        cursor = 0
        while True:
            batch = await after(cursor)
            seen.extend(e.id for e in batch)
            cursor = batch[-1].id if batch else cursor
            if done.is_set() and not batch:
                return
            await asyncio.sleep(0.001)

    try:
        follow = asyncio.create_task(reader())
        await asyncio.gather(*(writer(w) for w in range(WRITERS)))
        done.set()
        await follow
    finally:
        await close_pool(engine)
    assert seen == list(range(1, WRITERS * EACH + 1))


async def test_readers_filter_by_area_code_prefix(scratch_database):
    async with write_transaction(scratch_database.engine):
        await append(
            [
                NewEvent("a", "case:1", "15030200100101"),
                NewEvent("b", "case:2", "15030400200301"),
                NewEvent("c", "grids", "150300"),
            ]
        )
    assert [e.type for e in await after(0, ["150302001"])] == ["a"]
    assert [e.type for e in await after(0, ["1503"])] == ["a", "b", "c"]
    assert [e.type for e in await after(1)] == ["b", "c"]
    with pytest.raises(ValueError):
        await after(0, ["15%"])


async def test_a_hub_reads_the_log_through_its_own_engine(scratch_database, database):
    # The tables bound to another database of the process: the hub's reader does not follow.
    async with write_transaction(scratch_database.engine):
        await append([NewEvent("a", "case:1", "15030200100101", {"n": 1})])
    bound = await after(0)
    use_engine(database.engine)
    try:
        mine = await after_on(scratch_database.engine, 0)
    finally:
        use_engine(scratch_database.engine)
    assert [(e.id, e.type, e.subject, e.scope, bytes(e.payload)) for e in mine] == [
        (e.id, e.type, e.subject, e.scope, bytes(e.payload)) for e in bound
    ]
    assert [e.at for e in mine] == [e.at for e in bound]
    assert await after_on(scratch_database.engine, mine[-1].id) == []


async def test_events_are_only_appended_inside_a_write(scratch_database):
    with pytest.raises(RuntimeError):
        await append([NewEvent("a", "case:1", "150300")])


async def test_an_append_of_many_events_takes_several_statements_and_keeps_the_order(
    scratch_database,
):
    # An emergency switch writes one event per open case of its area: thousands in a district,
    # more parameters than one SQLite statement takes.
    events = [NewEvent("test", f"case:{k}", "150302", {"k": k}) for k in range(5_001)]
    async with write_transaction(scratch_database.engine):
        ids = await append(events)
    assert ids == list(range(ids[0], ids[0] + 5_001))
    stored = await after(ids[0] - 1, limit=6_000)
    assert [e.subject for e in stored] == [e.subject for e in events]
    assert [e.id for e in stored] == ids


def test_every_step_of_the_workflow_has_its_event_type():
    """The registry names the event of a submission and of every action the workflow knows:
    an action added without one fails here, not when a case first takes it."""
    steps = ["submit", *Action]
    assert {case_event(step) for step in steps} <= CASE_EVENTS
