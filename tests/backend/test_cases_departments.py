"""Functional departments over HTTP: the seeded list, dispatch to them from the street up (and
only to ones that exist, and to people who may take the case), and their officers' work:
start, handle, and return (回退) what is not theirs."""

from __future__ import annotations

import json

import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from geo.demo import DEMO_ACCOUNTS
from tests.backend.case_steps import Driver, add_department_officer, demo_spot, sign_in

WUDA_PHONE = "13900000011"  # a 城管 officer of 乌达区: not the demo street's district
NOBODYS_PHONE = "13900000012"  # role department, but of no department


@pytest.fixture
async def driver(scratch_database):
    await add_department_officer("cg")
    await add_department_officer("cg", area="150304", phone=WUDA_PHONE)
    await add_department_officer(None, phone=NOBODYS_PHONE)
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        roles = ("resident", "grid_leader", "grid_worker", "community_staff", "street_staff")
        sessions = {role: await sign_in(client, role) for role in (*roles, "department")}
        sessions["wuda"] = await sign_in(client, "department", WUDA_PHONE)
        sessions["nobody"] = await sign_in(client, "department", NOBODYS_PHONE)
        yield Driver(client, sessions)


async def test_the_seeded_departments_are_listed_for_the_picker(driver):
    r = await driver.client.get("/api/departments")
    assert r.status_code == 200
    listed = {d["code"]: d["name"] for d in r.json()}
    assert {"cg": "城管", "zj": "住建", "scjg": "市场监管", "ga": "公安", "sw": "水务"}.items() <= (
        listed.items()
    )
    assert all(d["full_name"] for d in r.json())


async def test_a_department_takes_a_street_case_and_returns_it(driver, demo_city):
    case_id = await driver.report(demo_spot(demo_city))
    await driver.drive(case_id, "department")
    case = await driver.case(case_id, "street_staff")
    assert (case["status"], case["department"], case["assignee_id"]) == ("dispatched", "cg", None)
    officer = driver.sessions["department"].headers
    listed = await driver.client.get("/api/case-list", headers=officer)
    assert [c["id"] for c in listed.json()["items"]] == [case_id]
    seen = (await driver.client.get(f"/api/cases/{case_id}", headers=officer)).json()
    assert seen["actions"] == [
        "start",
        "handle",
        "request_return",
        "request_extension",
        "request_shelve",
        "pause",
    ]
    assert seen["contact_phone"] == "138****5678"  # not the named assignee

    for who in ("wuda", "nobody"):  # another district's 城管, and an officer of nothing
        r = await driver.act(who, case_id, "start")
        assert r.status_code in (403, 404), (who, r.text)
    r = await driver.client.get("/api/case-list", headers=driver.sessions["nobody"].headers)
    assert (r.status_code, r.json()["code"]) == (403, "no_department")

    r = await driver.act("department", case_id, "request_return")
    assert (r.status_code, r.json()["code"]) == (422, "missing_field")
    r = await driver.act("department", case_id, "request_return", reason="属于住建管辖")
    assert r.status_code == 200, r.text
    # The return waits for the street that dispatched it; the officer may not decide it.
    assert (r.json()["status"], r.json()["department"]) == ("dispatched", "cg")
    assert r.json()["pending"]["action"] == "request_return"
    r = await driver.act("department", case_id, "approve")
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    r = await driver.act("street_staff", case_id, "approve", comment="转住建")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["department"], r.json()["pending"]) == (
        "accepted",
        None,
        None,
    )
    # Back with the street, which may send it on to the right department.
    assert (await driver.client.get(f"/api/cases/{case_id}", headers=officer)).status_code == 404
    r = await driver.act("street_staff", case_id, "dispatch", department="zj")
    assert r.status_code == 200 and r.json()["department"] == "zj"
    events = await driver.client.get(
        f"/api/cases/{case_id}/events", headers=driver.sessions["street_staff"].headers
    )
    returned = next(e for e in events.json() if e["type"] == "case.approve")
    payload = json.loads(returned["payload"])
    assert (payload["request"], payload["from_department"]) == ("request_return", "cg")
    assert payload["request_reason"] == "属于住建管辖"


