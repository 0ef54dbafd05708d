"""Every workflow action for every role, over HTTP: the answer matches the policy.

For each action a case is driven, through the API as a grid would, into a status where the
action applies; then each role tries it. Allowed roles get 200 (each on a case of its own, as
the action changes it); the others 403, or 404 when the case is not theirs to see, and the
case they tried is left exactly as it was. The same actions in a status that does not allow
them are 409. The whole matrix runs on SQLite; a representative part of it on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.cases.allowed import ALLOWED_FROM
from backend.cases.states import Action, Status
from backend.core.db import close_pool, use_engine
from tests.backend.case_steps import (
    COMMUNITY,
    PATHS,
    REVIEW,
    ROLES,
    Driver,
    add_department_officer,
    demo_spot,
    sign_in,
)
from tests.conftest import _database_copy

MANAGERS = {"grid_leader", "community_staff", "street_staff", "district_admin", "city_admin"}
ABOVE_THE_STREET = {"street_staff", "district_admin", "city_admin"}
EVERYONE = set(ROLES)
GRID_STAFF = {"grid_worker", "grid_police", "grid_leader"}
# Who can see each kind of case at all (the others get 404): a resident's request in the demo
# grid; an incident the grid worker found there; a case escalated to the street and
# dispatched to the district's 城管, which the grid and community where it happened still read.
SEES = {
    "request": EVERYONE - {"department"},
    "incident": EVERYONE - {"department", "resident"},
    "street": EVERYONE,
}


MAIN = "$main"  # stands for Matrix.main in a body


@dataclass(frozen=True)
class Cell:
    start: str  # the status of case_steps.PATHS the case is driven to, or "incident"
    body: dict[str, Any]
    allowed: set[str]
    to: Status  # the status an allowed action leaves
    photo: bool = False  # taken on the spot: each allowed role adds a photo first

    @property
    def kind(self) -> str:
        if self.start == "incident":
            return "incident"
        return "street" if self.start.startswith("department") else "request"


CELLS: dict[str, Cell] = {
    "accept": Cell("submitted", {}, MANAGERS, Status.accepted),
    "reject": Cell("submitted", {"reason": "不属实"}, MANAGERS, Status.rejected),
    "dispatch": Cell("accepted", {"assignee": "@grid_worker"}, MANAGERS, Status.dispatched),
    "start": Cell("dispatched", {}, {"grid_worker"}, Status.handling),
    "handle": Cell("handling", {"result": "已修复"}, {"grid_worker"}, Status.handled),
    "self_handle": Cell("incident", {"result": "当场处理"}, {"grid_worker"}, Status.handled),
    "verify": Cell("handled", {}, MANAGERS, Status.verified),
    "rework": Cell("handled", {"reason": "未修好"}, MANAGERS, Status.handling),
    "close": Cell("verified", {}, MANAGERS, Status.closed),
    "escalate": Cell("handling", {"reason": "需社区协调"}, MANAGERS, Status.accepted),
    "withdraw": Cell("submitted", {"reason": "已解决"}, {"resident"}, Status.withdrawn),
    "rate": Cell("closed", {"rating": 5, "comment": "满意"}, {"resident"}, Status.closed),
    "reopen": Cell("closed", {"reason": "又坏了"}, {"resident"}, Status.accepted),
    "request_return": Cell(
        "handling", {"reason": "不属于本网格"}, {"grid_worker"}, Status.handling
    ),
    "request_extension": Cell(
        "handling", {"extension_hours": 24, "reason": "等配件"}, {"grid_worker"}, Status.handling
    ),
    "approve_extension": Cell("extension", {}, MANAGERS, Status.handling),
    "refuse_extension": Cell("extension", {"reason": "不予延期"}, MANAGERS, Status.handling),
    "request_shelve": Cell(
        "accepted", {"reason": "需立项", "review_date": REVIEW}, MANAGERS, Status.accepted
    ),
    "unshelve": Cell("shelved", {}, MANAGERS, Status.accepted),
    "request_void": Cell("accepted", {"reason": "重复上报"}, MANAGERS, Status.accepted),
    # A void is approved above the grid that accepted the case, and not by its asker.
    "approve": Cell("void_requested", {}, MANAGERS - {"grid_leader"}, Status.voided),
    "refuse": Cell("return_requested", {"reason": "属于本网格"}, MANAGERS, Status.handling),
    # 催办: the reporter, or a level above the grid that owns it.
    "remind": Cell(
        "accepted",
        {"comment": "请尽快处理"},
        (MANAGERS - {"grid_leader"}) | {"resident"},
        Status.accepted,
    ),
    "supervise": Cell(
        "dispatched",
        {"reason": "群众反映强烈", "due_hours": 8},
        MANAGERS - {"grid_leader"},
        Status.dispatched,
    ),
    # Not by the worker who handled it.
    "verify_on_site": Cell(
        "handled", {"result": "现场已修复"}, GRID_STAFF - {"grid_worker"}, Status.handled, True
    ),
    # 移交 by the owner's managers, answered by the target's (the community).
    "transfer": Cell(
        "accepted",
        {"reason": "不属于本网格", "target_code": COMMUNITY},
        MANAGERS,
        Status.accepted,
    ),
    "accept_transfer": Cell("transfer_requested", {}, MANAGERS - {"grid_leader"}, Status.accepted),
    "refuse_transfer": Cell(
        "transfer_requested", {"reason": "属于该网格"}, MANAGERS - {"grid_leader"}, Status.accepted
    ),
    # 联办: the street that called the lead department in adds another.
    "add_department": Cell("department", {"department": "zj"}, ABOVE_THE_STREET, Status.dispatched),
    # 并案: into the module's main case (MAIN), which every manager covers.
    "merge": Cell("accepted", {"main_case": MAIN}, MANAGERS, Status.merged),
    # 挂起: asked by the handler or a manager; resumed by the managers.
    "pause": Cell("handling", {"reason": "等待配件"}, MANAGERS | {"grid_worker"}, Status.handling),
    "resume": Cell("paused", {}, MANAGERS, Status.handling),
}
# A department's own work, on a case dispatched to it, and a street's re-dispatch of it.
DEPARTMENT_CELLS: dict[str, Cell] = {
    "start": Cell("department", {}, {"department"}, Status.handling),
    "handle": Cell("department_handling", {"result": "已清理"}, {"department"}, Status.handled),
    "request_extension": Cell(
        "department_handling",
        {"extension_hours": 48, "reason": "需联合执法"},
        {"department"},
        Status.handling,
    ),
    "dispatch": Cell("department", {"department": "zj"}, ABOVE_THE_STREET, Status.dispatched),
    "request_return": Cell(
        "department", {"reason": "不属于本部门"}, {"department"}, Status.dispatched
    ),
    # Owned by the street now: the grid where it happened still verifies on the spot.
    "verify_on_site": Cell(
        "department_handling", {"result": "现场仍有垃圾"}, GRID_STAFF, Status.handling, True
    ),
}
ALL = [("grid", a) for a in CELLS] + [("department", a) for a in DEPARTMENT_CELLS]
# On PostgreSQL: one action of each kind of rule (manage, work, report, department).
POSTGRES = [
    ("grid", "accept"),
    ("grid", "handle"),
    ("grid", "self_handle"),
    ("grid", "rate"),
    ("grid", "approve_extension"),
    ("grid", "approve"),
    ("grid", "refuse"),
    ("department", "handle"),
    ("department", "request_return"),
    ("department", "verify_on_site"),
    ("grid", "remind"),
]


@dataclass
class Matrix:
    driver: Driver
    spot: tuple[float, float]
    main: int = 0  # an open case for merges

    def body(self, cell: Cell) -> dict[str, Any]:
        return {k: self.main if v == MAIN else v for k, v in cell.body.items()}

    async def new_case(self, start: str) -> int:
        if start == "incident":
            return await self.driver.report(self.spot, "grid_worker", kind="incident")
        case_id = await self.driver.report(self.spot)
        await self.driver.drive(case_id, start)
        return case_id


@pytest_asyncio.fixture(scope="module")
async def matrix(city_template, demo_city, tmp_path_factory) -> AsyncIterator[Matrix]:
    """One app on one copy of the demo city for the whole module, each role signed in once:
    every test makes cases of its own, so they never meet."""
    kind, template = city_template
    async with _database_copy(kind, template, tmp_path_factory.mktemp(f"matrix-{kind}")) as db:
        use_engine(db.engine)
        await add_department_officer()
        await close_pool(db.engine)
        async with AsyncTestClient(app=create_app(db.settings)) as client:
            sessions = {role: await sign_in(client, role) for role in ROLES}
            m = Matrix(Driver(client, sessions), demo_spot(demo_city))
            m.main = await m.new_case("submitted")
            yield m


@pytest.fixture(autouse=True)
def _bind_matrix_engine(request: pytest.FixtureRequest) -> None:
    if "matrix" in request.fixturenames:
        use_engine(request.getfixturevalue("matrix").driver.client.app.state.engine)


async def check_cell(m: Matrix, action: str, cell: Cell) -> None:
    # One case takes every refusal: a refused action changes nothing.
    refused_on = await m.new_case(cell.start)
    before = await m.driver.case(refused_on)
    answers: dict[str, int] = {}
    for role in ROLES:
        case_id = await m.new_case(cell.start) if role in cell.allowed else refused_on
        if cell.photo and role in cell.allowed:
            await m.driver.photo(role, case_id)
        r = await m.driver.act(role, case_id, action, **m.body(cell))
        answers[role] = r.status_code
        if r.status_code == 200:
            assert r.json()["status"] == cell.to, (role, r.text)
        else:
            assert r.json()["code"] in ("forbidden", "not_found"), (role, r.text)
    expected = {
        role: 200 if role in cell.allowed else 403 if role in SEES[cell.kind] else 404
        for role in ROLES
    }
    assert answers == expected, {r: (answers[r], expected[r]) for r in ROLES}
    assert await m.driver.case(refused_on) == before


def _cell(scenario: str, action: str) -> Cell:
    return (CELLS if scenario == "grid" else DEPARTMENT_CELLS)[action]


@pytest.mark.parametrize("city_template", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("scenario", "action"), ALL)
async def test_every_role_on_sqlite(matrix, scenario, action):
    await check_cell(matrix, action, _cell(scenario, action))


@pytest.mark.parametrize("city_template", ["postgres"], indirect=True)
@pytest.mark.parametrize(("scenario", "action"), POSTGRES)
async def test_every_role_on_postgres(matrix, scenario, action):
    await check_cell(matrix, action, _cell(scenario, action))


def test_the_matrix_covers_every_action():
    assert set(CELLS) == {a.value for a in Action}
    starts = {c.start for c in [*CELLS.values(), *DEPARTMENT_CELLS.values()]}
    assert starts <= {*PATHS, "incident"}


# Statuses to try every action that they do not allow, by a role that could in another one.
WRONG_STATUS = ["submitted", "accepted", "handled", "closed", "department_handling"]


@pytest.mark.parametrize("city_template", ["sqlite", "postgres"], indirect=True)
@pytest.mark.parametrize("start", WRONG_STATUS)
async def test_an_action_in_a_status_that_does_not_allow_it_is_a_409(matrix, start):
    case_id = await matrix.new_case(start)
    before = await matrix.driver.case(case_id)
    status = Status(before["status"])
    kind = "street" if start.startswith("department") else "request"
    answers = {}
    for action, cell in [*CELLS.items(), *DEPARTMENT_CELLS.items()]:
        may = sorted(cell.allowed & SEES[kind])
        if not may or status in ALLOWED_FROM[Action(action)]:
            continue
        r = await matrix.driver.act(may[0], case_id, action, **matrix.body(cell))
        answers[action] = (r.status_code, r.json()["code"])
    assert answers and set(answers.values()) == {(409, "invalid_transition")}, answers
    assert await matrix.driver.case(case_id) == before
