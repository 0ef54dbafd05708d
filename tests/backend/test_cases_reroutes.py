"""Cases that change hands, over HTTP on both databases: 移交 (transfer) to another grid,
refused then accepted by the target's managers, with the grid it was first placed in kept;
联办 (joint handling) by a second department beside the lead one; 并案 (merge) of a duplicate
into its main case, whose reporter then follows the main case and is told; and dispatch to a
department straight from a community where the city's setting allows it."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import anyio
import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.notify.plan import plan
from geo.demo import DEMO_GRID_CODE
from tests.backend.case_steps import Driver, add_department_officer, demo_spot, sign_in

GRID_B = "15030200100102"  # the next grid of the demo community
ZJ_PHONE = "13900000013"  # a 住建 officer of 海勃湾区
ROLES = ("resident", "grid_worker", "grid_leader", "community_staff", "street_staff")


@pytest.fixture
async def driver(scratch_database):
    await add_department_officer("cg")
    await add_department_officer("zj", phone=ZJ_PHONE)
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        sessions = {role: await sign_in(client, role) for role in (*ROLES, "department")}
        sessions["zj"] = await sign_in(client, "department", ZJ_PHONE)
        yield Driver(client, sessions)


async def payloads(driver: Driver, case_id: int, type_: str, role: str) -> list[dict[str, Any]]:
    r = await driver.client.get(
        f"/api/cases/{case_id}/events", headers=driver.sessions[role].headers
    )
    assert r.status_code == 200, r.text
    return [json.loads(e["payload"]) for e in r.json() if e["type"] == type_]


def refused(r: Any) -> tuple[int, str, str | None]:
    body = r.json()
    return r.status_code, body["code"], body.get("details", {}).get("field")


async def test_a_transfer_refused_then_accepted_keeps_the_grid_history(driver, demo_city):
    case_id = await driver.report(demo_spot(demo_city))
    await driver.drive(case_id, "accepted")
    act = driver.act

    r = await act("grid_worker", case_id, "transfer", reason="不归本网格", target_code=GRID_B)
    assert refused(r)[:2] == (403, "forbidden")
    assert refused(await act("grid_leader", case_id, "transfer", target_code=GRID_B)) == (
        422,
        "missing_field",
        "reason",
    )
    for bad in ("15030200100199", "abc", DEMO_GRID_CODE):  # no such grid, no code, its own
        r = await act("grid_leader", case_id, "transfer", reason="r", target_code=bad)
        assert refused(r) == (422, "invalid_value", "target_code"), bad

    r = await act("grid_leader", case_id, "transfer", reason="位于隔壁网格", target_code=GRID_B)
    assert r.status_code == 200, r.text
    case = r.json()
    assert (case["status"], case["owner_code"], case["transfer_to"]) == (
        "accepted",
        DEMO_GRID_CODE,
        GRID_B,
    )
    assert case["actions"] == []  # the sender waits for the answer
    # The sender's own grid answers nothing; the target's community does.
    r = await act("grid_leader", case_id, "accept_transfer")
    assert refused(r)[:2] == (403, "forbidden")
    seen = await driver.case(case_id, "community_staff")
    assert seen["actions"] == ["remind", "supervise", "accept_transfer", "refuse_transfer"]
    r = await act("community_staff", case_id, "refuse_transfer")
    assert refused(r) == (422, "missing_field", "reason")
    r = await act("community_staff", case_id, "refuse_transfer", reason="现场属于原网格")
    assert r.status_code == 200, r.text
    assert (r.json()["owner_code"], r.json()["transfer_to"]) == (DEMO_GRID_CODE, None)

    r = await act(
        "grid_leader", case_id, "transfer", reason="核实后位于隔壁网格", target_code=GRID_B
    )
    assert r.status_code == 200, r.text
    r = await act("community_staff", case_id, "accept_transfer", comment="已接收")
    assert r.status_code == 200, r.text
    case = r.json()
    assert (case["owner_code"], case["grid_code"], case["grid_history"]) == (
        GRID_B,
        GRID_B,
        [DEMO_GRID_CODE],
    )
    assert (case["status"], case["transfer_to"], case["assignee_id"]) == ("accepted", None, None)

    sent = await payloads(driver, case_id, "case.transfer", "community_staff")
    assert [(p["target_code"], p["reason"]) for p in sent] == [
        (GRID_B, "位于隔壁网格"),
        (GRID_B, "核实后位于隔壁网格"),
    ]
    [no] = await payloads(driver, case_id, "case.refuse_transfer", "community_staff")
    assert (no["target_code"], no["reason"]) == (GRID_B, "现场属于原网格")
    [yes] = await payloads(driver, case_id, "case.accept_transfer", "community_staff")
    assert (yes["from_owner_code"], yes["owner_code"], yes["grid_history"]) == (
        DEMO_GRID_CODE,
        GRID_B,
        [DEMO_GRID_CODE],
    )
    # The wrong grid no longer holds it; the reporter follows it wherever it went.
    r = await driver.client.get(
        f"/api/cases/{case_id}", headers=driver.sessions["grid_leader"].headers
    )
    assert r.status_code == 404
    assert (await driver.case(case_id, "resident"))["owner_code"] == GRID_B


async def test_a_second_department_joins_the_lead_one(driver, demo_city):
    case_id = await driver.report(demo_spot(demo_city))
    await driver.drive(case_id, "department")  # the street sent it to 城管 (cg)
    zj = driver.sessions["zj"].headers
    assert (await driver.client.get(f"/api/cases/{case_id}", headers=zj)).status_code == 404

    r = await driver.act("grid_leader", case_id, "add_department", department="zj")
    assert refused(r)[:2] == (403, "forbidden")  # the street's case, not the grid's
    r = await driver.act("street_staff", case_id, "add_department", department="cg")
    assert refused(r) == (422, "invalid_value", "department")  # the lead already
    r = await driver.act("street_staff", case_id, "add_department", department="nope")
    assert r.status_code == 422 and r.json()["code"] == "unknown_department"
    r = await driver.act(
        "street_staff", case_id, "add_department", department="zj", reason="涉及违建"
    )
    assert r.status_code == 200, r.text
    case = r.json()
    assert (case["department"], case["departments"], case["status"]) == ("cg", ["zj"], "dispatched")

    # 住建 reads the case, lists it, and answers for its part's time; the result is 城管's.
    seen = (await driver.client.get(f"/api/cases/{case_id}", headers=zj)).json()
    assert seen["actions"] == ["request_extension"]
    listed = (await driver.client.get("/api/case-list", headers=zj)).json()
    assert [c["id"] for c in listed["items"]] == [case_id]
    assert listed["numberMatched"] == 1  # by the joint handling only: counted once
    r = await driver.act("zj", case_id, "handle", result="已拆除")
    assert refused(r)[:2] == (403, "forbidden")
    r = await driver.act("zj", case_id, "request_extension", extension_hours=24, reason="需审批")
    assert r.status_code == 200, r.text
    r = await driver.act("department", case_id, "handle", result="联合执法已拆除")
    assert r.status_code == 200, r.text
    [joined] = await payloads(driver, case_id, "case.add_department", "street_staff")
    assert (joined["department"], joined["lead_department"], joined["reason"]) == (
        "zj",
        "cg",
        "涉及违建",
    )


async def test_a_duplicate_merged_into_its_main_case(driver, demo_city):
    spot = demo_spot(demo_city)
    main_id = await driver.report(spot, "grid_worker", kind="incident")
    duplicate = await driver.report(spot)  # the resident's, of the same broken lamp
    resident = driver.sessions["resident"].headers
    assert (await driver.client.get(f"/api/cases/{main_id}", headers=resident)).status_code == 404
    settings = driver.client.app.state.settings
    portal = driver.client.blocking_portal
    await anyio.to_thread.run_sync(portal.call, plan, settings)  # notices from here on

    assert refused(await driver.act("grid_leader", duplicate, "merge")) == (
        422,
        "missing_field",
        "main_case",
    )
    for bad in (duplicate, 999_999):  # itself, none
        r = await driver.act("grid_leader", duplicate, "merge", main_case=bad)
        assert refused(r) == (422, "invalid_value", "main_case"), bad
    r = await driver.act("resident", duplicate, "merge", main_case=main_id)
    assert refused(r)[:2] == (403, "forbidden")
    r = await driver.act("grid_leader", duplicate, "merge", main_case=main_id, reason="同一路灯")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["merged_into"], r.json()["actions"]) == (
        "merged",
        main_id,
        [],
    )
    main = await driver.case(main_id, "grid_leader")
    assert main["merged"] == [duplicate]
    [logged] = await payloads(driver, main_id, "case.merge", "grid_leader")
    assert (logged["merged_case"], logged["reason"]) == (duplicate, "同一路灯")

    # Its reporter follows the main case: reads it, lists it, is told of it and of its steps.
    assert (await driver.case(main_id, "resident"))["id"] == main_id
    listed = (await driver.client.get("/api/case-list", headers=resident)).json()
    assert main_id in [c["id"] for c in listed["items"]]
    # Their own cases and the main one they follow, each counted once.
    assert listed["numberMatched"] == len(listed["items"])
    assert (await driver.act("grid_leader", main_id, "accept")).status_code == 200
    await anyio.to_thread.run_sync(portal.call, plan, settings)
    notices = (await driver.client.get("/api/notices", headers=resident)).json()["items"]
    assert [(n["title"], n["url"]) for n in notices] == [
        ("您反映的问题已受理", f"/app/cases/{main_id}"),
        ("您反映的问题已并案办理", f"/app/cases/{main_id}"),
    ]


async def test_direct_dispatch_to_a_department_follows_the_citys_setting(
    driver, demo_city, scratch_database
):
    case_id = await driver.report(demo_spot(demo_city))
    await driver.drive(case_id, "accepted")
    r = await driver.act("grid_leader", case_id, "escalate", reason="需社区协调")
    assert r.status_code == 200, r.text
    # By default departments are the street's to call (today's rule).
    r = await driver.act("community_staff", case_id, "dispatch", department="cg")
    assert refused(r) == (422, "invalid_value", "department")

    settings = dataclasses.replace(
        scratch_database.settings, direct_dispatch_levels=("community", "street")
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        allowing = Driver(client, driver.sessions)
        r = await allowing.act("community_staff", case_id, "dispatch", department="cg")
        assert r.status_code == 200, r.text
        assert (r.json()["department"], r.json()["level"]) == ("cg", "community")
        # Not the grid: its cases still go up first.
        grid_case = await allowing.report(demo_spot(demo_city))
        await allowing.drive(grid_case, "accepted")
        r = await allowing.act("grid_leader", grid_case, "dispatch", department="cg")
        assert refused(r) == (422, "invalid_value", "department")
