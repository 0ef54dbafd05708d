"""A month of cases in the demo grid, built through the HTTP API on a fixed clock (November
2026, Beijing time, working hours 8:30–12, 14:30–18, Mondays the 2nd, 9th, 16th, 23rd, 30th),
and every figure of the assessment at worker, grid, community, street, district and department
level against a hand count; then the month published (公示), worked on later, and still
answering what was published.

Category 1501 (normal priority) gives, in working hours: 24 to accept, 4 to dispatch, 56 to
handle, 2 to verify (the seed's default), 120 to close. The cases (each time is November's,
local; "the leader", "the worker" are the demo grid's):

- A: reported 02 09:00 (to accept by 05 12:00), accepted by the leader 09:30 (to dispatch by
  16:00), dispatched to the worker 10:00 (to handle by 12 10:00), handled 11:00 (to verify by
  15:30), verified by the leader 11:30, closed 12:00;
- B: reported 03 09:00, accepted 09:10, dispatched 09:20 (to handle by 13 09:20), handled
  10:00, sent back (返工) 10:30, handled again 11:00 (to verify by 15:30), verified 11:10,
  closed 11:20;
- C: the worker's own find, reported 04 09:00 and handled on the spot (自处置) 09:30 (to
  verify by 11:30), verified by the leader 10:00, closed 10:30: never to accept nor dispatch;
- D: reported 05 09:00, rejected by the leader 09:30;
- E: reported 02 08:00 (to accept by 05 11:30), accepted 09:00 (to dispatch by 15:30; due 120
  working hours later: 25 10:00), never dispatched; its void asked by the leader on 30 10:00
  and approved by the community: voided after its deadlines, it still falls due, late;
- F: reported 09 09:00, accepted 09:30 (to dispatch by 16:00), escalated by the leader 10:00
  and by the community 10:30, dispatched by the street to 城管 (cg) 11:00 (to handle by 19
  11:00), never handled; open, due in December;
- G: reported 03 08:00, accepted 08:30 (due 26 08:30), merged (并案) into E on 10 09:00: a
  duplicate answers through its main case and never falls due, nor is it to accept or
  dispatch;
- H: reported 02 08:00 (to accept by 05 11:30), accepted 09:00 (due 25 10:00, to dispatch by
  15:30), dispatched to the worker 10:00 (to handle by 12 10:00), started 11:00, paused (挂起)
  on the worker's request 20 10:00: its clock stopped before its due time, so it does not fall
  due in November, paused at the month's end; but it was paused after its time to handle ran
  out, so it is to be handled in November, and never was;
- T: reported 09 10:00 (to accept by 12 15:30), accepted by the leader late, 13 09:00 (to
  dispatch by 15:30), sent (移交) to the next grid GRID_B 10:00 and taken by its community
  10:30: it happened there, and counts there for good; never dispatched;
- P: reported 16 09:00, accepted 09:30 (to dispatch by 16:00), dispatched to the worker 10:00
  (to handle by 26 10:00), paused at the worker's request 17 10:00 and resumed by the leader
  19 10:00 (14 working hours paused: to handle by 30 10:00), handled 27 10:00 (on time, thanks
  to the pause; to verify by 12:00), verified by the leader 15:00 (late), closed 15:30.
"""

from __future__ import annotations

import csv
import io
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

