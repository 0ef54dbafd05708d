"""The 12345 hotline desk through HTTP on both databases: who may enter calls, the case a
call makes (source hotline, the caller as its contact), the tracking code texted to the
caller, the call back whose rating counts in 满意率, and repeat callers."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime

import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.areas.tables import Area
from backend.people.tables import Person
from backend.sms.service import console_file
from geo.demo import DEMO_GRID_CODE
from tests.backend.case_steps import Driver, demo_password_hash, demo_spot, sign_in

CALLER = "13712345678"
ROLES = ("hotline_operator", "grid_leader", "grid_worker", "resident", "city_admin")


@pytest.fixture
async def desk(scratch_database):
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as api:
        yield Driver(api, {role: await sign_in(api, role) for role in ROLES})


def call_body(spot: tuple[float, float], **extra) -> dict:
    return {
        "client_id": str(uuid.uuid4()),
        "caller_phone": CALLER,
        "caller_name": "王女士",
        "category": "1501",
        "description": "团结小区3号楼前路灯不亮",
        "lon": spot[0],
        "lat": spot[1],
        "address": "团结小区3号楼",
        **extra,
    }


async def take_call(desk: Driver, body: dict) -> dict:
    r = await desk.client.post(
        "/api/hotline/calls", json=body, headers=desk.sessions["hotline_operator"].headers
    )
    assert r.status_code == 201, r.text
    return r.json()


def texts_to(settings, phone: str) -> list[dict]:
    path = console_file(settings)
    lines = path.read_text().splitlines() if path.exists() else []
    return [m for m in map(json.loads, lines) if m["phone"] == phone]


@pytest.mark.parametrize("role", ["grid_leader", "resident", "city_admin"])
async def test_only_operators_use_the_desk(desk, demo_city, role):
    headers = desk.sessions[role].headers
    body = call_body(demo_spot(demo_city))
    for method, url, kwargs in [
        ("post", "/api/hotline/calls", {"json": body}),
        ("get", "/api/hotline/callbacks", {}),
        ("post", "/api/hotline/callbacks/1", {"json": {"rating": 5}}),
        ("get", f"/api/hotline/callers/{CALLER}", {}),
    ]:
        r = await getattr(desk.client, method)(url, headers=headers, **kwargs)
        assert r.status_code == 403, (role, url, r.text)
        assert r.json()["code"] == "forbidden"
    r = await desk.client.post("/api/hotline/calls", json=body)
    assert r.status_code == 401


async def test_a_call_makes_a_hotline_case_and_texts_the_caller_its_code(
    desk, demo_city, scratch_database
):
    body = call_body(demo_spot(demo_city))
    call = await take_call(desk, body)
    assert call["sms_sent"] is True and call["sms_error"] is None
    [text] = texts_to(scratch_database.settings, CALLER)
    assert text["template"] == "tracking_code"
    assert text["params"] == {"code": call["tracking_code"]}
    assert call["tracking_code"] in text["text"]
    # The case: source hotline, nobody's report, the caller its contact, in the grid.
    case = await desk.case(call["case_id"], "grid_leader")
    assert (case["source"], case["reporter_id"], case["grid_code"]) == (
        "hotline",
        None,
        DEMO_GRID_CODE,
    )
    assert case["contact_phone"] == CALLER  # the grid leader calls the caller if need be
    seen_by_worker = await desk.case(call["case_id"], "grid_worker")
    assert seen_by_worker["contact_phone"] == "137****5678"
    # The caller follows it with the code.
    tracked = await desk.client.get(f"/api/anonymous/cases/{call['tracking_code']}")
    assert tracked.status_code == 200 and tracked.json()["id"] == call["case_id"]
    # Sent again (an answer lost on the way): the same case and code, no second message.
    again = await desk.client.post(
        "/api/hotline/calls", json=body, headers=desk.sessions["hotline_operator"].headers
    )
    assert again.status_code == 200
    assert (again.json()["case_id"], again.json()["tracking_code"]) == (
        call["case_id"],
        call["tracking_code"],
    )
    assert len(texts_to(scratch_database.settings, CALLER)) == 1


async def test_a_bad_call_is_a_4xx(desk, demo_city):
    headers = desk.sessions["hotline_operator"].headers
    spot = demo_spot(demo_city)
    for bad, status, code in [  # 422 and a code, as every bad body here
        ({"caller_phone": "call me"}, 422, "invalid_value"),
        ({"category": "nope"}, 422, "unknown_category"),
        ({"lon": 0.0, "lat": 0.0}, 422, "outside_all_grids"),
    ]:
        r = await desk.client.post(
            "/api/hotline/calls", json=call_body(spot, **bad), headers=headers
        )
        assert (r.status_code, r.json()["code"]) == (status, code), (bad, r.text)


async def satisfaction(desk: Driver) -> tuple[int, int]:
    """The demo grid's rated and satisfied closings this month, as the assessment counts."""
    r = await desk.client.get(
        "/api/assessment",
        params={"period": datetime.now().strftime("%Y-%m"), "level": "grid"},
        headers=desk.sessions["city_admin"].headers,
    )
    assert r.status_code == 200, r.text
    [unit] = [u for u in r.json()["units"] if u["code"] == DEMO_GRID_CODE]
    return unit["figures"]["rated"], unit["figures"]["satisfied"]


