"""Moves of a case over HTTP, on both databases: 催办 (remind) by its reporter or a level above
its owner, which urges the owner on without moving the case or its clock; 督办 (supervise) by
a level above, with a due time of its own."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.core import clock
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


async def test_a_supervision_order_sets_its_own_due_time(driver, demo_city, monkeypatch):
    # A Monday morning of a working week.
    monday = datetime.fromisoformat("2026-12-07T09:00:00+08:00")
    monkeypatch.setattr(clock, "now", lambda: monday)
    case_id = await driver.report(demo_spot(demo_city))
    await driver.drive(case_id, "dispatched")
    due = (await driver.case(case_id, "grid_leader"))["due_at"]
    for role in ("grid_leader", "resident"):
        r = await driver.act(role, case_id, "supervise", reason="督办", due_hours=8)
        assert (r.status_code, r.json()["code"]) == (403, "forbidden"), role
    r = await driver.act("community_staff", case_id, "supervise", reason="群众反映强烈")
    assert (r.status_code, r.json()["details"]["field"]) == (422, "due_hours")
    r = await driver.act("community_staff", case_id, "supervise", reason="r", due_hours=-1)
    assert (r.status_code, r.json()["details"]["field"]) == (422, "due_hours")

    r = await driver.act(
        "community_staff", case_id, "supervise", reason="群众反映强烈", due_hours=8
    )
    assert r.status_code == 200, r.text
    case = r.json()
    ordered = datetime.fromisoformat(case["supervise_due_at"])
    # In the city's working time (8:30–12, 14:30–18): 6.5 hours on Monday, 1.5 on Tuesday.
    assert ordered == datetime.fromisoformat("2026-12-08T10:00:00+08:00")
    assert (case["status"], case["due_at"]) == ("dispatched", due)
    r = await driver.client.get(
        f"/api/cases/{case_id}/events", headers=driver.sessions["grid_leader"].headers
    )
    [order] = [json.loads(e["payload"]) for e in r.json() if e["type"] == "case.supervise"]
    assert (order["reason"], order["actor_role"]) == ("群众反映强烈", "community_staff")
    assert datetime.fromisoformat(order["supervise_due_at"]) == ordered
