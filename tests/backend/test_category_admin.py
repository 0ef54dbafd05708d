"""The category tree changed by the city admin through the API: add, rename, move, limits in
working or calendar hours, default post and department, retire (never delete); 403 for every
other role, the refusals' codes, the audit. Both databases."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.core.db import use_engine
from backend.core.worktime import WorkingCalendar, due_time
from backend.events.tables import Event
from tests.backend.case_steps import ROLES, demo_spot, report_body, sign_in

HOURS = {"urgent": 2, "high": 8, "normal": 48}


def limits(calendar: bool = False, **stages: dict[str, float]) -> dict:
    tables = stages or {"accept": {"urgent": 1, "high": 2, "normal": 4}, "close": HOURS}
    return {
        stage: {p: {"hours": h, "calendar": calendar} for p, h in table.items()}
        for stage, table in tables.items()
    }


NEW = {
    "code": "B0308",
    "name": "废物箱满溢",
    "parent": "B03",
    "post": "fulltime",
    "department": "cg",
    "limits": limits(),
}


@pytest.fixture
async def api(scratch_database):
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as c:
        yield c


async def tree(api) -> dict[str, dict]:
    r = await api.get("/api/categories")
    assert r.status_code == 200
    return {c["code"]: c for c in r.json()}


async def test_only_the_city_admin_changes_the_tree(api):
    for role in ROLES:
        if role in ("city_admin", "department"):
            continue
        who = (await sign_in(api, role)).headers
        attempts = [
            await api.post("/api/categories", json=NEW, headers=who),
            await api.patch("/api/categories/0101", json={"name": "垃圾"}, headers=who),
            await api.post("/api/categories/0101/retire", headers=who),
        ]
        assert [(r.status_code, r.json()["code"]) for r in attempts] == [(403, "forbidden")] * 3
    assert (await api.post("/api/categories", json=NEW)).status_code == 401
    got = await tree(api)
    assert "B0308" not in got and got["0101"]["name"] == "暴露垃圾" and not got["0101"]["retired"]


async def test_the_seeded_tree_has_the_standard_s_big_classes(api):
    got = await tree(api)
    parts = {c["name"] for code, c in got.items() if code.startswith("B") and not c["parent"]}
    events = {
        c["name"]
        for code, c in got.items()
        if code[:2] in {f"0{n}" for n in range(1, 7)} and not c["parent"]
    }
    assert parts == {"公用设施", "道路交通", "市容环境", "园林绿化", "房屋土地", "其他设施"}
    assert events == {"市容环境", "宣传广告", "施工管理", "突发事件", "街面秩序", "扩展事件"}
    assert got["B0101"]["name"] == "上水井盖" and got["B0101"]["parent"] == "B01"
    # Emergencies on the wall clock; an ordinary category's normal limits in working time.
    assert got["0401"]["limits"]["close"]["normal"] == {"hours": 24, "calendar": True}
    assert got["0101"]["limits"]["close"]["normal"] == {"hours": 72, "calendar": False}
    assert got["0101"]["limits"]["close"]["urgent"]["calendar"] is True


async def test_add_rename_move_and_set_limits(api, demo_city):
    admin = (await sign_in(api, "city_admin")).headers
    r = await api.post("/api/categories", json=NEW, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["limits"]["close"]["normal"] == {"hours": 48, "calendar": False}
    assert r.json()["limits_hours"] == HOURS
    again = await api.post("/api/categories", json=NEW, headers=admin)
    assert (again.status_code, again.json()["code"]) == (409, "code_taken")

    resident = (await sign_in(api, "resident")).headers
    body = report_body(demo_spot(demo_city), category="B0308")
    case = await api.post("/api/cases", json=body, headers=resident)
    assert case.status_code == 201, case.text
    filed = datetime.fromisoformat(case.json()["created_at"])
    due = datetime.fromisoformat(case.json()["due_at"])
    assert due == due_time(filed, timedelta(hours=4), WorkingCalendar())

    # Rename, move into another group, and put its time to accept on the wall clock.
    change = {
        "name": "垃圾桶满溢",
        "parent": "B05",
        "post": "leader",
        "limits": limits(True, accept={"normal": 3}),
    }
    r = await api.patch("/api/categories/B0308", json=change, headers=admin)
    assert r.status_code == 200, r.text
    got = (await tree(api))["B0308"]
    assert (got["name"], got["parent"], got["post"], got["department"]) == (
        "垃圾桶满溢",
        "B05",
        "leader",
        "cg",
    )
    assert got["limits"]["accept"] == {
        "urgent": {"hours": 1, "calendar": False},
        "high": {"hours": 2, "calendar": False},
        "normal": {"hours": 3, "calendar": True},
    }
    case = await api.post(
        "/api/cases", json=report_body(demo_spot(demo_city), category="B0308"), headers=resident
    )
    filed = datetime.fromisoformat(case.json()["created_at"])
    assert datetime.fromisoformat(case.json()["due_at"]) == filed + timedelta(hours=3)

    changed = await api.patch(
        "/api/categories/B0308",
        json={"limits": limits(True, close={"normal": 5}), "department": None},
        headers=admin,
    )
    assert changed.json()["limits"]["close"]["normal"] == {"hours": 5, "calendar": True}
    assert changed.json()["department"] is None


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("post", "", {**NEW, "parent": "0101"}, 422, "invalid_parent"),  # a leaf is no group
        ("post", "", {**NEW, "parent": "ZZ"}, 422, "invalid_parent"),
        ("post", "", {**NEW, "post": "mayor"}, 422, "unknown_post"),
        ("post", "", {**NEW, "department": "nasa"}, 422, "unknown_department"),
        ("post", "", {**NEW, "limits": limits(accept={"normal": 4})}, 422, "invalid_limits"),
        (
            "post",
            "",
            {**NEW, "limits": limits(accept={"x": 1}, close=HOURS)},
            422,
            "invalid_limits",
        ),
        (
            "post",
            "",
            {**NEW, "limits": limits(close={**HOURS, "normal": 0}, accept=HOURS)},
            422,
            "invalid_limits",
        ),
        (
            "post",
            "",
            {**NEW, "limits": limits(later=HOURS, accept=HOURS, close=HOURS)},
            422,
            "invalid_limits",
        ),
        ("post", "", {"code": "B07", "name": "新大类", "limits": limits()}, 422, "invalid_limits"),
        ("post", "", {**NEW, "code": "b-1"}, 422, "invalid_value"),
        ("patch", "/0101", {"parent": None}, 422, "invalid_parent"),  # a leaf stays a leaf
        ("patch", "/01", {"parent": "B01"}, 422, "invalid_parent"),  # a group stays a group
        ("patch", "/01", {"limits": limits()}, 422, "invalid_limits"),
        ("patch", "/NOPE", {"name": "x"}, 404, "not_found"),
        ("post", "/NOPE/retire", None, 404, "not_found"),
    ],
)
async def test_bad_changes_are_refused_and_change_nothing(api, method, path, body, status, code):
    admin = (await sign_in(api, "city_admin")).headers
    before = await tree(api)
    kwargs = {} if body is None else {"json": body}
    r = await getattr(api, method)(f"/api/categories{path}", headers=admin, **kwargs)
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert await tree(api) == before


async def test_a_retired_category_takes_no_new_case_and_old_ones_keep_it(
    api, demo_city, scratch_database
):
    admin = (await sign_in(api, "city_admin")).headers
    resident = (await sign_in(api, "resident")).headers
    leader = (await sign_in(api, "grid_leader")).headers
    old = await api.post("/api/cases", json=report_body(demo_spot(demo_city)), headers=resident)
    assert old.status_code == 201

    r = await api.post("/api/categories/15/retire", headers=admin)  # 市政设施 and its leaves
    assert (r.status_code, r.json()["retired"]) == (200, True)
    got = await tree(api)
    assert got["1501"]["retired"] and got["1502"]["retired"] and not got["1401"]["retired"]
    refused = await api.post("/api/cases", json=report_body(demo_spot(demo_city)), headers=resident)
    assert (refused.status_code, refused.json()["code"]) == (422, "retired_category")

    # The old case goes on: read, accepted on its category's limits.
    case = old.json()
    seen = await api.get(f"/api/cases/{case['id']}", headers=leader)
    assert seen.json()["category"] == "1501"
    accepted = await api.post(
        f"/api/cases/{case['id']}/transitions",
        json={"action": "accept", "version": seen.json()["version"]},
        headers=leader,
    )
    assert accepted.status_code == 200, accepted.text
    assert (await api.post("/api/categories/15/retire", headers=admin)).status_code == 200

    use_engine(scratch_database.engine)
    try:
        rows = await Event.select(Event.subject, Event.payload, Event.actor).where(
            Event.type == "category.changed"
        )
    finally:
        use_engine(api.app.state.engine)
    assert [(r["subject"], msgspec.json.decode(r["payload"])["change"]) for r in rows] == [
        ("category:15", "retired")
    ]
