"""The grid where a case happened, over HTTP on both databases: it keeps reading the case after
an escalation (without taking it over), and its staff verify on the spot (核查) with a photo
taken for it, whoever owns the case."""

from __future__ import annotations

import json

import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from tests.backend.case_steps import Driver, add_department_officer, demo_spot, sign_in

ROLES = ("resident", "grid_worker", "grid_leader", "community_staff", "street_staff")


@pytest.fixture
async def driver(scratch_database):
    await add_department_officer("cg")
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        sessions = {role: await sign_in(client, role) for role in (*ROLES, "department")}
        yield Driver(client, sessions)


async def listed(driver: Driver, role: str) -> list[int]:
    r = await driver.client.get("/api/case-list", headers=driver.sessions[role].headers)
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["items"]]


async def test_the_grid_keeps_reading_a_case_escalated_out_of_it(driver, demo_city):
    case_id = await driver.report(demo_spot(demo_city))
    await driver.drive(case_id, "department")
    for role in ("grid_leader", "grid_worker", "community_staff"):
        case = await driver.case(case_id, role)
        assert (case["level"], case["department"]) == ("street", "cg"), role
        assert case_id in await listed(driver, role), role
        r = await driver.client.get(
            f"/api/cases/{case_id}/events", headers=driver.sessions[role].headers
        )
        assert r.status_code == 200
    # Reading is not taking over: the street owns it.
    leader = await driver.case(case_id, "grid_leader")
    assert leader["actions"] == ["verify_on_site"]
    assert leader["contact_phone"] == "138****5678"
    r = await driver.act("grid_leader", case_id, "dispatch", department="zj")
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")


async def test_the_grid_verifies_on_the_spot_with_a_photo_whoever_owns_it(driver, demo_city):
    case_id = await driver.report(demo_spot(demo_city))
    await driver.drive(case_id, "department_handling")
    r = await driver.act("department", case_id, "handle", result="已清运")
    assert r.status_code == 200, r.text

    r = await driver.act("grid_worker", case_id, "verify_on_site", result="现场已清理")
    assert (r.status_code, r.json()["details"]["field"]) == (422, "photo")
    early = await driver.photo("grid_leader", case_id)
    photo = await driver.photo("grid_worker", case_id)
    r = await driver.act("grid_worker", case_id, "verify_on_site")
    assert (r.status_code, r.json()["details"]["field"]) == (422, "result")
    r = await driver.act("grid_worker", case_id, "verify_on_site", result="现场已清理")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["level"]) == ("handled", "street")
    # The department may not verify its own work on the spot.
    r = await driver.act("department", case_id, "verify_on_site", result="好了")
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")

    r = await driver.client.get(
        f"/api/cases/{case_id}/events", headers=driver.sessions["street_staff"].headers
    )
    [seen] = [json.loads(e["payload"]) for e in r.json() if e["type"] == "case.verify_on_site"]
    assert (seen["result"], seen["photo"]) == ("现场已清理", photo)
    assert seen["actor_id"] == driver.sessions["grid_worker"].person_id

    # A photo from before the last step was not taken for the next verification.
    assert early != photo
    r = await driver.act("grid_leader", case_id, "verify_on_site", result="复查")
    assert (r.status_code, r.json()["details"]["field"]) == (422, "photo")
    await driver.photo("grid_leader", case_id)
    r = await driver.act("grid_leader", case_id, "verify_on_site", result="复查")
    assert r.status_code == 200, r.text
    r = await driver.act("street_staff", case_id, "verify")
    assert (r.status_code, r.json()["status"]) == (200, "verified")