GRID_B = "15030200100102"  # the next grid of the demo community, where T is sent

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

    t = await report("11-09 10:00")
    await step("11-13 09:00", "grid_leader", t, "accept")
    await step(
        "11-13 10:00", "grid_leader", t, "transfer", reason="位于隔壁网格", target_code=GRID_B
    )
    await step("11-13 10:30", "community_staff", t, "accept_transfer", comment="已接收")

    p = await report("11-16 09:00")
    await step("11-16 09:30", "grid_leader", p, "accept")
    await step("11-16 10:00", "grid_leader", p, "dispatch", assignee=worker)
    await step("11-17 09:00", "grid_worker", p, "pause", reason="等待配件到货")
    await step("11-17 10:00", "grid_leader", p, "approve")
    await step("11-19 10:00", "grid_leader", p, "resume", reason="配件已到")
    await step("11-27 10:00", "grid_worker", p, "handle", result="已更换灯泡")
    await step("11-27 15:00", "grid_leader", p, "verify")
    await step("11-27 15:30", "grid_leader", p, "close")

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
    # The stages' deadlines as the cases' events give them, against the hand counts above.
    logged = {
        (a, "case.accept", "dispatch_due_at"): "11-02 16:00",
        (a, "case.dispatch", "handle_due_at"): "11-12 10:00",
        (a, "case.handle", "verify_due_at"): "11-02 15:30",
        (b, "case.dispatch", "handle_due_at"): "11-13 09:20",
        (t, "case.submit", "due_at"): "11-12 15:30",
        (p, "case.dispatch", "handle_due_at"): "11-26 10:00",
        (p, "case.resume", "handle_due_at"): "11-30 10:00",
        (p, "case.handle", "verify_due_at"): "11-27 12:00",
    }
    for (case_id, kind, field), when in logged.items():
        r = await driver.client.get(
            f"/api/cases/{case_id}/events", headers=driver.sessions["city_admin"].headers
        )
        [payload] = [json.loads(e["payload"]) for e in r.json() if e["type"] == kind]
        assert datetime.fromisoformat(payload[field]) == local(when), (kind, field)
    await step("11-30 10:00", "grid_leader", e, "request_void", reason="重复上报")
    await step("11-30 10:05", "community_staff", e, "approve")


