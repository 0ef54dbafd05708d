"""Anonymous requests: submitted without signing in, followed and rated with a tracking code
that opens that one case and tells nothing about anybody else."""

from __future__ import annotations

import asyncio
import re
import uuid

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.cases import anonymous, tracking
from backend.cases.anonymous import AnonymousCaseIn
from backend.cases.tables import Case
from backend.core.db import close_pool, open_pool
from backend.events.tables import Event
from backend.grids.locator import load_grid_index
from geo.demo import DEMO_GRID_CODE
from tests.backend.case_steps import Driver, demo_spot, report_body, sign_in

URL = "/api/anonymous/cases"
CODE = re.compile(r"^[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}$")


@pytest.fixture
async def api(scratch_database):
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        yield client


@pytest.fixture
async def driver(api) -> Driver:
    roles = ("resident", "grid_leader", "grid_worker", "community_staff")
    return Driver(api, {role: await sign_in(api, role) for role in roles})


def anonymous_body(spot: tuple[float, float], **extra) -> dict:
    body = report_body(spot, **extra)
    del body["kind"]
    return body


async def test_a_request_without_signing_in_gets_a_code_and_a_retry_the_same(
    demo_city, scratch_database
):
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as api:
        case, code = await a_request_and_its_retry(api, demo_city)
    # The app's pool is closed: the tables can be read directly.
    [row] = await Case.select(Case.tracking_key, Case.reporter).where(Case.id == case["id"])
    plain = code.replace("-", "")
    assert row["reporter"] is None and plain not in row["tracking_key"]
    assert row["tracking_key"] == tracking.key_of(scratch_database.settings.secret_key, plain)
    [event] = await Event.select(Event.actor, Event.payload).where(
        Event.subject == f"case:{case['id']}"
    )
    assert event["actor"] is None and '"actor_role":"anonymous"' in event["payload"]


async def a_request_and_its_retry(api, demo_city) -> tuple[dict, str]:
    body = anonymous_body(demo_spot(demo_city), description="路灯不亮, 电话13812345678")
    first = await api.post(URL, json=body)
    assert first.status_code == 201, first.text
    code = first.json()["tracking_code"]
    assert CODE.match(code)
    case = first.json()["case"]
    assert (case["status"], case["level"], case["actions"]) == ("submitted", "grid", ["withdraw"])
    assert case["contact_phone"] == "138****5678"
    assert case["description"] == "路灯不亮, 电话138****5678"
    assert [e["action"] for e in case["timeline"]] == ["submit"]
    again = await api.post(URL, json=body)
    assert again.status_code == 200
    assert again.json()["tracking_code"] == code and again.json()["case"]["id"] == case["id"]
    # Staff see the case, with the phone they need, and no reporter.
    leader = await sign_in(api, "grid_leader")
    seen = (await api.get(f"/api/cases/{case['id']}", headers=leader.headers)).json()
    assert (seen["reporter_id"], seen["contact_phone"]) == (None, "13812345678")
    assert seen["grid_code"] == DEMO_GRID_CODE
    # It came in by its own door, and lists by it.
    assert (seen["source"], seen["source_system"]) == ("anonymous", None)
    ids = {
        source: [
            c["id"]
            for c in (
                await api.get("/api/case-list", params={"source": source}, headers=leader.headers)
            ).json()["items"]
        ]
        for source in ("anonymous", "app")
    }
    assert case["id"] in ids["anonymous"] and case["id"] not in ids["app"]
    wrong = await api.get("/api/case-list", params={"source": "fax"}, headers=leader.headers)
    assert (wrong.status_code, wrong.json()["code"]) == (422, "unknown_source")
    # ... but not the phone's client id: replaying the one they see gives them no code.
    assert seen["client_id"] != body["client_id"]
    replay = await api.post(URL, json={**body, "client_id": seen["client_id"]})
    assert replay.status_code == 201 and replay.json()["tracking_code"] != code
    return case, code


async def test_the_code_opens_its_case_with_a_public_timeline(api, driver, demo_city):
    created = (await api.post(URL, json=anonymous_body(demo_spot(demo_city)))).json()
    code, case_id = created["tracking_code"], created["case"]["id"]
    await driver.drive(case_id, "dispatched")
    r = await driver.act("grid_worker", case_id, "handle", result="已修复, 有事打13900001111")
    assert r.status_code == 200, r.text
    # Typed by hand: any case, with or without the dash.
    seen = await api.get(f"{URL}/{code.replace('-', '').lower()}")
    assert seen.status_code == 200, seen.text
    case = seen.json()
    assert case["status"] == "handled" and case["owner_name"]
    assert case["category_name"] == "路灯不亮"
    timeline = case["timeline"]
    assert [e["action"] for e in timeline] == ["submit", "accept", "dispatch", "handle"]
    assert timeline[-1]["note"] == "已修复, 有事打139****1111"
    for leak in ("actor", "assignee", "reporter", "13900001111", "client_id"):
        assert leak not in seen.text, leak


