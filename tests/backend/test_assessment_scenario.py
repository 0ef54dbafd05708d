"""A month of cases in the demo grid, built through the HTTP API on a fixed clock (November
2026, Beijing time, working hours 8:30–12, 14:30–18), and every figure of the assessment at
worker, grid, community, street, district and department level against a hand count; then the
month published (公示), worked on later, and still answering what was published.

The cases (each time is November's, local):

- A: reported 02 09:00, accepted by the leader 09:30, dispatched to the worker 10:00, handled
  11:00, verified by the leader 11:30, closed 12:00;
- B: reported 03 09:00, accepted 09:10, dispatched 09:20, handled 10:00, sent back (返工)
  10:30, handled again 11:00, verified 11:10, closed 11:20;
- C: the worker's own find, reported 04 09:00 and handled on the spot (自处理) 09:30,
  verified by the leader 10:00, closed 10:30;
- D: reported 05 09:00, rejected by the leader 09:30;
- E: reported 02 08:00, accepted 09:00 (due 120 working hours later: 25 10:00), never
  dispatched; its void asked by the leader on 30 10:00 and approved by the community: voided
  after its due time, it still falls due, late;
- F: reported 09 09:00, accepted 09:30, escalated by the leader 10:00 and by the community
  10:30, dispatched by the street to 城管 (cg) 11:00; open, due in December;
- G: reported 03 08:00, accepted 08:30 (due 26 08:30), merged (并案) into E on 10 09:00: a
  duplicate answers through its main case and never falls due;
- H: reported 02 08:00, accepted 09:00 (due 25 10:00), dispatched to the worker 10:00, started
  11:00, paused (挂起) on the worker's request 20 10:00: its clock stopped before its due time,
  so it does not fall due in November, paused at the month's end.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.core import clock
from geo.demo import DEMO_GRID_CODE
from tests.backend.case_steps import COMMUNITY, DISTRICT, STREET, Driver, demo_spot, sign_in

ROLES = (
    "resident",
    "grid_worker",
    "grid_leader",
    "community_staff",
    "street_staff",
    "city_admin",
)


def local(text: str) -> datetime:
    return datetime.fromisoformat(f"2026-{text}:00+08:00")


@pytest.fixture
async def driver(scratch_database):
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        yield Driver(client, {role: await sign_in(client, role) for role in ROLES})


async def month(driver: Driver, spot: tuple[float, float], at: Callable[[str], None]) -> None:
    async def step(when: str, role: str, case_id: int, action: str, **body: Any) -> None:
        at(when)
        r = await driver.act(role, case_id, action, **body)
        assert r.status_code == 200, (when, role, action, r.text)

    async def report(when: str, role: str = "resident", **extra: Any) -> int:
        at(when)
        return await driver.report(spot, role, **extra)

    worker = "@grid_worker"
    e = await report("11-02 08:00")
    await step("11-02 09:00", "grid_leader", e, "accept")
    a = await report("11-02 09:00")
    await step("11-02 09:30", "grid_leader", a, "accept")
    await step("11-02 10:00", "grid_leader", a, "dispatch", assignee=worker)
    await step("11-02 11:00", "grid_worker", a, "handle", result="已修复")
    await step("11-02 11:30", "grid_leader", a, "verify")
    await step("11-02 12:00", "grid_leader", a, "close")

    b = await report("11-03 09:00")
    await step("11-03 09:10", "grid_leader", b, "accept")
    await step("11-03 09:20", "grid_leader", b, "dispatch", assignee=worker)
    await step("11-03 10:00", "grid_worker", b, "handle", result="已修复")
    await step("11-03 10:30", "grid_leader", b, "rework", reason="灯仍不亮")
    await step("11-03 11:00", "grid_worker", b, "handle", result="换了灯泡")
    await step("11-03 11:10", "grid_leader", b, "verify")
    await step("11-03 11:20", "grid_leader", b, "close")

    g = await report("11-03 08:00")
    await step("11-03 08:30", "grid_leader", g, "accept")
    await step("11-10 09:00", "grid_leader", g, "merge", main_case=e, reason="同一处")

    h = await report("11-02 08:00")
    await step("11-02 09:00", "grid_leader", h, "accept")
    await step("11-02 10:00", "grid_leader", h, "dispatch", assignee=worker)
    await step("11-02 11:00", "grid_worker", h, "start")
    await step("11-20 09:30", "grid_worker", h, "pause", reason="等待配件到货")
    await step("11-20 10:00", "grid_leader", h, "approve")
    assert datetime.fromisoformat((await driver.case(h))["due_at"]) == local("11-25 10:00")

    c = await report("11-04 09:00", "grid_worker", kind="incident")
    await step("11-04 09:30", "grid_worker", c, "self_handle", result="当场处理")
    await step("11-04 10:00", "grid_leader", c, "verify")
    await step("11-04 10:30", "grid_leader", c, "close")

    d = await report("11-05 09:00")
    await step("11-05 09:30", "grid_leader", d, "reject", reason="不属于受理范围")

    f = await report("11-09 09:00")
    await step("11-09 09:30", "grid_leader", f, "accept")
    await step("11-09 10:00", "grid_leader", f, "escalate", reason="需社区协调")
    await step("11-09 10:30", "community_staff", f, "escalate", reason="需街道协调")
    await step("11-09 11:00", "street_staff", f, "dispatch", department="cg")

    # A task to every grid of the community; the worker does the demo grid's.
    at("11-10 09:00")
    r = await driver.client.post(
        "/api/tasks",
        json={"client_id": str(uuid.uuid4()), "area_code": COMMUNITY, "target": "grid",
              "title": "防汛排查", "description": "逐格排查低洼处"},
        headers=driver.sessions["street_staff"].headers,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    r = await driver.client.get(
        "/api/task-items",
        params={"broadcast": r.json()["id"]},
        headers=driver.sessions["grid_worker"].headers,
    )
    [item] = [i for i in r.json() if i["grid_code"] == DEMO_GRID_CODE]
    at("11-10 15:00")
    r = await driver.client.post(
        f"/api/task-items/{item['id']}/done",
        json={"client_id": str(uuid.uuid4()), "result": "无积水", "households": 3},
        headers=driver.sessions["grid_worker"].headers,
    )
    assert r.status_code == 200, r.text

    assert datetime.fromisoformat((await driver.case(e))["due_at"]) == local("11-25 10:00")
    r = await driver.client.get(
        f"/api/cases/{a}/events", headers=driver.sessions["grid_leader"].headers
    )
    [accepted] = [json.loads(e["payload"]) for e in r.json() if e["type"] == "case.accept"]
    assert datetime.fromisoformat(accepted["dispatch_due_at"]) == local("11-02 16:00")
    await step("11-30 10:00", "grid_leader", e, "request_void", reason="重复上报")
    await step("11-30 10:05", "community_staff", e, "approve")


# The eight cases at the grid, and the community, street and district above it (nothing else
# happened in the demo city): received A–H (C by patrol); accepted A B E F G H, E voided;
# dispatched A B F H, each within the 24 h response limit; handled A B C (C on the spot, B
# reworked); verified A B C; due A B C (closed early) and E (voided after its due time), not
# G (merged) nor H (paused before its due time); responses 1800 600 3600 1800 1800 3600 (p90:
# rank 6 of 6); handling 3600 2400 1800 (rank 3 of 3). To be dispatched (deadline 4 working
# hours after acceptance: A's 02 16:00, G's 03 15:00): A B E F H, not G (merged); E never
# dispatched counts against: 按时派遣率 4 / 5.
AREA = {
    "received": 8, "received_app": 7, "received_patrol": 1, "received_anonymous": 0,
    "accepted": 6, "voided": 1, "accurate_accept_rate": 0.8333,
    "dispatched": 4, "dispatched_on_time": 4, "dispatch_due": 5, "dispatch_due_on_time": 4,
    "on_time_dispatch_rate": 0.8,
    "handled": 3, "self_handled": 1, "reworked": 1, "rework_rate": 0.3333, "verified": 3,
    "due": 4, "closed": 3, "closed_on_time": 3, "overdue": 1,
    "close_rate": 0.75, "on_time_close_rate": 0.75, "escalated": 1,
    "response_mean_s": 2200.0, "response_p90_s": 3600,
    "handling_mean_s": 2600.0, "handling_p90_s": 3600,
    "rated": 0, "satisfaction_mean": None, "satisfied_share": None,
}  # fmt: skip
# 城管 holds F: received, accepted (response 1800) and dispatched on time, escalated.
DEPARTMENT = AREA | {
    "received": 1, "received_app": 1, "received_patrol": 0,
    "accepted": 1, "voided": 0, "accurate_accept_rate": 1.0,
    "dispatched": 1, "dispatched_on_time": 1, "dispatch_due": 1, "dispatch_due_on_time": 1,
    "on_time_dispatch_rate": 1.0,
    "handled": 0, "self_handled": 0, "reworked": 0, "rework_rate": None, "verified": 0,
    "due": 0, "closed": 0, "closed_on_time": 0, "overdue": 0,
    "close_rate": None, "on_time_close_rate": None, "escalated": 1,
    "response_mean_s": 1800.0, "response_p90_s": 1800,
    "handling_mean_s": None, "handling_p90_s": None,
}  # fmt: skip
# Each action at whoever took it; the case rows (received, due, closed) at the assignee.
DERIVED = ("_rate", "_s", "satisfaction_mean", "satisfied_share")  # None with nothing to divide
NOTHING = {k: None if k.endswith(DERIVED) else 0 for k in AREA}
WORKER = {
    # Assignee of A B C H: received 4 (C its own find, by patrol), A B C due and closed on
    # time (H paused); handled A B C (3600 2400 1800), C on the spot, B reworked. The dispatch
    # deadlines are case rows too: A B H, dispatched in time.
    "grid_worker": NOTHING | {
        "received": 4, "received_app": 3, "received_patrol": 1,
        "dispatch_due": 3, "dispatch_due_on_time": 3, "on_time_dispatch_rate": 1.0,
        "handled": 3, "self_handled": 1, "reworked": 1, "rework_rate": 0.3333,
        "due": 3, "closed": 3, "closed_on_time": 3, "close_rate": 1.0, "on_time_close_rate": 1.0,
        "handling_mean_s": 2600.0, "handling_p90_s": 3600,
    },
    # Accepted A B E F G H (E voided), dispatched A B H, verified A B C, escalated F first.
    "grid_leader": NOTHING | {
        "accepted": 6, "voided": 1, "accurate_accept_rate": 0.8333,
        "dispatched": 3, "dispatched_on_time": 3,
        "verified": 3, "escalated": 1, "response_mean_s": 2200.0, "response_p90_s": 3600,
    },
    # Dispatched F to 城管.
    "street_staff": NOTHING | {
        "dispatched": 1, "dispatched_on_time": 1,
    },
}  # fmt: skip


TASKS = ("task_items", "tasks_done", "task_completion")
# The demo grid's item is the worker's and the leader's (both hold posts there); the worker did
# it, so it counts done for the worker alone.
WORKER_TASKS = {"grid_worker": (1, 1, 1.0), "grid_leader": (1, 0, 0.0)}


async def assessed(
    driver: Driver, level: str, period: str = "2026-11", **extra: Any
) -> dict[str, Any]:
    r = await driver.client.get(
        "/api/assessment",
        params={"period": period, "level": level, **extra},
        headers=driver.sessions["city_admin"].headers,
    )
    assert r.status_code == 200, r.text
    return r.json()


def unit_of(answer: dict[str, Any], code: str) -> dict[str, Any]:
    [unit] = [u for u in answer["units"] if u["code"] == code]
    return unit


def picked(unit: dict[str, Any], keys: dict[str, Any]) -> dict[str, Any]:
    return {k: unit["figures"][k] for k in keys}


async def test_a_month_assessed_published_and_frozen(driver, demo_city, monkeypatch):
    def at(when: str) -> None:
        moment = local(when)
        monkeypatch.setattr(clock, "now", lambda: moment)

    await month(driver, demo_spot(demo_city), at)
    at("12-02 09:00")

    # The task: one item per grid of the community, the demo grid's done.
    grids = sum(code.startswith(COMMUNITY) for code in demo_city.grids["code"])
    for level, code, tasks in (
        ("grid", DEMO_GRID_CODE, (1, 1, 1.0)),
        ("community", COMMUNITY, (grids, 1, round(1 / grids, 4))),
        ("street", STREET, (grids, 1, round(1 / grids, 4))),
        ("district", DISTRICT, (grids, 1, round(1 / grids, 4))),
    ):
        unit = unit_of(await assessed(driver, level), code)
        assert picked(unit, AREA) == AREA, level
        assert picked(unit, TASKS) == dict(zip(TASKS, tasks, strict=True)), level
        # Nothing happened in October: ranked now, with no rank before it and no change.
        assert unit["rank"] is not None, level
        assert (unit["previous_rank"], unit["rank_change"]) == (None, None), level
    department = await assessed(driver, "department")
    assert picked(unit_of(department, "cg"), DEPARTMENT) == DEPARTMENT
    workers = await assessed(driver, "worker")
    for role, expected in WORKER.items():
        unit = unit_of(workers, str(driver.sessions[role].person_id))
        assert picked(unit, expected) == expected, role
        if role in WORKER_TASKS:
            expected_tasks = dict(zip(TASKS, WORKER_TASKS[role], strict=True))
            assert picked(unit, TASKS) == expected_tasks, role
        assert unit["rank_change"] is None, role
    r = await driver.client.get(
        "/api/assessment/cases",
        params={"period": "2026-11", "level": "worker", "indicator": "accepted",
                "unit": str(driver.sessions["grid_leader"].person_id)},
        headers=driver.sessions["city_admin"].headers,
    )  # fmt: skip
    assert r.json()["count"] == 6, r.text

    # 公示: the city admin's, once, for a month that is over.
    publish = driver.client.post
    admin = driver.sessions["city_admin"].headers
    r = await publish("/api/assessment/publish", json={"period": "2026-11"},
                      headers=driver.sessions["street_staff"].headers)  # fmt: skip
    assert r.status_code == 403, r.text
    r = await publish("/api/assessment/publish", json={"period": "2026-12"}, headers=admin)
    assert (r.status_code, r.json()["code"]) == (409, "period_not_over")
    r = await publish("/api/assessment/publish", json={"period": "2026-11"}, headers=admin)
    assert r.status_code == 201, r.text
    published_at = r.json()["published_at"]
    r = await publish("/api/assessment/publish", json={"period": "2026-11"}, headers=admin)
    assert (r.status_code, r.json()["code"]) == (409, "already_published")

    # December: A's reporter rates it (November's closure), and F's department handles it.
    at("12-03 09:00")
    r = await driver.client.get(
        "/api/assessment/cases",
        params={"period": "2026-11", "level": "grid", "indicator": "closed",
                "unit": DEMO_GRID_CODE},
        headers=admin,
    )  # fmt: skip
    first_closed = r.json()["rows"][0]["id"]
    r = await driver.act("resident", first_closed, "rate", rating=5)
    assert r.status_code == 200, r.text

    answer = await assessed(driver, "grid")
    unit = unit_of(answer, DEMO_GRID_CODE)
    assert answer["published_at"] == published_at
    assert picked(unit, AREA) == AREA  # as published: the rating is not in it
    audit = await assessed(driver, "grid", recompute=1)
    [now] = [u for u in audit["recomputed"] if u["code"] == DEMO_GRID_CODE]
    assert picked(now, AREA) == AREA | {
        "rated": 1,
        "satisfaction_mean": 5.0,
        "satisfied_share": 1.0,
    }
    inside = await assessed(driver, "worker", area=COMMUNITY)
    assert picked(unit_of(inside, str(driver.sessions["grid_leader"].person_id)),
                  WORKER["grid_leader"]) == WORKER["grid_leader"]  # fmt: skip
    r = await driver.client.get(
        "/api/assessment/export.csv", params={"period": "2026-11", "level": "grid"}, headers=admin
    )
    assert r.headers["x-assessment-figures"] == f"published {published_at}"
