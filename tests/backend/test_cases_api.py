"""Cases over HTTP: submit (idempotent, routed), read, and the workflow end to end."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import shapely
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.demo import DEMO_PASSWORD
from geo.crs import from_wgs84
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE


@pytest.fixture
async def api(scratch_database):
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        yield client


async def session(client, role: str) -> tuple[dict[str, str], int]:
    r = await client.post(
        "/api/auth/sign-in", json={"phone": DEMO_ACCOUNTS[role], "password": DEMO_PASSWORD}
    )
    body = r.json()
    return {"Authorization": f"Bearer {body['token']}"}, body["person"]["id"]


@pytest.fixture
def spot(demo_city) -> tuple[float, float]:
    grid = demo_city.grids.set_index("code").loc[DEMO_GRID_CODE].geometry
    p = shapely.point_on_surface(grid)
    return p.x, p.y


def request_body(lon: float, lat: float, **extra) -> dict:
    return {
        "client_id": str(uuid.uuid4()),
        "kind": "request",
        "category": "1501",
        "description": "3号楼前路灯不亮",
        "lon": lon,
        "lat": lat,
        "contact_phone": "13812345678",
        **extra,
    }


async def test_a_request_is_routed_to_its_grid_and_a_retry_makes_no_second_case(api, spot):
    headers, resident = await session(api, "resident")
    body = request_body(*spot)
    first = await api.post("/api/cases", json=body, headers=headers)
    assert first.status_code == 201, first.text
    case = first.json()
    assert (case["grid_code"], case["owner_code"], case["status"]) == (
        DEMO_GRID_CODE,
        DEMO_GRID_CODE,
        "submitted",
    )
    assert case["reporter_id"] == resident and case["due_at"]
    again = await api.post("/api/cases", json=body, headers=headers)
    assert again.status_code == 200 and again.json()["id"] == case["id"]
    timeline = (await api.get(f"/api/cases/{case['id']}/events", headers=headers)).json()
    assert [e["type"] for e in timeline] == ["case.submit"]


async def test_a_phone_map_point_in_gcj02_reaches_the_same_grid(api, spot):
    headers, _ = await session(api, "resident")
    x, y = from_wgs84(*spot, "gcj02")
    r = await api.post("/api/cases", json=request_body(x, y, crs="gcj02"), headers=headers)
    assert r.json()["grid_code"] == DEMO_GRID_CODE


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"lon": 116.39, "lat": 39.91}, 422, "outside_all_grids"),
        ({"category": "9999"}, 422, "unknown_category"),
        ({"lat": 95}, 422, "invalid_coordinate"),
        ({"crs": "wgs72"}, 422, "unknown_crs"),
        ({"description": ""}, 422, "invalid_value"),
        ({"client_id": "not-a-uuid"}, 422, "invalid_value"),
        ({"kind": "incident"}, 403, "forbidden"),
        ({"surprise": 1}, 422, "unknown_field"),
    ],
)
async def test_bad_submissions_are_refused_and_nothing_is_saved(api, spot, change, status, code):
    headers, _ = await session(api, "resident")
    r = await api.post("/api/cases", json={**request_body(*spot), **change}, headers=headers)
    assert (r.status_code, r.json()["code"]) == (status, code)
    leader, _ = await session(api, "grid_leader")
    assert (await api.get("/api/cases/1", headers=leader)).status_code == 404


async def test_a_request_goes_from_the_phone_to_closure_and_a_rating(api, spot):
    resident, _ = await session(api, "resident")
    leader, _ = await session(api, "grid_leader")
    worker, worker_id = await session(api, "grid_worker")
    case = (await api.post("/api/cases", json=request_body(*spot), headers=resident)).json()
    url = f"/api/cases/{case['id']}/transitions"

    version = case["version"]

    async def do(headers, **body):
        nonlocal version
        r = await api.post(url, json={"version": version, **body}, headers=headers)
        assert r.status_code == 200, r.text
        version = r.json()["version"]
        return r.json()

    assert (await do(leader, action="accept"))["status"] == "accepted"
    assert (await do(leader, action="dispatch", assignee=worker_id))["assignee_id"] == worker_id
    await do(worker, action="start")
    assert (await do(worker, action="handle", result="已更换灯泡"))["status"] == "handled"
    await do(leader, action="verify")
    closed = await do(leader, action="close")
    assert closed["status"] == "closed"
    assert (await do(resident, action="rate", rating=5, comment="很快"))["rating"] == 5
    timeline = (await api.get(f"/api/cases/{case['id']}/events", headers=resident)).json()
    assert [e["type"] for e in timeline] == [
        "case.submit",
        "case.accept",
        "case.dispatch",
        "case.start",
        "case.handle",
        "case.verify",
        "case.close",
        "case.rate",
    ]


async def test_who_may_see_and_act(api, spot):
    resident, _ = await session(api, "resident")
    worker, _ = await session(api, "grid_worker")
    case = (await api.post("/api/cases", json=request_body(*spot), headers=resident)).json()
    url = f"/api/cases/{case['id']}/transitions"
    r = await api.post(url, json={"action": "accept", "version": 1}, headers=worker)
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    seen = (await api.get(f"/api/cases/{case['id']}", headers=worker)).json()
    assert seen["contact_phone"] == "138****5678"
    assert seen["actions"] == []  # a worker neither accepts nor rejects
    mine = (await api.get(f"/api/cases/{case['id']}", headers=resident)).json()
    assert mine["contact_phone"] == "13812345678"
    assert mine["actions"] == ["withdraw", "remind"]
    lead = (
        await api.get(f"/api/cases/{case['id']}", headers=(await session(api, "grid_leader"))[0])
    ).json()
    assert {"accept", "reject", "escalate", "request_void"} <= set(lead["actions"])
    r = await api.post(
        url, json={"action": "close", "version": 1}, headers=(await session(api, "grid_leader"))[0]
    )
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")


async def test_two_leaders_dispatching_the_same_case_one_wins(api, spot):
    resident, _ = await session(api, "resident")
    leader, _ = await session(api, "grid_leader")
    staff, _ = await session(api, "community_staff")
    _, worker_id = await session(api, "grid_worker")
    case = (await api.post("/api/cases", json=request_body(*spot), headers=resident)).json()
    url = f"/api/cases/{case['id']}/transitions"
    accept = {"action": "accept", "version": case["version"]}
    accepted = (await api.post(url, json=accept, headers=leader)).json()
    body = {"action": "dispatch", "assignee": worker_id, "version": accepted["version"]}
    answers = await asyncio.gather(
        api.post(url, json=body, headers=leader), api.post(url, json=body, headers=staff)
    )
    codes = sorted(r.status_code for r in answers)
    assert codes == [200, 409]
    loser = next(r for r in answers if r.status_code == 409)
    assert loser.json()["code"] in ("stale_version", "conflict", "invalid_transition")


@pytest.mark.parametrize("case_id", ["99999999999999999999", "-1", "0"])
async def test_odd_case_ids_are_not_found(api, case_id):
    headers, _ = await session(api, "city_admin")
    for path in (f"/api/cases/{case_id}", f"/api/cases/{case_id}/events"):
        r = await api.get(path, headers=headers)
        assert r.status_code in (400, 404), r.text
    r = await api.post(
        f"/api/cases/{case_id}/transitions",
        json={"action": "accept", "version": 1},
        headers=headers,
    )
    assert r.status_code in (400, 404), r.text


async def test_an_unknown_action_or_a_bad_date_is_a_422(api, spot):
    resident, _ = await session(api, "resident")
    leader, _ = await session(api, "grid_leader")
    case = (await api.post("/api/cases", json=request_body(*spot), headers=resident)).json()
    url = f"/api/cases/{case['id']}/transitions"
    r = await api.post(url, json={"action": "teleport", "version": 1}, headers=leader)
    assert (r.status_code, r.json()["code"]) == (422, "invalid_value")
    shelve = {"action": "request_shelve", "reason": "x", "review_date": "soon", "version": 1}
    r = await api.post(url, json=shelve, headers=leader)
    assert r.status_code == 422


async def test_a_step_without_the_version_it_was_taken_from_is_a_422(api, spot):
    # Two leaders must not overwrite each other: a step names the version it saw.
    resident, _ = await session(api, "resident")
    leader, _ = await session(api, "grid_leader")
    case = (await api.post("/api/cases", json=request_body(*spot), headers=resident)).json()
    url = f"/api/cases/{case['id']}/transitions"
    r = await api.post(url, json={"action": "accept"}, headers=leader)
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (
        422,
        "missing_field",
        "version",
    )
    after = (await api.get(f"/api/cases/{case['id']}", headers=leader)).json()
    assert (after["status"], after["version"]) == ("submitted", case["version"])
    r = await api.post(url, json={"action": "accept", "version": "one"}, headers=leader)
    assert (r.status_code, r.json()["code"]) == (422, "invalid_type")


async def test_a_second_report_nearby_is_offered_the_first_to_join(api, spot):
    resident, _ = await session(api, "resident")
    worker, worker_id = await session(api, "grid_worker")
    first = (await api.post("/api/cases", json=request_body(*spot), headers=resident)).json()
    assert first["similar"] == []
    # 10 m east: the same lamp, reported by a worker on patrol.
    moved = (spot[0] + 10 / 85_000, spot[1])
    second = await api.post(
        "/api/cases", json=request_body(*moved, kind="incident"), headers=worker
    )
    offered = second.json()["similar"]
    assert [s["id"] for s in offered] == [first["id"]]
    assert 5 < offered[0]["distance_m"] < 15
    other = await api.post(
        "/api/cases", json=request_body(*moved, kind="incident", category="1401"), headers=worker
    )
    assert other.json()["similar"] == []  # another category is another matter
    near = await api.get(
        "/api/cases/nearby",
        params={"lon": moved[0], "lat": moved[1], "category": "1501"},
        headers=resident,
    )
    assert {s["id"] for s in near.json()} == {first["id"], second.json()["id"]}

    joined = await api.post(f"/api/cases/{first['id']}/support", headers=worker)
    assert joined.json() == {"id": first["id"], "supporters": 1, "added": True}
    again = await api.post(f"/api/cases/{first['id']}/support", headers=worker)
    assert again.json() == {"id": first["id"], "supporters": 1, "added": False}
    own = await api.post(f"/api/cases/{first['id']}/support", headers=resident)
    assert (own.status_code, own.json()["code"]) == (409, "own_case")
    timeline = (await api.get(f"/api/cases/{first['id']}/events", headers=resident)).json()
    assert [e["type"] for e in timeline] == ["case.submit", "case.support"]
    assert worker_id == timeline[1]["actor"]


async def test_me_too_on_a_case_one_cannot_read_needs_to_stand_by_it(api, spot):
    worker, _ = await session(api, "grid_worker")
    resident, _ = await session(api, "resident")
    case = (await api.post("/api/cases", json=request_body(*spot), headers=worker)).json()
    url = f"/api/cases/{case['id']}/support"
    assert (await api.get(f"/api/cases/{case['id']}", headers=resident)).status_code == 404
    far = {"lon": spot[0] + 0.01, "lat": spot[1]}  # about 850 m away
    for body in (None, far):
        swept = await api.post(url, json=body, headers=resident)
        assert (swept.status_code, swept.json()["code"]) == (404, "not_found")
    timeline = (await api.get(f"/api/cases/{case['id']}/events", headers=worker)).json()
    assert [e["type"] for e in timeline] == ["case.submit"]  # nothing written
    beside = {"lon": spot[0] + 10 / 85_000, "lat": spot[1]}
    joined = await api.post(url, json=beside, headers=resident)
    assert joined.json() == {"id": case["id"], "supporters": 1, "added": True}
    # Every verb on a case the asker cannot read is the same 404.
    for method, path in [("GET", ""), ("GET", "/events"), ("POST", "/transitions")]:
        r = await api.request(
            method,
            f"/api/cases/{case['id']}{path}",
            json={"action": "accept", "version": 1} if method == "POST" else None,
            headers=resident,
        )
        assert (r.status_code, r.json()["code"]) == (404, "not_found"), (method, path)


async def test_the_same_step_sent_again_is_its_answer_not_a_conflict(api, spot):
    # A phone whose answer was lost sends the step again from the version it had.
    resident, _ = await session(api, "resident")
    leader, _ = await session(api, "grid_leader")
    staff, _ = await session(api, "community_staff")
    case = (await api.post("/api/cases", json=request_body(*spot), headers=resident)).json()
    url = f"/api/cases/{case['id']}/transitions"
    accept = {"action": "accept", "version": case["version"]}
    first = await api.post(url, json=accept, headers=leader)
    again = await api.post(url, json=accept, headers=leader)
    assert (first.status_code, again.status_code) == (200, 200), again.text
    assert again.json()["version"] == first.json()["version"] == case["version"] + 1
    events = (await api.get(f"{url.removesuffix('/transitions')}/events", headers=leader)).json()
    assert [e["type"] for e in events].count("case.accept") == 1

    # Not the same step: another action, or the same one by someone else, is a conflict.
    reject = {"action": "reject", "reason": "重复", "version": case["version"]}
    for body, headers in ((reject, leader), (accept, staff)):
        r = await api.post(url, json=body, headers=headers)
        assert (r.status_code, r.json()["code"]) == (409, "stale_version")