# The demo grid: the cases but T (sent to GRID_B), and the community, street and district above
# it with T (nothing else happened in the demo city). Received A–H, P (C by patrol); accepted
# A B E F G H P, E voided; to accept A B E F H P (C self-handled, D rejected, G merged), all
# in time. Dispatched A B F H P, each within the 24 h response limit; to dispatch A B E F H P
# (G merged), E never: 5 of 6. Handled A B C P (C on the spot, B reworked); to handle A B F H P,
# handled A B P in time, F and H never: 3 of 5. Verified A B C P, to verify the same, P late: 3
# of 4. Due A B C P (closed early) and E (voided after its due time), not G (merged) nor H
# (paused before its due time); C self-handled. Responses 1800 600 3600 1800 1800 3600 1800
# (p90: rank 7 of 7); handling 3600 2400 1800 950400 (P: 11 days; rank 4 of 4).
GRID = {
    "received": 9, "received_app": 8, "received_patrol": 1, "received_anonymous": 0,
    "accepted": 7, "voided": 1, "accurate_accept_rate": 0.8571,
    "accept_due": 6, "accept_due_on_time": 6, "on_time_accept_rate": 1.0,
    "dispatched": 5, "dispatched_on_time": 5, "dispatch_due": 6, "dispatch_due_on_time": 5,
    "on_time_dispatch_rate": 0.8333,
    "handled": 4, "self_handled": 1, "reworked": 1, "rework_rate": 0.25,
    "handle_due": 5, "handle_due_done": 3, "handle_due_on_time": 3, "handle_rate": 0.6,
    "on_time_handle_rate": 0.6,
    "verified": 4, "verify_due": 4, "verify_due_on_time": 3, "on_time_verify_rate": 0.75,
    "due": 5, "closed": 4, "closed_on_time": 4, "overdue": 1,
    "self_due": 1, "self_closed": 1, "self_closed_on_time": 1,
    "close_rate": 0.8, "on_time_close_rate": 0.8, "escalated": 1,
    "response_mean_s": 2142.9, "response_p90_s": 3600,
    "handling_mean_s": 239550.0, "handling_p90_s": 950400,
    "rated": 0, "satisfaction_mean": None, "satisfied_share": None,
}  # fmt: skip
DERIVED = ("_rate", "_s", "satisfaction_mean", "satisfied_share")  # None with nothing to divide
NOTHING = {k: None if k.endswith(DERIVED) else 0 for k in GRID}
# GRID_B: T, accepted late after 342000 s (4 days less an hour), never dispatched.
GRID_B_FIGURES = NOTHING | {
    "received": 1, "received_app": 1, "accepted": 1, "accurate_accept_rate": 1.0,
    "accept_due": 1, "on_time_accept_rate": 0.0, "dispatch_due": 1, "on_time_dispatch_rate": 0.0,
    "response_mean_s": 342000.0, "response_p90_s": 342000,
}  # fmt: skip
# The areas: both grids. Responses 15000 + 342000 over 8 (p90: rank 8, T's).
AREA = GRID | {
    "received": 10, "received_app": 9, "accepted": 8, "accurate_accept_rate": 0.875,
    "accept_due": 7, "on_time_accept_rate": 0.8571, "dispatch_due": 7,
    "on_time_dispatch_rate": 0.7143, "response_mean_s": 44625.0, "response_p90_s": 342000,
}  # fmt: skip
# 城管 holds F: received, accepted (response 1800) and dispatched on time, escalated; to handle
# by 19 11:00, never handled.
DEPARTMENT = NOTHING | {
    "received": 1, "received_app": 1, "accepted": 1, "accurate_accept_rate": 1.0,
    "accept_due": 1, "accept_due_on_time": 1, "on_time_accept_rate": 1.0,
    "dispatched": 1, "dispatched_on_time": 1, "dispatch_due": 1, "dispatch_due_on_time": 1,
    "on_time_dispatch_rate": 1.0, "handle_due": 1, "handle_rate": 0.0, "on_time_handle_rate": 0.0,
    "escalated": 1, "response_mean_s": 1800.0, "response_p90_s": 1800,
}  # fmt: skip
# Each action at whoever took it; the case rows (received, due, closed) at the assignee.
WORKER = {
    # Assignee of A B C H P: received 5 (C its own find, by patrol), A B C P due and closed on
    # time (H paused), C self-handled; handled A B C P (3600 2400 1800 950400), C on the spot,
    # B reworked; to handle A B H P (H at its assignee, never handled): 3 of 4 in time.
    "grid_worker": NOTHING | {
        "received": 5, "received_app": 4, "received_patrol": 1,
        "handled": 4, "self_handled": 1, "reworked": 1, "rework_rate": 0.25,
        "handle_due": 4, "handle_due_done": 3, "handle_due_on_time": 3, "handle_rate": 0.75,
        "on_time_handle_rate": 0.75,
        "due": 4, "closed": 4, "closed_on_time": 4, "close_rate": 1.0, "on_time_close_rate": 1.0,
        "self_due": 1, "self_closed": 1, "self_closed_on_time": 1,
        "handling_mean_s": 239550.0, "handling_p90_s": 950400,
    },
    # Accepted A B E F G H T P (E voided); to accept A B E F H T P, T late; dispatched A B H P,
    # each to dispatch and in time; verified A B C P, P late; escalated F first.
    "grid_leader": NOTHING | {
        "accepted": 8, "voided": 1, "accurate_accept_rate": 0.875,
        "accept_due": 7, "accept_due_on_time": 6, "on_time_accept_rate": 0.8571,
        "dispatched": 4, "dispatched_on_time": 4, "dispatch_due": 4, "dispatch_due_on_time": 4,
        "on_time_dispatch_rate": 1.0,
        "verified": 4, "verify_due": 4, "verify_due_on_time": 3, "on_time_verify_rate": 0.75,
        "escalated": 1, "response_mean_s": 44625.0, "response_p90_s": 342000,
    },
    # Dispatched F to 城管, in time.
    "street_staff": NOTHING | {
        "dispatched": 1, "dispatched_on_time": 1, "dispatch_due": 1, "dispatch_due_on_time": 1,
        "on_time_dispatch_rate": 1.0,
    },
}  # fmt: skip
# Each role's score with the default role weights, over the figures a worker has of it:
# 受理员 the leader (0.5 × 6/7 + 0.5 × 0.875); 派遣员 the leader and the street's staff (1.0),
# tied; 处置 the worker ((0.3 × 0.75 + 0.1 × 0.75 + 0.1 × (1 − 0.25) + 0.2 × 1.0) / 0.7, no
# rating); 监督员 the leader (0.4 × 0.75 + 0.4 × 0 patrolled + 0.2 × 0 tasks done) and the
# worker ((0.4 × 0 + 0.2 × 1) / 0.6: no verification of theirs).
ROLES_OF = {
    "grid_leader": {"acceptor": (86.61, 1), "dispatcher": (100.0, 1), "inspector": (30.0, 2)},
    "grid_worker": {"handler": (82.14, 1), "inspector": (33.33, 1)},
    "street_staff": {"dispatcher": (100.0, 1)},
}


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
    for level, code, expected, tasks in (
        ("grid", DEMO_GRID_CODE, GRID, (1, 1, 1.0)),
        ("grid", GRID_B, GRID_B_FIGURES, (1, 0, 0.0)),
        ("community", COMMUNITY, AREA, (grids, 1, round(1 / grids, 4))),
        ("street", STREET, AREA, (grids, 1, round(1 / grids, 4))),
        ("district", DISTRICT, AREA, (grids, 1, round(1 / grids, 4))),
    ):
        unit = unit_of(await assessed(driver, level), code)
        assert picked(unit, expected) == expected, (level, code)
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
        roles = {r: (v["score"], v["rank"]) for r, v in unit["roles"].items()}
        assert roles.keys() == ROLES_OF[role].keys(), role
        for name, (score, rank) in ROLES_OF[role].items():
            assert roles[name] == (pytest.approx(score, abs=0.011), rank), (role, name)
    assert workers["role_weights"]["dispatcher"] == {"on_time_dispatch_rate": 1.0}
    admin = driver.sessions["city_admin"].headers
    leader = str(driver.sessions["grid_leader"].person_id)
    for indicator, unit, count in (
        ("accepted", leader, 8),
        ("on_time_accept_rate", leader, 7),  # its denominator: the leader's cases to accept
        ("on_time_verify_rate", leader, 4),
        ("handle_due", str(driver.sessions["grid_worker"].person_id), 4),
        ("dispatch_due", str(driver.sessions["street_staff"].person_id), 1),
    ):
        r = await driver.client.get(
            "/api/assessment/cases",
            params={"period": "2026-11", "level": "worker", "indicator": indicator, "unit": unit},
            headers=admin,
        )
        assert r.json()["count"] == count, (indicator, r.text)

    # The city weighs a self-handled case (C) at 0 in the closure rates: 3 of 4 closed, on time.
    r = await driver.client.put(
        "/api/assessment/weights/city", json={"weights": {"self_handled": 0}}, headers=admin
    )
    assert r.status_code == 200, r.text
    answer = await assessed(driver, "grid")
    assert answer["self_handled_weight"] == 0.0
    weighed = {"close_rate": 0.75, "on_time_close_rate": 0.75}
    assert picked(unit_of(answer, DEMO_GRID_CODE), GRID) == GRID | weighed
    for level, body, code in (
        ("city", {"self_handled": 1.5}, "invalid_weight"),
        ("city", {"close_rate": 1}, "invalid_indicator"),
        ("acceptor", {"close_rate": 1}, "invalid_indicator"),
    ):
        r = await driver.client.put(
            f"/api/assessment/weights/{level}", json={"weights": body}, headers=admin
        )
        assert (r.status_code, r.json()["code"]) == (422, code), level
    r = await driver.client.put("/api/assessment/weights/city", json={"weights": {}}, headers=admin)
    assert r.json()["weights"] == {"self_handled": 1.0}

    # By the door the cases came in by: the worker's own find (C) alone came in by patrol.
    answer = await assessed(driver, "grid", source="patrol")
    assert answer["source"] == "patrol"
    assert {o["source"] for o in answer["omitted"]} == {"patrol", "tasks", "hours"}
    assert picked(unit_of(answer, DEMO_GRID_CODE), GRID) == NOTHING | {
        "received": 1, "received_patrol": 1, "handled": 1, "self_handled": 1, "rework_rate": 0.0,
        "verified": 1, "verify_due": 1, "verify_due_on_time": 1, "on_time_verify_rate": 1.0,
        "due": 1, "closed": 1, "closed_on_time": 1, "close_rate": 1.0, "on_time_close_rate": 1.0,
        "self_due": 1, "self_closed": 1, "self_closed_on_time": 1,
        "handling_mean_s": 1800.0, "handling_p90_s": 1800,
    }  # fmt: skip
    r = await driver.client.get(
        "/api/assessment/cases",
        params={"period": "2026-11", "level": "grid", "indicator": "received",
                "unit": DEMO_GRID_CODE, "source": "patrol"},
        headers=admin,
    )  # fmt: skip
    assert [row["source"] for row in r.json()["rows"]] == ["patrol"]
    hotline = unit_of(await assessed(driver, "grid", source="hotline"), DEMO_GRID_CODE)
    assert (hotline["figures"]["received"], hotline["score"]) == (0, None)
    r = await driver.client.get(
        "/api/assessment", params={"period": "2026-11", "level": "grid", "source": "fax"},
        headers=admin,
    )  # fmt: skip
    assert (r.status_code, r.json()["code"]) == (422, "invalid_source")

    # 公示: the city admin's, once, for a month that is over.
    publish = driver.client.post
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
    assert picked(unit, GRID) == GRID  # as published: the rating is not in it
    by_patrol = await assessed(driver, "grid", source="patrol")  # each door's, published too
    assert (by_patrol["published_at"], by_patrol["source"]) == (published_at, "patrol")
    assert unit_of(by_patrol, DEMO_GRID_CODE)["figures"]["rated"] == 0
    # December's rank change is against November as published, the ranks the city saw:
    # recomputed now, November ranks only the grids something happened in.
    november = {u["code"]: u["rank"] for u in answer["units"]}
    december = await assessed(driver, "grid", period="2026-12")
    assert {u["code"]: u["previous_rank"] for u in december["units"]} == november
    assert sum(rank is not None for rank in november.values()) > 2
    for u in december["units"]:
        expected = None if u["rank"] is None else november[u["code"]] - u["rank"]
        assert u["rank_change"] == expected, u["code"]
    audit = await assessed(driver, "grid", recompute=1)
    [now] = [u for u in audit["recomputed"] if u["code"] == DEMO_GRID_CODE]
    assert picked(now, GRID) == GRID | {
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
    # A worker's role scores and ranks are the export's last columns.
    r = await driver.client.get(
        "/api/assessment/export.csv", params={"period": "2026-11", "level": "worker"},
        headers=admin,
    )  # fmt: skip
    table = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    [row] = [dict(zip(table[0], line, strict=True)) for line in table[1:] if line[0] == leader]
    assert (row["受理员/值班长得分 (acceptor)"], row["受理员/值班长排名 (acceptor)"]) == (
        str(unit_of(workers, leader)["roles"]["acceptor"]["score"]), "1"
    )  # fmt: skip


async def test_an_action_taken_again_counts_in_the_period_of_each(driver, demo_city, monkeypatch):
    """A case verified in November, reopened and verified again in December: its first
    verification is November's, and December counts the one of its own (the case row keeps
    the first of each action; a case that takes one again is read from its events). Its first
    dispatch and handling were November's: December counts neither again."""

    def at(when: str) -> None:
        moment = local(when)
        monkeypatch.setattr(clock, "now", lambda: moment)

    at("11-27 09:00")
    case = await driver.report(demo_spot(demo_city))
    for when, role, action, body in (
        ("11-27 09:30", "grid_leader", "accept", {}),
        ("11-27 10:00", "grid_leader", "dispatch", {"assignee": "@grid_worker"}),
        ("11-27 11:00", "grid_worker", "handle", {"result": "已修复"}),
        ("11-27 11:30", "grid_leader", "verify", {}),
        ("11-27 12:00", "grid_leader", "close", {}),
        ("11-30 09:00", "resident", "reopen", {"reason": "又坏了"}),
        ("12-01 09:30", "grid_leader", "dispatch", {"assignee": "@grid_worker"}),
        ("12-01 10:00", "grid_worker", "handle", {"result": "换了灯泡"}),
        ("12-01 10:30", "grid_leader", "verify", {}),
    ):
        at(when)
        r = await driver.act(role, case, action, **body)
        assert r.status_code == 200, (when, action, r.text)
    at("12-02 09:00")
    leader = str(driver.sessions["grid_leader"].person_id)
    keys = {"accepted": 0, "dispatched": 0, "handled": 0, "verified": 0}
    for period, counted in (
        ("2026-11", {"accepted": 1, "dispatched": 1, "handled": 1, "verified": 1}),
        ("2026-12", {"accepted": 0, "dispatched": 0, "handled": 0, "verified": 1}),
    ):
        grid = unit_of(await assessed(driver, "grid", period), DEMO_GRID_CODE)
        assert picked(grid, keys) == counted, period
        worker = unit_of(await assessed(driver, "worker", period), leader)
        assert worker["figures"]["verified"] == 1, period
