"""The overdue scheduler: an overdue case goes one level up once, however many runners race."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import shapely
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.auth.principal import principal_of
from backend.cases import scheduler, service
from backend.cases.scheduler import Scheduler, escalate_overdue
from backend.cases.schemas import CaseIn, TransitionIn
from backend.cases.tables import Case
from backend.core.db import close_pool, open_pool
from backend.core.events import EventType
from backend.core.principal import Principal
from backend.core.worktime import WorkingCalendar, due_time
from backend.demo import DEMO_PASSWORD
from backend.events.tables import Event
from backend.grids.locator import load_grid_index
from backend.people.tables import Person
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE

REPO = Path(__file__).resolve().parents[2]
COMMUNITY = DEMO_GRID_CODE[:12]
CITY = DEMO_GRID_CODE[:4] + "00"
CLOSE_NORMAL = timedelta(hours=120)  # category 1501's limit to close a normal case

# One scheduler process: ready once connected, then escalates when told to go.
RUNNER = """
import asyncio, json, sys
from datetime import datetime
from backend.cases.scheduler import escalate_overdue
from backend.core.db import close_pool, make_engine, open_pool, use_engine

async def main(url, now):
    engine = make_engine(url)
    use_engine(engine)
    await open_pool(engine)
    try:
        print("ready", flush=True)
        sys.stdin.readline()
        print(json.dumps(await escalate_overdue(now, batch=5)), flush=True)
    finally:
        await close_pool(engine)

