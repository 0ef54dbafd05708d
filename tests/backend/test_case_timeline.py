"""Who took each step of a case, on its timeline: name and post, masked as the policy says."""

from __future__ import annotations

import json

import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.demo import DEMO_PASSWORD
from geo.demo import DEMO_ACCOUNTS
from tests.backend.test_cases_api import request_body
from tests.backend.test_cases_api import spot as spot  # the fixture


@pytest.fixture
async def api(scratch_database):
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        yield client


async def person(client, role: str) -> tuple[dict[str, str], dict]:
    """Signed in as ``role``: the headers and the person the answer describes."""
    r = await client.post(
        "/api/auth/sign-in", json={"phone": DEMO_ACCOUNTS[role], "password": DEMO_PASSWORD}
    )
    body = r.json()
    return {"Authorization": f"Bearer {body['token']}"}, body["person"]


async def test_each_step_names_its_actor_whole_to_staff_and_masked_to_residents(api, spot):
    resident, resident_me = await person(api, "resident")
    leader, leader_me = await person(api, "grid_leader")
    worker, worker_me = await person(api, "grid_worker")
    resident_id, leader_id, worker_id = (p["id"] for p in (resident_me, leader_me, worker_me))
    names = {p["id"]: p["name"] for p in (resident_me, leader_me, worker_me)}
    case = (await api.post("/api/cases", json=request_body(*spot), headers=resident)).json()
    version = case["version"]
    for headers, body in [
        (leader, {"action": "accept"}),
        (leader, {"action": "dispatch", "assignee": worker_id}),
        (worker, {"action": "start"}),
    ]:
        r = await api.post(
            f"/api/cases/{case['id']}/transitions",
            json={"version": version, **body},
            headers=headers,
        )
        assert r.status_code == 200, r.text
        version = r.json()["version"]

    def who(timeline):
        return [(e["type"], e["actor_name"], e["actor_post"]) for e in timeline]

    by_leader = (await api.get(f"/api/cases/{case['id']}/events", headers=leader)).json()
    assert who(by_leader) == [
        ("case.submit", names[resident_id], "resident"),
        ("case.accept", names[leader_id], "grid_leader"),
        ("case.dispatch", names[leader_id], "grid_leader"),
        ("case.start", names[worker_id], "grid_worker"),
    ]

    by_resident = (await api.get(f"/api/cases/{case['id']}/events", headers=resident)).json()
    masked = {i: n[0] + "*" * (len(n) - 1) for i, n in names.items()}
    assert who(by_resident) == [
        ("case.submit", names[resident_id], "resident"),  # their own name
        ("case.accept", masked[leader_id], "grid_leader"),
        ("case.dispatch", masked[leader_id], "grid_leader"),
        ("case.start", masked[worker_id], "grid_worker"),
    ]
    # Nothing of the staff's whole names or phones reaches the resident.
    text = json.dumps(by_resident, ensure_ascii=False)
    assert not any(p["name"] in text or p["phone"] in text for p in (leader_me, worker_me))