async def test_an_unknown_or_malformed_code_is_a_plain_404(api, demo_city):
    await api.post(URL, json=anonymous_body(demo_spot(demo_city)))
    for code in ["ABCDE-FGHJK", "ABCDE-FGHJ0", "x", "a" * 32]:
        for r in (
            await api.get(f"{URL}/{code}"),
            await api.post(f"{URL}/{code}/transitions", json={"action": "withdraw", "version": 1}),
        ):
            assert (r.status_code, r.json()["code"]) == (404, "not_found"), code
            assert code not in r.text


async def test_the_holder_rates_and_reopens_after_closure_and_does_nothing_else(
    api, driver, demo_city
):
    created = (await api.post(URL, json=anonymous_body(demo_spot(demo_city)))).json()
    code, case_id = created["tracking_code"], created["case"]["id"]

    async def by_code(**body):
        version = (await api.get(f"{URL}/{code}")).json()["version"]
        return await api.post(f"{URL}/{code}/transitions", json={"version": version, **body})

    r = await by_code(action="accept")
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    r = await by_code(action="rate", rating=5)
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")
    await driver.drive(case_id, "closed")
    assert (await api.get(f"{URL}/{code}")).json()["actions"] == ["rate", "reopen"]
    r = await by_code(action="rate", rating=9)
    assert (r.status_code, r.json()["code"]) == (422, "invalid_value")
    r = await by_code(action="rate", rating=4, comment="修得快")
    assert r.status_code == 200, r.text
    assert (r.json()["rating"], r.json()["timeline"][-1]["note"]) == (4, "修得快")
    r = await by_code(action="rate", rating=5)
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")
    r = await by_code(action="reopen", reason="又不亮了")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted"
    staff_view = await driver.case(case_id, "community_staff")
    assert (staff_view["status"], staff_view["rating"]) == ("accepted", None)


async def test_the_holder_withdraws_before_acceptance(api, demo_city):
    created = (await api.post(URL, json=anonymous_body(demo_spot(demo_city)))).json()
    code = created["tracking_code"]
    r = await api.post(f"{URL}/{code}/transitions", json={"action": "withdraw", "version": 1})
    assert (r.status_code, r.json()["status"], r.json()["actions"]) == (200, "withdrawn", [])


async def test_a_signed_in_residents_case_has_no_code_to_open_it(api, driver, demo_city):
    case_id = await driver.report(demo_spot(demo_city))
    staff = await driver.case(case_id, "community_staff")
    assert staff["reporter_id"] == driver.sessions["resident"].person_id
    r = await api.post(f"{URL}/ABCDE-FGHJK/transitions", json={"action": "withdraw", "version": 1})
    assert r.status_code == 404


async def test_bad_anonymous_requests_write_nothing(api, driver, demo_city):
    changes = {
        "an incident": ({"kind": "incident"}, 422, "invalid_value"),  # requests only
        "an unknown category": ({"category": "9999"}, 422, "unknown_category"),
        "in Beijing": ({"lon": 116.39, "lat": 39.91}, 422, "outside_all_grids"),
        "too long": ({"description": "x" * 2001}, 422, "invalid_value"),
        "naming a reporter": ({"reporter": 1}, 422, "unknown_field"),
    }
    answers = {}
    for name, (change, _, _) in changes.items():
        r = await api.post(URL, json={**anonymous_body(demo_spot(demo_city)), **change})
        answers[name] = (r.status_code, r.json()["code"])
    assert answers == {name: (status, code) for name, (_, status, code) in changes.items()}
    r = await api.get("/api/case-list", headers=driver.sessions["community_staff"].headers)
    assert r.json()["numberMatched"] == 0


async def test_the_same_send_three_times_at_once_makes_one_case(scratch_database, demo_city):
    # Through the service, each call on a connection of its own: the test client would
    # serialise HTTP requests, and no race would be run.
    body = msgspec.convert(anonymous_body(demo_spot(demo_city)), AnonymousCaseIn)
    secret = scratch_database.settings.secret_key
    index = await load_grid_index()
    await open_pool(scratch_database.engine)
    try:
        results = await asyncio.gather(*(anonymous.create(body, index, secret) for _ in range(3)))
    finally:
        await close_pool(scratch_database.engine)
    assert sorted(created for _, created in results) == [False, False, True]
    assert len({(t.tracking_code, t.case.id) for t, _ in results}) == 1
    assert await Case.count() == 1


async def test_anonymous_creates_are_limited_per_address(database, demo_city):
    async with AsyncTestClient(app=create_app(database.settings)) as client:
        # Invalid bodies write nothing to the shared database, and still count.
        bad = {**anonymous_body(demo_spot(demo_city)), "category": "9999"}
        codes = [(await client.post(URL, json=bad)).status_code for _ in range(21)]
        assert codes[:20] == [422] * 20 and codes[20] == 429
        # Reading by code has its own, larger allowance.
        assert (await client.get(f"{URL}/ABCDE-FGHJK")).status_code == 404


async def test_codes_are_spread_over_the_alphabet():
    secret = "s" * 40
    codes = [tracking.code_for(secret, uuid.uuid4()) for _ in range(2000)]
    assert len(set(codes)) == len(codes)
    counts = {c: sum(code.count(c) for code in codes) for c in tracking.ALPHABET}
    expected = 2000 * tracking.LENGTH / len(tracking.ALPHABET)
    assert all(0.8 * expected < n < 1.2 * expected for n in counts.values())