asyncio.run(main(sys.argv[1], datetime.fromisoformat(sys.argv[2])))
"""


@pytest.fixture
def spot(demo_city) -> tuple[float, float]:
    p = shapely.point_on_surface(demo_city.grids.set_index("code").loc[DEMO_GRID_CODE].geometry)
    return p.x, p.y


async def principal(role: str) -> Principal:
    row = await Person.select(Person.id).where(Person.phone == DEMO_ACCOUNTS[role]).first()
    found = await principal_of(row["id"])
    assert found is not None
    return found


async def overdue_cases(n: int, spot: tuple[float, float]) -> list[int]:
    """``n`` requests of the demo resident, accepted by the grid leader, due an hour ago."""
    index = await load_grid_index()
    resident, leader = await principal("resident"), await principal("grid_leader")
    ids = []
    for _ in range(n):
        body = CaseIn(uuid.uuid4(), "request", "1501", "路灯不亮", *spot)
        case, _ = await service.create(body, resident, index)
        await service.act(case.id, TransitionIn("accept", case.version), leader)
        ids.append(case.id)
    await Case.update({Case.due_at: datetime.now(UTC) - timedelta(hours=1)}).where(
        Case.id.is_in(ids)
    )
    return ids


async def events_of(event_type: str) -> dict[int, int]:
    """How many events of this type each case has."""
    rows = await Event.select(Event.subject).where(Event.type == event_type)
    counts: dict[int, int] = {}
    for r in rows:
        case_id = int(r["subject"].removeprefix("case:"))
        counts[case_id] = counts.get(case_id, 0) + 1
    return counts


async def test_an_overdue_grid_case_goes_to_its_community_once(scratch_database, spot):
    [case_id] = await overdue_cases(1, spot)
    now = datetime.now(UTC)
    assert await escalate_overdue(now) == [case_id]
    row = await Case.select().where(Case.id == case_id).first()
    assert (row["owner_code"], row["status"], row["escalations"]) == (COMMUNITY, "accepted", 1)
    # The new clock to close runs in working time (the demo city's default calendar).
    due = due_time(now, CLOSE_NORMAL, WorkingCalendar())
    assert (row["version"], row["due_at"]) == (3, due)
    [event] = await Event.select().where(Event.type == "case.escalate")
    assert (event["subject"], event["scope"], event["actor"]) == (
        f"case:{case_id}",
        COMMUNITY,
        None,
    )
    payload = json.loads(event["payload"])
    assert (payload["from_owner_code"], payload["actor_role"]) == (DEMO_GRID_CODE, "system")
    assert await escalate_overdue(datetime.now(UTC)) == []
    assert await events_of("case.escalate") == {case_id: 1}


async def test_a_city_case_is_reported_overdue_once_per_due_time(scratch_database, spot):
    [case_id] = await overdue_cases(1, spot)
    await Case.update({Case.owner_code: CITY}).where(Case.id == case_id)
    for _ in range(2):
        assert await escalate_overdue(datetime.now(UTC)) == []
    assert await events_of(EventType.case_overdue) == {case_id: 1}
    row = await Case.select(Case.owner_code, Case.version).where(Case.id == case_id).first()
    assert row == {"owner_code": CITY, "version": 2}  # left where it is, unchanged
    # A new due time that passes too is a new overdue period.
    await Case.update({Case.due_at: datetime.now(UTC)}).where(Case.id == case_id)
    assert await escalate_overdue(datetime.now(UTC) + timedelta(seconds=1)) == []
    assert await events_of(EventType.case_overdue) == {case_id: 2}


async def test_a_case_claimed_from_a_stale_snapshot_is_left_alone(
    scratch_database, spot, monkeypatch
):
    """PostgreSQL may hand a runner a case that another runner handled while the claim ran:
    the read after the claim has to see that, and leave the case alone."""
    escalated, reported = await overdue_cases(2, spot)
    await Case.update({Case.owner_code: CITY}).where(Case.id == reported)
    assert await escalate_overdue(datetime.now(UTC)) == [escalated]

    async def stale(engine: object, now: datetime, batch: int) -> list[int]:
        return [escalated, reported]

    monkeypatch.setattr(scheduler, "_claim", stale)
    assert await escalate_overdue(datetime.now(UTC)) == []
    assert await events_of("case.escalate") == {escalated: 1}
    assert await events_of(EventType.case_overdue) == {reported: 1}


async def concurrent_setup(spot: tuple[float, float]) -> tuple[list[int], list[int]]:
    """20 overdue cases: 16 owned by the grid, 4 by the city (which only get reported)."""
    ids = await overdue_cases(20, spot)
    await Case.update({Case.owner_code: CITY}).where(Case.id.is_in(ids[16:]))
    return ids[:16], ids[16:]


async def assert_once(runs: list[list[int]], grid_ids: list[int], city_ids: list[int]) -> None:
    first, second = (set(r) for r in runs)
    assert first.isdisjoint(second)
    assert sorted(first | second) == grid_ids
    assert await events_of("case.escalate") == dict.fromkeys(grid_ids, 1)
    assert await events_of(EventType.case_overdue) == dict.fromkeys(city_ids, 1)
    rows = await Case.select(Case.owner_code, Case.version).where(Case.id.is_in(grid_ids))
    assert all(r == {"owner_code": COMMUNITY, "version": 3} for r in rows)


async def test_two_runners_at_once_escalate_each_case_once(scratch_database, spot):
    grid_ids, city_ids = await concurrent_setup(spot)
    await open_pool(scratch_database.engine)  # PostgreSQL: each runner on its own connection
    try:
        now = datetime.now(UTC)
        runs = await asyncio.gather(*(escalate_overdue(now, batch=5) for _ in range(2)))
    finally:
        await close_pool(scratch_database.engine)
    await assert_once(list(runs), grid_ids, city_ids)


async def run_in_process(url: str, now: datetime) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        RUNNER,
        url,
        now.isoformat(),
        cwd=REPO,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    assert await asyncio.wait_for(process.stdout.readline(), 60) == b"ready\n"
    return process


async def escalated_by(process: asyncio.subprocess.Process) -> list[int]:
    out, _ = await asyncio.wait_for(process.communicate(b"go\n"), 60)
    assert process.returncode == 0
    return json.loads(out)


async def test_two_scheduler_processes_on_one_database_escalate_each_case_once(
    scratch_database, spot
):
    grid_ids, city_ids = await concurrent_setup(spot)
    now = datetime.now(UTC)
    url = scratch_database.settings.database_url
    processes = [await run_in_process(url, now) for _ in range(2)]
    # Both are connected and waiting: told to go together, they race for the same cases.
    runs = await asyncio.gather(*(escalated_by(p) for p in processes))
    await assert_once(list(runs), grid_ids, city_ids)


async def test_the_app_escalates_overdue_cases_while_it_runs(scratch_database, spot):
    [case_id] = await overdue_cases(1, spot)
    settings = replace(scratch_database.settings, escalation_interval_s=0.05)
    async with AsyncTestClient(app=create_app(settings)) as client:
        # Through the API: the app's pool lives on the client's own event loop.
        signed_in = await client.post(
            "/api/auth/sign-in",
            json={"phone": DEMO_ACCOUNTS["resident"], "password": DEMO_PASSWORD},
        )
        headers = {"Authorization": f"Bearer {signed_in.json()['token']}"}
        for _ in range(100):
            case = (await client.get(f"/api/cases/{case_id}", headers=headers)).json()
            if case["owner_code"] == COMMUNITY:
                break
            await asyncio.sleep(0.05)
    assert case["owner_code"] == COMMUNITY
    assert await events_of("case.escalate") == {case_id: 1}


async def test_a_failing_run_is_logged_and_the_loop_goes_on(monkeypatch, caplog):
    runs: list[datetime] = []
    third_run = asyncio.Event()

    async def failing(now: datetime) -> list[int]:
        runs.append(now)
        if len(runs) == 3:
            third_run.set()
        raise RuntimeError("database away")

    monkeypatch.setattr(scheduler, "escalate_overdue", failing)
    with caplog.at_level(logging.ERROR, logger="wangge.scheduler"):
        async with Scheduler(0.01):
            await asyncio.wait_for(third_run.wait(), 5)
    assert "escalating overdue cases failed" in caplog.text


async def test_a_scheduler_with_no_interval_never_runs(monkeypatch):
    runs: list[datetime] = []

    async def record(now: datetime) -> list[int]:
        runs.append(now)
        return []

    monkeypatch.setattr(scheduler, "escalate_overdue", record)
    async with Scheduler(0):
        await asyncio.sleep(0.05)
    assert runs == []
