"""Emergency mode (平急转换): due times shrink in the area while it lasts and come back after;
nested and repeated switches; who may switch; bad input writes nothing. Both databases."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta

import msgspec
import pytest
import shapely
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.cases.categories import limits_of
from backend.cases.scheduler import escalate_overdue
from backend.core.db import use_engine
from backend.core.worktime import WorkingCalendar, due_time
from backend.demo import DEMO_PASSWORD
from backend.emergency import service as modes
from backend.emergency.tables import EmergencyMode
from backend.events.tables import Event
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE

DISTRICT = DEMO_GRID_CODE[:6]  # 海勃湾区, the district admin's
STREET = DEMO_GRID_CODE[:9]
COMMUNITY = DEMO_GRID_CODE[:12]
CATEGORY = "0101"  # 暴露垃圾: 24 h to accept, 72 h to close (normal priority)


@pytest.fixture
async def api(scratch_database):
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        yield client


@pytest.fixture
def own(api, scratch_database):
    """Queries from the test's own loop go through the test's engine: the app's PostgreSQL
    pool lives on the client's loop."""

    @contextmanager
    def bound():
        use_engine(scratch_database.engine)
        try:
            yield
        finally:
            use_engine(api.app.state.engine)

    return bound


@pytest.fixture
async def limits(own):
    with own():
        return await limits_of(CATEGORY)


# The demo city keeps the default working hours and has no overrides of its own.
WORK = WorkingCalendar()


def on_work(
    start: datetime, limit: timedelta, factor: float = 1.0, extended: timedelta = timedelta(0)
) -> datetime:
    """The due time of a normal-priority clock: in working time (categories.json)."""
    return due_time(start, limit, WORK, factor=factor, extended=extended)


async def sign_in(api, role: str) -> dict[str, str]:
    r = await api.post(
        "/api/auth/sign-in", json={"phone": DEMO_ACCOUNTS[role], "password": DEMO_PASSWORD}
    )
    return {"Authorization": f"Bearer {r.json()['token']}"}


def inside(demo_city, grid_code: str) -> tuple[float, float]:
    p = shapely.point_on_surface(demo_city.grids.set_index("code").loc[grid_code].geometry)
    return p.x, p.y


@pytest.fixture
def spots(demo_city) -> dict[str, tuple[float, float]]:
    """A point in the demo grid, and one in a grid of the district's second street."""
    other = sorted(c for c in demo_city.grids["code"] if c.startswith(DISTRICT + "002"))[0]
    return {"here": inside(demo_city, DEMO_GRID_CODE), "next_street": inside(demo_city, other)}


