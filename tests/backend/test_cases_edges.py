"""The edges of submitting and moving cases: the same send twice at once, malformed and
oversized input (a 4xx with a code, nothing written), and a point that no grid contains."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from typing import Any

import msgspec
import pytest
import shapely
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.auth.principal import principal_of
from backend.cases import service
from backend.cases.schemas import CaseIn, TransitionIn
from backend.cases.tables import Case
from backend.core.db import close_pool, open_pool
from backend.core.errors import ApiError
from backend.core.principal import Principal
from backend.events.tables import Event
from backend.grids.locator import load_grid_index
from backend.grids.tables import Grid
from backend.people.tables import Person
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE
from tests.backend.case_steps import COMMUNITY, Driver, demo_spot, report_body, sign_in

NEIGHBOUR = DEMO_GRID_CODE[:12] + "02"  # the next grid of the demo community


@pytest.fixture
async def driver(scratch_database):
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        roles = ("resident", "grid_leader", "grid_worker", "community_staff", "city_admin")
        yield Driver(client, {role: await sign_in(client, role) for role in roles})


async def cases_seen(driver: Driver) -> int:
    r = await driver.client.get("/api/case-list", headers=driver.sessions["city_admin"].headers)
    return r.json()["numberMatched"]


async def principal(role: str) -> Principal:
    row = await Person.select(Person.id).where(Person.phone == DEMO_ACCOUNTS[role]).first()
    found = await principal_of(row["id"])
    assert found is not None
    return found


async def at_once(engine, *calls: Awaitable[Any]) -> list[Any]:
    """Run ``calls`` concurrently, each on a connection of its own (the test client would
    serialise HTTP requests): results, or the ApiError each raised."""
    await open_pool(engine)
    try:
        return await asyncio.gather(*calls, return_exceptions=True)
    finally:
        await close_pool(engine)


async def test_the_same_create_sent_three_times_at_once_makes_one_case(scratch_database, demo_city):
    index = await load_grid_index()
    resident = await principal("resident")
    body = CaseIn(uuid.uuid4(), "request", "1501", "路灯不亮", *demo_spot(demo_city))
    results = await at_once(
        scratch_database.engine, *(service.create(body, resident, index) for _ in range(3))
    )
    assert all(isinstance(r, tuple) for r in results), results
    assert sorted(created for _, created in results) == [False, False, True]
    assert len({case.id for case, _ in results}) == 1
    assert await Case.count() == 1
    assert await Event.count().where(Event.type == "case.submit") == 1


async def test_two_managers_dispatching_one_case_at_once_one_wins(scratch_database, demo_city):
    index = await load_grid_index()
    resident, leader, staff, worker = [
        await principal(role)
        for role in ("resident", "grid_leader", "community_staff", "grid_worker")
    ]
    body = CaseIn(uuid.uuid4(), "request", "1501", "路灯不亮", *demo_spot(demo_city))
    case, _ = await service.create(body, resident, index)
    accepted = await service.act(case.id, TransitionIn("accept", case.version), leader)
    dispatch = TransitionIn("dispatch", version=accepted.version, assignee=worker.id)
    results = await at_once(
        scratch_database.engine, *(service.act(case.id, dispatch, who) for who in (leader, staff))
    )
    won = [r for r in results if not isinstance(r, Exception)]
    lost = [r for r in results if isinstance(r, ApiError)]
    assert len(won) == 1 and len(lost) == 1, results
    assert (lost[0].status, lost[0].code) in {(409, "stale_version"), (409, "conflict")}
    assert await Event.count().where(Event.type == "case.dispatch") == 1
    row = await Case.select(Case.version, Case.status).where(Case.id == case.id).first()
    assert row == {"version": accepted.version + 1, "status": "dispatched"}


BIG = b"{" + b" " * 10_000_001 + b"}"  # past the 10 MB any request body may have


async def test_malformed_or_oversized_creates_write_nothing(driver, demo_city):
    long = report_body(demo_spot(demo_city), description="灯" * 2001)
    text_lon = {**report_body(demo_spot(demo_city)), "lon": "east"}
    sends = {
        "not JSON": (b"{kind: request", 400, "malformed_body"),
        "not an object": (b"[]", 422, "invalid_type"),
        "a string for a number": (msgspec.json.encode(text_lon), 422, "invalid_type"),
        "a description too long": (msgspec.json.encode(long), 422, "invalid_value"),
        "too big": (BIG, 413, "body_too_large"),
    }
    headers = {**driver.sessions["resident"].headers, "content-type": "application/json"}
    answers, expected = {}, {}
    for name, (content, status, code) in sends.items():
        r = await driver.client.post("/api/cases", content=content, headers=headers)
        answers[name] = (r.status_code, r.json()["code"], bool(r.json()["reason"]))
        expected[name] = (status, code, True)
    assert answers == expected
    assert await cases_seen(driver) == 0


# (action, the status to try it in, who tries, the body) → the answer
BAD_TRANSITIONS = {
    ("reject", "submitted", "grid_leader", (("reason", "理" * 201),)): (422, "invalid_value"),
    ("reject", "submitted", "grid_leader", (("reason", 42),)): (422, "invalid_type"),
    ("reject", "submitted", "grid_leader", (("surprise", True),)): (422, "unknown_field"),
    ("accept", "submitted", "grid_leader", (("version", 2**70),)): (409, "stale_version"),
    ("request_extension", "handling", "grid_worker", (("extension_hours", 1e308),)): (
        422,
        "invalid_value",
    ),
    ("request_extension", "handling", "grid_worker", (("extension_hours", -2),)): (
        422,
        "invalid_value",
    ),
    (
        "request_shelve",
        "accepted",
        "grid_leader",
        (("reason", "x"), ("review_date", "2025-13-01")),
    ): (422, "invalid_value"),
    ("rate", "closed", "resident", (("rating", "five"),)): (422, "invalid_type"),
}


async def test_malformed_transitions_write_nothing(driver, demo_city):
    cases = {}
    for start in ("submitted", "accepted", "handling", "closed"):
        cases[start] = await driver.report(demo_spot(demo_city))
        await driver.drive(cases[start], start)
    before = {start: await driver.case(case_id) for start, case_id in cases.items()}
    answers = {}
    for key in BAD_TRANSITIONS:
        action, start, role, body = key
        r = await driver.act(role, cases[start], action, **dict(body))
        answers[key] = (r.status_code, r.json().get("code"))
    assert answers == BAD_TRANSITIONS
    assert {start: await driver.case(case_id) for start, case_id in cases.items()} == before


@pytest.fixture
async def gap(scratch_database, demo_city) -> tuple[float, float]:
    """A point where the neighbouring grid was, after an import shrank that grid to a corner:
    inside the demo community, in no grid. Made before the app starts and indexes the grids."""
    shape = demo_city.grids.set_index("code").loc[NEIGHBOUR].geometry
    min_x, min_y, _, _ = shape.bounds
    corner = shapely.box(min_x, min_y, min_x + 1e-4, min_y + 1e-4).intersection(shape)
    await Grid.update({Grid.geom: shapely.to_geojson(corner)}).where(Grid.code == NEIGHBOUR)
    spot = shapely.point_on_surface(shape.difference(corner.buffer(1e-4)))
    return spot.x, spot.y


# gap before driver: the grid shrinks before the app starts and indexes the grids.
async def test_a_point_in_no_grid_goes_to_the_smallest_area_around_it(gap, driver):
    r = await driver.client.post(
        "/api/cases", json=report_body(gap), headers=driver.sessions["resident"].headers
    )
    assert r.status_code == 201, r.text
    case = r.json()
    assert (case["grid_code"], case["owner_code"], case["level"]) == (None, COMMUNITY, "community")
    # The community's staff have it; the grid next door does not.
    seen = await driver.client.get(
        f"/api/cases/{case['id']}", headers=driver.sessions["community_staff"].headers
    )
    assert "accept" in seen.json()["actions"]
    r = await driver.client.get(
        f"/api/cases/{case['id']}", headers=driver.sessions["grid_leader"].headers
    )
    assert r.status_code == 404
    anonymous = report_body(gap)
    del anonymous["kind"]
    r = await driver.client.post("/api/anonymous/cases", json=anonymous)
    assert (r.status_code, r.json()["case"]["level"]) == (201, "community")


async def test_a_point_outside_the_city_is_refused_with_its_reason(driver):
    for lon, lat in [(116.39, 39.91), (106.0, 39.0)]:  # Beijing; the desert west of 乌海
        r = await driver.client.post(
            "/api/cases",
            json=report_body((lon, lat)),
            headers=driver.sessions["resident"].headers,
        )
        assert (r.status_code, r.json()["code"]) == (422, "outside_all_grids")
        assert "outside every area" in r.json()["reason"]
    assert await cases_seen(driver) == 0