async def test_a_named_officer_and_their_department(driver, demo_city):
    case_id = await driver.report(demo_spot(demo_city))
    await driver.drive(case_id, "department")
    officer_id = driver.sessions["department"].person_id
    r = await driver.act("street_staff", case_id, "dispatch", department="zj", assignee=officer_id)
    assert (r.status_code, r.json()["code"]) == (422, "invalid_assignee")  # cg's, not zj's
    r = await driver.act("street_staff", case_id, "dispatch", department="cg", assignee=officer_id)
    assert r.status_code == 200, r.text
    r = await driver.act("department", case_id, "handle", result="已拆除违建")
    assert (r.status_code, r.json()["status"]) == (200, "handled")


# (the status the case is in, the dispatch's body) → the refusal's code
BAD_DISPATCHES = {
    ("department", (("department", "fgw"),)): "unknown_department",
    ("department", (("assignee", "@resident"),)): "invalid_assignee",
    ("department", (("assignee", 99_999_999),)): "unknown_person",
    ("accepted", (("department", "cg"),)): "invalid_value",  # a grid escalates first
    ("accepted", (("assignee", "@department"),)): "invalid_assignee",  # through cg only
}


async def test_a_dispatch_to_nobody_who_may_take_it_writes_nothing(driver, demo_city):
    cases = {}
    for status in ("department", "accepted"):
        cases[status] = await driver.report(demo_spot(demo_city))
        await driver.drive(cases[status], status)
    before = {s: await driver.case(c, "street_staff") for s, c in cases.items()}
    answers = {}
    for status, body in BAD_DISPATCHES:
        who = "street_staff" if status == "department" else "grid_leader"
        r = await driver.act(who, cases[status], "dispatch", **dict(body))
        answers[status, body] = r.json()["code"] if r.status_code == 422 else r.text
    assert answers == BAD_DISPATCHES
    assert {s: await driver.case(c, "street_staff") for s, c in cases.items()} == before


async def test_a_street_dispatches_a_grid_case_to_a_worker_of_the_grid(driver, demo_city):
    case_id = await driver.report(demo_spot(demo_city))
    await driver.drive(case_id, "accepted")
    r = await driver.act("street_staff", case_id, "dispatch", assignee="@grid_worker")
    assert r.status_code == 200, r.text


async def test_a_dispatch_naming_nobody_goes_to_the_post_of_the_category(driver, demo_city):
    police = await sign_in(driver.client, "grid_police")
    spot = demo_spot(demo_city)
    suspicious = await driver.report(spot, category="1301", description="可疑人员徘徊")  # 治安
    lamp = await driver.report(spot)  # 路灯不亮: the full-time worker's
    for case_id in (suspicious, lamp):
        await driver.drive(case_id, "accepted")
        r = await driver.act("grid_leader", case_id, "dispatch")
        assert r.status_code == 200, r.text
    assert (await driver.case(suspicious, "grid_leader"))["assignee_id"] == police.person_id
    worker = driver.sessions["grid_worker"].person_id
    assert (await driver.case(lamp, "grid_leader"))["assignee_id"] == worker
    # Above the grid there is no post to fall back on: someone must be named.
    up = await driver.report(spot)
    await driver.drive(up, "accepted")
    assert (await driver.act("grid_leader", up, "escalate")).status_code == 200
    r = await driver.act("community_staff", up, "dispatch")
    assert (r.status_code, r.json()["code"]) == (422, "missing_field")


async def test_the_demo_citys_own_department_officer_takes_what_is_sent_to_chengguan(
    driver, demo_city
):
    case_id = await driver.report(demo_spot(demo_city))
    await driver.drive(case_id, "department")
    officer = await sign_in(driver.client, "department", DEMO_ACCOUNTS["department"])
    listed = await driver.client.get("/api/case-list", headers=officer.headers)
    assert case_id in [c["id"] for c in listed.json()["items"]]
    version = await driver.version(case_id)
    r = await driver.client.post(
        f"/api/cases/{case_id}/transitions",
        json={"action": "start", "version": version},
        headers=officer.headers,
    )
    assert (r.status_code, r.json()["status"]) == (200, "handling"), r.text