async def test_the_call_back_rates_the_case_and_counts_in_satisfaction(desk, demo_city):
    operator = desk.sessions["hotline_operator"].headers
    call = await take_call(desk, call_body(demo_spot(demo_city)))
    case_id = call["case_id"]
    assert case_id not in [c["case_id"] for c in await callbacks(desk)]  # not closed yet
    await desk.drive(case_id, "closed")
    [waiting] = [c for c in await callbacks(desk) if c["case_id"] == case_id]
    assert (waiting["caller_phone"], waiting["caller_name"], waiting["rating"]) == (
        CALLER,
        "王女士",
        None,
    )
    before = await satisfaction(desk)

    body = {"rating": 5, "comment": "修得很快"}
    r = await desk.client.post(f"/api/hotline/callbacks/{case_id}", json=body, headers=operator)
    assert r.status_code == 200, r.text
    assert (r.json()["rating"], r.json()["callback_comment"]) == (5, "修得很快")
    assert (await desk.case(case_id))["rating"] == 5
    timeline = await desk.client.get(
        f"/api/cases/{case_id}/events", headers=desk.sessions["city_admin"].headers
    )
    [rated] = [e for e in timeline.json() if e["type"] == "case.rate"]
    assert '"rating":5' in rated["payload"].replace(" ", "")
    assert await satisfaction(desk) == (before[0] + 1, before[1] + 1)
    assert case_id not in [c["case_id"] for c in await callbacks(desk)]
    # The same call back sent again is its answer; another rating is refused.
    again = await desk.client.post(f"/api/hotline/callbacks/{case_id}", json=body, headers=operator)
    assert again.status_code == 200
    other = await desk.client.post(
        f"/api/hotline/callbacks/{case_id}", json={"rating": 1}, headers=operator
    )
    assert (other.status_code, other.json()["code"]) == (409, "invalid_transition")
    assert await satisfaction(desk) == (before[0] + 1, before[1] + 1)


async def test_a_call_back_needs_a_closed_call_and_a_rating_of_1_to_5(desk, demo_city):
    operator = desk.sessions["hotline_operator"].headers
    call = await take_call(desk, call_body(demo_spot(demo_city)))
    url = f"/api/hotline/callbacks/{call['case_id']}"
    r = await desk.client.post(url, json={"rating": 5}, headers=operator)
    assert r.status_code == 409  # not closed: nothing to call back about
    r = await desk.client.post(url, json={"rating": 6}, headers=operator)
    assert (r.status_code, r.json()["code"]) == (422, "invalid_value")
    # A case that came in by the app is no call.
    app_case = await desk.report(demo_spot(demo_city))
    r = await desk.client.post(
        f"/api/hotline/callbacks/{app_case}", json={"rating": 5}, headers=operator
    )
    assert r.status_code == 404


