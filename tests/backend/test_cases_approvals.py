"""Approvals over HTTP, on both databases: 回退 and 挂账 asked by the handler and decided by the
owner's managers, 作废 asked and decided by a level above the one that accepted the case; each
a request and an answer in the log, with reasons; the requests an approver has to decide; and a
void that does not erase the lateness of an overdue case in the assessment."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.core import clock
from geo.demo import DEMO_GRID_CODE
from tests.backend.case_steps import REVIEW, Driver, demo_spot, sign_in

CITY_TIME = ZoneInfo("Asia/Shanghai")  # the assessment's months are the city's
ROLES = ("resident", "grid_worker", "grid_leader", "community_staff", "city_admin")


@pytest.fixture
async def driver(scratch_database):
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        yield Driver(client, {role: await sign_in(client, role) for role in ROLES})


async def payloads(driver: Driver, case_id: int, type_: str) -> list[dict[str, Any]]:
    r = await driver.client.get(
        f"/api/cases/{case_id}/events", headers=driver.sessions["grid_leader"].headers
    )
    return [json.loads(e["payload"]) for e in r.json() if e["type"] == type_]


async def pending_ids(driver: Driver, role: str) -> list[int]:
    r = await driver.client.get(
        "/api/cases/pending-requests", headers=driver.sessions[role].headers
    )
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()]


async def test_a_return_asked_by_the_worker_waits_for_the_leader(driver, demo_city):
    case_id = await driver.report(demo_spot(demo_city))
    await driver.drive(case_id, "handling")
    worker_id = driver.sessions["grid_worker"].person_id

    r = await driver.act("grid_worker", case_id, "request_return")
    assert (r.status_code, r.json()["code"], r.json()["details"]["field"]) == (
        422,
        "missing_field",
        "reason",
    )
    r = await driver.act("grid_worker", case_id, "request_return", reason="不属于本网格")
    assert r.status_code == 200, r.text
    case = r.json()
    assert (case["status"], case["assignee_id"]) == ("handling", worker_id)
    assert case["pending"] == {
        "action": "request_return",
        "by": worker_id,
        "reason": "不属于本网格",
        "review_date": None,
    }
    assert "approve" not in case["actions"] and "request_shelve" not in case["actions"]
    r = await driver.act("grid_worker", case_id, "request_shelve", reason="r", review_date=REVIEW)
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")

    assert case_id in await pending_ids(driver, "grid_leader")
    assert case_id in await pending_ids(driver, "community_staff")
    for role in ("grid_worker", "resident"):
        assert case_id not in await pending_ids(driver, role)
        r = await driver.act(role, case_id, "approve")
        assert (r.status_code, r.json()["code"]) == (403, "forbidden"), role

    r = await driver.act("grid_leader", case_id, "approve", comment="改派他人")
    assert r.status_code == 200, r.text
    case = r.json()
    assert (case["status"], case["assignee_id"], case["pending"]) == ("accepted", None, None)
    assert case_id not in await pending_ids(driver, "grid_leader")
    [asked] = await payloads(driver, case_id, "case.request_return")
    assert (asked["reason"], asked["actor_id"]) == ("不属于本网格", worker_id)
    [approved] = await payloads(driver, case_id, "case.approve")
    assert approved["request"] == "request_return" and approved["requested_by"] == worker_id
    assert (approved["request_reason"], approved["comment"]) == ("不属于本网格", "改派他人")
    assert approved["from_assignee"] == worker_id


async def test_a_shelving_refused_then_asked_again_and_approved(driver, demo_city):
    case_id = await driver.report(demo_spot(demo_city))
    await driver.drive(case_id, "handling")
    r = await driver.act(
        "grid_worker", case_id, "request_shelve", reason="需立项改造", review_date=REVIEW
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["pending"]["review_date"]) == ("handling", REVIEW)

    r = await driver.act("grid_leader", case_id, "refuse")
    assert (r.status_code, r.json()["details"]["field"]) == (422, "reason")
    r = await driver.act("grid_leader", case_id, "refuse", reason="可以当场修复")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["pending"]) == ("handling", None)
    r = await driver.act("grid_leader", case_id, "refuse", reason="again")
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")
    [refused] = await payloads(driver, case_id, "case.refuse")
    assert (refused["request"], refused["reason"]) == ("request_shelve", "可以当场修复")
    assert refused["request_reason"] == "需立项改造"

    await driver.act("grid_worker", case_id, "request_shelve", reason="缺材料", review_date=REVIEW)
    r = await driver.act("community_staff", case_id, "approve")
    assert r.status_code == 200, r.text
    case = r.json()
    assert (case["status"], case["assignee_id"]) == ("shelved", None)
    assert "unshelve" in (await driver.case(case_id, "grid_leader"))["actions"]


async def test_a_void_is_decided_above_the_level_that_accepted_it(driver, demo_city):
    case_id = await driver.report(demo_spot(demo_city))
    await driver.drive(case_id, "accepted")
    r = await driver.act("grid_worker", case_id, "request_void", reason="重复上报")
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    r = await driver.act("grid_leader", case_id, "request_void", reason="重复上报")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted"

    # The grid accepted it: neither its leader (who asked, and is of the grid) decides.
    assert case_id not in await pending_ids(driver, "grid_leader")
    assert case_id in await pending_ids(driver, "community_staff")
    for role in ("grid_leader", "grid_worker", "resident"):
        r = await driver.act(role, case_id, "approve")
        assert (r.status_code, r.json()["code"]) == (403, "forbidden"), role
    r = await driver.act("community_staff", case_id, "approve")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["actions"]) == ("voided", [])
    [approved] = await payloads(driver, case_id, "case.approve")
    assert (approved["request"], approved["to"]) == ("request_void", "voided")
    assert (await driver.case(case_id, "resident"))["status"] == "voided"


async def grid_due(driver: Driver, period: str) -> tuple[int, int]:
    r = await driver.client.get(
        "/api/assessment",
        params={"period": period, "level": "grid"},
        headers=driver.sessions["city_admin"].headers,
    )
    assert r.status_code == 200, r.text
    unit = next((u for u in r.json()["units"] if u["code"] == DEMO_GRID_CODE), None)
    return (0, 0) if unit is None else (unit["figures"]["due"], unit["figures"]["overdue"])


async def test_a_case_voided_after_its_due_time_still_counts_as_overdue(
    driver, demo_city, monkeypatch
):
    def at(moment: datetime) -> None:
        monkeypatch.setattr(clock, "now", lambda: moment)

    # Filed a month ago, so that both fall due before the assessment's own now.
    at(datetime.now(UTC) - timedelta(days=30))
    spot = demo_spot(demo_city)
    late, early = await driver.report(spot), await driver.report(spot)
    for case_id in (late, early):
        await driver.drive(case_id, "accepted")
    due = datetime.fromisoformat((await driver.case(late))["due_at"])
    assert datetime.fromisoformat((await driver.case(early))["due_at"]) == due
    assert due < datetime.now(UTC) - timedelta(days=1)
    period = due.astimezone(CITY_TIME).strftime("%Y-%m")
    # Both past due and still open: both count as due and overdue (asked today: the
    # assessment's now is the clock's too).
    at(datetime.now(UTC))
    due_count, overdue = await grid_due(driver, period)
    assert due_count >= 2 and overdue >= 2

    async def void(case_id: int) -> None:
        for role, action in (("grid_leader", "request_void"), ("community_staff", "approve")):
            r = await driver.act(role, case_id, action, reason="重复上报")
            assert r.status_code == 200, r.text

    at(due - timedelta(hours=1))
    await void(early)  # before its due time: it never fell due
    at(due + timedelta(hours=1))
    await void(late)  # late: it fell due, and late, where it fell due
    at(datetime.now(UTC))
    assert await grid_due(driver, period) == (due_count - 1, overdue - 1)
