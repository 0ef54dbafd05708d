"""The clock of a case over HTTP, on both databases: 挂起 (pause) asked with a reason, approved
by the owner's manager, stops the clock (not overdue while paused, not escalated by the
overdue scheduler) and resume moves the due time later by the paused working time; and 撤件,
the reporter's withdrawal, until the case is closed."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import anyio
import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.cases.scheduler import escalate_overdue
from backend.core import clock
from backend.core.worktime import WorkingCalendar
from tests.backend.case_steps import Driver, demo_spot, sign_in

ROLES = ("resident", "grid_worker", "grid_leader", "community_staff")


@pytest.fixture
async def driver(scratch_database):
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        yield Driver(client, {role: await sign_in(client, role) for role in ROLES})


class Clock:
    def __init__(self, at: str) -> None:
        self.at = datetime.fromisoformat(at)

    def __call__(self) -> datetime:
        return self.at


async def events(driver: Driver, case_id: int, type_: str) -> list[dict[str, Any]]:
    r = await driver.client.get(
        f"/api/cases/{case_id}/events", headers=driver.sessions["grid_leader"].headers
    )
    return [json.loads(e["payload"]) for e in r.json() if e["type"] == type_]


async def overdue_ids(driver: Driver) -> list[int]:
    r = await driver.client.get(
        "/api/case-list?overdue=true", headers=driver.sessions["grid_leader"].headers
    )
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["items"]]


async def test_a_pause_stops_the_clock_until_resumed(driver, demo_city, monkeypatch):
    now = Clock("2026-12-07T09:00:00+08:00")  # a Monday of a working week
    monkeypatch.setattr(clock, "now", now)
    case_id = await driver.report(demo_spot(demo_city), priority="high")
    await driver.drive(case_id, "handling")
    due = datetime.fromisoformat((await driver.case(case_id, "grid_leader"))["due_at"])

    r = await driver.act("grid_worker", case_id, "pause")
    assert (r.status_code, r.json()["details"]["field"]) == (422, "reason")
    r = await driver.act("grid_worker", case_id, "pause", reason="等待配件到货")
    assert r.status_code == 200, r.text
    assert r.json()["pending"]["action"] == "pause"
    assert r.json()["paused_at"] is None  # not before it is approved
    r = await driver.act("grid_worker", case_id, "approve")
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")  # not by the asker
    now.at = datetime.fromisoformat("2026-12-07T10:00:00+08:00")
    r = await driver.act("grid_leader", case_id, "approve", comment="同意挂起")
    assert r.status_code == 200, r.text
    case = r.json()
    assert (case["status"], case["pending"], case["due_at"]) == ("handling", None, due.isoformat())
    assert datetime.fromisoformat(case["paused_at"]) == now.at
    assert case["actions"] == ["resume"]
    r = await driver.act("grid_worker", case_id, "handle", result="已修复")
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")

    # A day past the old due time: paused, it is neither overdue nor escalated.
    now.at = due + timedelta(days=1)
    assert case_id not in await overdue_ids(driver)
    r = await driver.client.get(
        "/api/case-list?overdue=false", headers=driver.sessions["grid_leader"].headers
    )
    assert case_id in [c["id"] for c in r.json()["items"]]
    portal = driver.client.blocking_portal
    assert await anyio.to_thread.run_sync(portal.call, escalate_overdue, now.at) == []
    assert (await driver.case(case_id, "grid_leader"))["level"] == "grid"

    r = await driver.act("grid_worker", case_id, "resume")
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    r = await driver.act("grid_leader", case_id, "resume", reason="配件已到")
    assert r.status_code == 200, r.text
    case = r.json()
    # The due time moves by the working time it stood still (the city's working hours).
    calendar = WorkingCalendar()
    paused = calendar.between(datetime.fromisoformat("2026-12-07T10:00:00+08:00"), now.at)
    assert datetime.fromisoformat(case["due_at"]) == calendar.add(due, paused)
    assert datetime.fromisoformat(case["due_at"]) > now.at
    assert (case["paused_at"], case["status"]) == (None, "handling")
    assert case_id not in await overdue_ids(driver)
    [resumed] = await events(driver, case_id, "case.resume")
    assert (resumed["paused_seconds"], resumed["reason"]) == (paused.total_seconds(), "配件已到")
    [asked] = await events(driver, case_id, "case.pause")
    assert (asked["reason"], asked["actor_role"]) == ("等待配件到货", "grid_worker")
    [approved] = await events(driver, case_id, "case.approve")
    assert (approved["request"], approved["comment"]) == ("pause", "同意挂起")
    assert (await driver.act("grid_worker", case_id, "handle", result="已修复")).status_code == 200


async def test_the_reporter_withdraws_until_closure(driver, demo_city):
    case_id = await driver.report(demo_spot(demo_city))
    await driver.drive(case_id, "handling")
    r = await driver.act("grid_worker", case_id, "withdraw", reason="r")
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    r = await driver.act("resident", case_id, "withdraw", reason="已自行解决")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["actions"]) == ("withdrawn", [])
    [withdrawn] = await events(driver, case_id, "case.withdraw")
    assert (withdrawn["from"], withdrawn["reason"]) == ("handling", "已自行解决")

    closed = await driver.report(demo_spot(demo_city))
    await driver.drive(closed, "closed")
    r = await driver.act("resident", closed, "withdraw", reason="r")
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")