async def report(api, headers, spot) -> dict:
    body = {
        "client_id": str(uuid.uuid4()),
        "kind": "request",
        "category": CATEGORY,
        "description": "楼下垃圾堆放",
        "lon": spot[0],
        "lat": spot[1],
    }
    r = await api.post("/api/cases", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


async def act(api, headers, case_id: int, **body) -> dict:
    """``body`` from the case's version as the actor reads it."""
    version = (await api.get(f"/api/cases/{case_id}", headers=headers)).json()["version"]
    body = {"version": version, **body}
    r = await api.post(f"/api/cases/{case_id}/transitions", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def due(api, headers, case_id: int) -> datetime:
    case = (await api.get(f"/api/cases/{case_id}", headers=headers)).json()
    return datetime.fromisoformat(case["due_at"])


async def clock_start(api, headers, case_id: int, event: str) -> datetime:
    """When the case's last clock of this kind started, as its timeline says."""
    timeline = (await api.get(f"/api/cases/{case_id}/events", headers=headers)).json()
    last = [e["payload"] for e in timeline if e["type"] == event][-1]
    return datetime.fromisoformat(msgspec.json.decode(last)["at"])


async def switch(api, headers, area: str, kind: str = "flood", **extra):
    body = {"area_code": area, "kind": kind, "reason": "连续强降雨，启动防汛应急响应", **extra}
    return await api.post("/api/emergency/modes", json=body, headers=headers)


async def end(api, headers, area: str):
    return await api.post(
        f"/api/emergency/modes/{area}/end", json={"reason": "汛情解除"}, headers=headers
    )


async def test_due_times_shrink_in_the_area_and_come_back_exactly(api, own, limits, spots):
    resident = await sign_in(api, "resident")
    leader = await sign_in(api, "grid_leader")
    admin = await sign_in(api, "district_admin")
    accept_l, close_l = limits.accept["normal"], limits.close["normal"]

    waiting = await report(api, resident, spots["here"])  # the clock to accept runs
    working = await report(api, resident, spots["here"])
    await act(api, leader, working["id"], action="accept")  # the clock to close runs
    elsewhere = await report(api, resident, spots["next_street"])
    peace = {c["id"]: await due(api, leader, c["id"]) for c in (waiting, working)}
    peace_elsewhere = await due(api, admin, elsewhere["id"])

    r = await switch(api, admin, STREET, factor=0.5)
    assert r.status_code == 201, r.text
    mode = r.json()
    assert (mode["area_code"], mode["kind"], mode["factor"], mode["active"]) == (
        STREET,
        "flood",
        0.5,
        True,
    )
    assert mode["cases_retimed"] == 2
    submitted = await clock_start(api, leader, waiting["id"], "case.submit")
    accepted = await clock_start(api, leader, working["id"], "case.accept")
    assert await due(api, leader, waiting["id"]) == on_work(submitted, accept_l, 0.5)
    assert await due(api, leader, working["id"]) == on_work(accepted, close_l, 0.5)
    assert await due(api, admin, elsewhere["id"]) == peace_elsewhere  # another street

    # New clocks in the area start short: a new case, and the waiting one accepted now.
    new = await report(api, resident, spots["here"])
    started = await clock_start(api, leader, new["id"], "case.submit")
    assert await due(api, leader, new["id"]) == on_work(started, accept_l, 0.5)
    await act(api, leader, waiting["id"], action="accept")
    accepted_now = await clock_start(api, leader, waiting["id"], "case.accept")
    assert await due(api, leader, waiting["id"]) == on_work(accepted_now, close_l, 0.5)

    r = await end(api, admin, STREET)
    assert r.status_code == 200, r.text
    assert (r.json()["active"], r.json()["cases_retimed"]) == (False, 3)
    assert await due(api, leader, working["id"]) == peace[working["id"]]
    assert await due(api, leader, waiting["id"]) == on_work(accepted_now, close_l)
    assert await due(api, leader, new["id"]) == on_work(started, accept_l)

    timeline = (await api.get(f"/api/cases/{working['id']}/events", headers=leader)).json()
    assert [e["type"] for e in timeline][-2:] == ["case.due_changed", "case.due_changed"]
    with own():
        changed = (
            await Event.select(Event.scope, Event.payload, Event.actor)
            .where(Event.type == "mode.changed")
            .order_by(Event.id)
        )
    payloads = [msgspec.json.decode(e["payload"]) for e in changed]
    assert [
        (e["scope"], p["on"], p["kind"], p["factor"])
        for e, p in zip(changed, payloads, strict=True)
    ] == [
        (STREET, True, "flood", 0.5),
        (STREET, False, "flood", 0.5),
    ]
    assert payloads[0]["reason"] == "连续强降雨，启动防汛应急响应"
    assert payloads[1]["reason"] == "汛情解除"
    assert payloads[0]["who"] == changed[0]["actor"] == mode["started_by"]


async def test_an_approved_extension_is_kept_whole(api, limits, spots):
    resident = await sign_in(api, "resident")
    leader = await sign_in(api, "grid_leader")
    worker = await sign_in(api, "grid_worker")
    admin = await sign_in(api, "district_admin")
    worker_id = (await api.get("/api/me", headers=worker)).json()["id"]
    case = await report(api, resident, spots["here"])
    await act(api, leader, case["id"], action="accept")
    await act(api, leader, case["id"], action="dispatch", assignee=worker_id)
    await act(api, worker, case["id"], action="request_extension", extension_hours=10)
    await act(api, leader, case["id"], action="approve_extension")
    peace = await due(api, leader, case["id"])
    accepted = await clock_start(api, leader, case["id"], "case.accept")
    close_l = limits.close["normal"]
    # Granted in working hours, and kept whole when an emergency shrinks the limit.
    ten = timedelta(hours=10)
    assert peace == on_work(accepted, close_l, extended=ten)

    assert (await switch(api, admin, DISTRICT, "fire")).json()["factor"] == 0.25
    assert await due(api, leader, case["id"]) == on_work(accepted, close_l, 0.25, ten)
    await end(api, admin, DISTRICT)
    assert await due(api, leader, case["id"]) == peace


async def test_nested_modes_the_smallest_factor_holds_and_each_ends_alone(api, limits, spots):
    resident = await sign_in(api, "resident")
    admin = await sign_in(api, "district_admin")
    here = await report(api, resident, spots["here"])
    there = await report(api, resident, spots["next_street"])
    submitted = {
        c["id"]: await clock_start(api, admin, c["id"], "case.submit") for c in [here, there]
    }
    accept_l = limits.accept["normal"]

    def at(case, factor):
        return on_work(submitted[case["id"]], accept_l, factor)

    assert (await switch(api, admin, DISTRICT, "flood")).status_code == 201
    again = await switch(api, admin, DISTRICT, "fire")
    assert (again.status_code, again.json()["code"]) == (409, "already_in_emergency")
    assert again.json()["details"]["kind"] == "flood"
    assert (await switch(api, admin, STREET, "fire")).status_code == 201  # inside: allowed
    assert (await due(api, admin, here["id"]), await due(api, admin, there["id"])) == (
        at(here, 0.25),
        at(there, 0.5),
    )
    banner = (await api.get(f"/api/emergency/modes?area={DEMO_GRID_CODE}", headers=resident)).json()
    assert banner["factor"] == 0.25
    assert [m["area_code"] for m in banner["modes"]] == [DISTRICT, STREET]

    r = await end(api, admin, COMMUNITY)  # lies in the street's mode, has none of its own
    assert (r.status_code, r.json()["code"]) == (409, "not_in_emergency")
    assert r.json()["details"]["covered_by"] == [DISTRICT, STREET]
    await end(api, admin, DISTRICT)  # the street's fire goes on
    assert (await due(api, admin, here["id"]), await due(api, admin, there["id"])) == (
        at(here, 0.25),
        at(there, 1),
    )
    await end(api, admin, STREET)
    assert await due(api, admin, here["id"]) == at(here, 1)
    again = await end(api, admin, STREET)
    assert (again.status_code, again.json()["code"]) == (409, "not_in_emergency")

    history = (await api.get(f"/api/emergency/history?area={STREET}", headers=admin)).json()
    assert history["numberMatched"] == 2
    assert [(m["area_code"], m["active"]) for m in history["items"]] == [
        (STREET, False),
        (DISTRICT, False),
    ]
    assert (await api.get("/api/emergency/modes", headers=admin)).json()["modes"] == []


async def test_a_clock_started_with_an_old_factor_is_put_right_by_the_next_switch(
    api, limits, spots, monkeypatch
):
    resident = await sign_in(api, "resident")
    admin = await sign_in(api, "district_admin")
    assert (await switch(api, admin, DISTRICT)).status_code == 201
    # As in another process that has not read the switch yet: its list of modes is empty.
    monkeypatch.setattr(modes, "MAX_AGE_S", 3600.0)
    modes.remember(())
    late = await report(api, resident, spots["here"])
    started = await clock_start(api, admin, late["id"], "case.submit")
    accept_l = limits.accept["normal"]
    assert await due(api, admin, late["id"]) == on_work(started, accept_l)
    assert (await switch(api, admin, STREET, "other", factor=0.6)).json()["cases_retimed"] == 1
    assert await due(api, admin, late["id"]) == on_work(started, accept_l, 0.5)


async def test_the_overdue_scheduler_escalates_onto_a_short_clock(api, own, limits, spots):
    resident = await sign_in(api, "resident")
    admin = await sign_in(api, "district_admin")
    case = await report(api, resident, spots["here"])
    assert (await switch(api, admin, DISTRICT, "epidemic")).status_code == 201
    now = (await due(api, admin, case["id"])) + timedelta(seconds=1)
    with own():  # as the scheduler of another process: it reads the modes afresh
        assert await escalate_overdue(now) == [case["id"]]
    assert await due(api, admin, case["id"]) == on_work(now, limits.close["normal"], 0.5)


@pytest.mark.parametrize(
    ("role", "body", "status", "code"),
    [
        ("district_admin", {"kind": "meteor"}, 422, "unknown_kind"),
        ("district_admin", {"factor": 0}, 422, "invalid_factor"),
        ("district_admin", {"factor": 1.5}, 422, "invalid_factor"),
        ("district_admin", {"factor": "half"}, 422, "invalid_type"),
        ("district_admin", {"reason": "  "}, 422, "missing_reason"),
        ("district_admin", {"reason": "x" * 501}, 422, "invalid_reason"),
        ("district_admin", {"area_code": "150399"}, 422, "unknown_area"),
        ("district_admin", {"area_code": "海勃湾"}, 422, "unknown_area"),
        ("district_admin", {"area_code": "150303"}, 403, "outside_your_area"),
        ("district_admin", {"area_code": "150300"}, 403, "outside_your_area"),
        ("district_admin", {"surprise": True}, 422, "unknown_field"),
        ("grid_leader", {}, 403, "forbidden"),
        ("street_staff", {}, 403, "forbidden"),
        ("resident", {}, 403, "forbidden"),
    ],
)
async def test_bad_switches_are_refused_and_write_nothing(api, own, role, body, status, code):
    headers = await sign_in(api, role)
    r = await switch(api, headers, **{"area": DISTRICT, "kind": "flood", **body})
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    with own():
        assert await EmergencyMode.count() == 0
        assert await Event.count().where(Event.type == "mode.changed") == 0


async def test_an_infinite_factor_is_refused(api, own):
    headers = await sign_in(api, "district_admin") | {"Content-Type": "application/json"}
    raw = f'{{"area_code": "{DISTRICT}", "kind": "fire", "reason": "r", "factor": 1e999}}'
    r = await api.post("/api/emergency/modes", content=raw.encode(), headers=headers)
    assert r.status_code == 400 and r.json()["code"]  # JSON has no infinity: refused unread
    with own():
        assert await EmergencyMode.count() == 0


async def test_ending_is_for_admins_of_the_area_and_needs_a_reason(api, own):
    admin = await sign_in(api, "district_admin")
    city = await sign_in(api, "city_admin")
    assert (await switch(api, city, "150300", "epidemic")).status_code == 201
    r = await end(api, admin, "150300")
    assert (r.status_code, r.json()["code"]) == (403, "outside_your_area")
    r = await api.post("/api/emergency/modes/150300/end", json={"reason": ""}, headers=city)
    assert (r.status_code, r.json()["code"]) == (422, "missing_reason")
    with own():
        assert await EmergencyMode.count().where(EmergencyMode.ended_at.is_null()) == 1
    assert (await end(api, city, "150300")).status_code == 200


async def test_reading_modes(api):
    admin = await sign_in(api, "district_admin")
    worker = await sign_in(api, "grid_worker")
    kinds = (await api.get("/api/emergency/kinds", headers=worker)).json()
    assert {k["kind"]: k["factor"] for k in kinds} == {
        "epidemic": 0.5,
        "flood": 0.5,
        "fire": 0.25,
        "other": 0.75,
    }
    await switch(api, admin, "150302002")
    here = (await api.get(f"/api/emergency/modes?area={DEMO_GRID_CODE}", headers=worker)).json()
    assert (here["factor"], here["modes"]) == (1.0, [])
    district = (await api.get(f"/api/emergency/modes?area={DISTRICT}", headers=worker)).json()
    assert [m["area_code"] for m in district["modes"]] == ["150302002"]
    assert district["modes"][0]["area_name"]
    r = await api.get("/api/emergency/modes?area=x1", headers=worker)
    assert (r.status_code, r.json()["code"]) == (422, "unknown_area")
    assert (await api.get("/api/emergency/modes")).status_code == 401