async def callbacks(desk: Driver) -> list[dict]:
    r = await desk.client.get(
        "/api/hotline/callbacks", headers=desk.sessions["hotline_operator"].headers
    )
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_repeat_caller_shows_their_earlier_calls(desk, demo_city):
    operator = desk.sessions["hotline_operator"].headers
    spot = demo_spot(demo_city)
    first = await take_call(desk, call_body(spot, description="路灯不亮"))
    second = await take_call(desk, call_body(spot, description="路灯还是不亮"))
    await take_call(desk, call_body(spot, caller_phone="13612345678"))
    r = await desk.client.get(f"/api/hotline/callers/{CALLER}", headers=operator)
    assert r.status_code == 200, r.text
    history = r.json()
    assert history["calls"] == 2
    assert [c["case_id"] for c in history["history"]] == [second["case_id"], first["case_id"]]
    assert history["history"][1]["description"] == "路灯不亮"
    r = await desk.client.get("/api/hotline/callers/13500000000", headers=operator)
    assert (r.json()["calls"], r.json()["history"]) == (0, [])


async def add_operator(phone: str, area: str) -> None:
    """A hotline operator working for ``area``, before the app that signs them in starts."""
    area_id = (await Area.select(Area.id).where(Area.code == area).first())["id"]
    await Person.insert(
        Person(
            name="受理员",
            phone=phone,
            role="hotline_operator",
            area=area_id,
            password_hash=demo_password_hash(),
            active=True,
            created_at=datetime.now(UTC),
        )
    )


async def test_a_district_centre_calls_back_its_own_district_only(scratch_database, demo_city):
    other_district = "150303"  # 海南区; the demo grid lies in 海勃湾区
    await add_operator("13900000021", other_district)
    await add_operator("13900000022", DEMO_GRID_CODE[:9])  # a street has no 12345 centre
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as api:
        desk = Driver(api, {role: await sign_in(api, role) for role in ROLES})
        call = await take_call(desk, call_body(demo_spot(demo_city)))
        await desk.drive(call["case_id"], "closed")
        assert call["case_id"] in [c["case_id"] for c in await callbacks(desk)]
        elsewhere = (await sign_in(api, "hotline_operator", "13900000021")).headers
        r = await api.get("/api/hotline/callbacks", headers=elsewhere)
        assert r.status_code == 200 and r.json() == []
        r = await api.get(f"/api/hotline/callers/{CALLER}", headers=elsewhere)
        assert r.json()["calls"] == 0
        r = await api.post(
            f"/api/hotline/callbacks/{call['case_id']}", json={"rating": 1}, headers=elsewhere
        )
        assert r.status_code == 404
        street = (await sign_in(api, "hotline_operator", "13900000022")).headers
        r = await api.get("/api/hotline/callbacks", headers=street)
        assert (r.status_code, r.json()["code"]) == (403, "no_hotline_centre")


async def test_a_message_not_sent_leaves_the_call_entered(scratch_database, demo_city):
    # One message a day for this phone: the second call's code cannot be texted.
    settings = dataclasses.replace(scratch_database.settings, sms_daily_cap=1)
    async with AsyncTestClient(app=create_app(settings)) as api:
        desk = Driver(api, {"hotline_operator": await sign_in(api, "hotline_operator")})
        await take_call(desk, call_body(demo_spot(demo_city)))
        body = call_body(demo_spot(demo_city))
        second = await take_call(desk, body)
        assert (second["sms_sent"], second["sms_error"]) == (False, "sms_daily_cap")
        assert second["tracking_code"]  # read out to the caller instead
        case = await api.get(f"/api/anonymous/cases/{second['tracking_code']}")
        assert case.status_code == 200 and case.json()["id"] == second["case_id"]
    assert len(texts_to(settings, CALLER)) == 1
    # Sent again once the phone may be texted: the same call, and now its message.
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as api:
        operator = (await sign_in(api, "hotline_operator")).headers
        again = await api.post("/api/hotline/calls", json=body, headers=operator)
        assert again.status_code == 200
        assert (again.json()["case_id"], again.json()["sms_sent"]) == (second["case_id"], True)
    texts = texts_to(settings, CALLER)
    assert [t["params"]["code"] for t in texts[1:]] == [second["tracking_code"]]
