"""Moves of a case over HTTP, on both databases: 催办 (remind) by its reporter or a level above
its owner, which urges the owner on without moving the case or its clock."""

from __future__ import annotations

import json

import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from tests.backend.case_steps import Driver, demo_spot, sign_in

ROLES = ("resident", "grid_worker", "grid_leader", "community_staff", "street_staff")


@pytest.fixture
async def driver(scratch_database):
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        yield Driver(client, {role: await sign_in(client, role) for role in ROLES})


async def test_a_reminder_urges_the_owner_and_moves_nothing(driver, demo_city):
    case_id = await driver.report(demo_spot(demo_city))
    await driver.drive(case_id, "dispatched")
    before = await driver.case(case_id, "grid_leader")
    for role in ("grid_leader", "grid_worker"):  # the owner and its handler urge nobody
        r = await driver.act(role, case_id, "remind", comment="快点")
        assert (r.status_code, r.json()["code"]) == (403, "forbidden"), role

    r = await driver.act("resident", case_id, "remind", comment="路灯还是不亮")
    assert r.status_code == 200, r.text
    r = await driver.act("street_staff", case_id, "remind", comment="请今天处理")
    assert r.status_code == 200, r.text
    after = await driver.case(case_id, "grid_leader")
    assert {k: after[k] for k in ("status", "assignee_id", "due_at", "level")} == {
        k: before[k] for k in ("status", "assignee_id", "due_at", "level")
    }
    r = await driver.client.get(
        f"/api/cases/{case_id}/events", headers=driver.sessions["grid_leader"].headers
    )
    reminders = [json.loads(e["payload"]) for e in r.json() if e["type"] == "case.remind"]
    assert [(p["comment"], p["actor_role"]) for p in reminders] == [
        ("路灯还是不亮", "resident"),
        ("请今天处理", "street_staff"),
    ]
