"""Broadcast tasks (任务): one item per grid or building, sent once however often it is sent,
marked by the grid's own people (offline retries included), and counted by grid and building.
Both databases."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from PIL import Image

from backend.app import create_app
from backend.buildings.tables import Building
from backend.core.db import use_engine
from backend.demo import DEMO_PASSWORD
from backend.events.tables import Event
from backend.grids.tables import GridPost
from backend.tasks.tables import Broadcast, TaskItem, TaskPhoto
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE

COMMUNITY = DEMO_GRID_CODE[:12]
STREET = DEMO_GRID_CODE[:9]
RESULT = "已入户，无异常"


@pytest.fixture
async def api(scratch_database):
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        yield client


@pytest.fixture
def db(api, scratch_database):
    """Runs a query from the test's own loop through the test's engine: the app's PostgreSQL
    pool lives on the client's loop."""

    async def run(query):
        use_engine(scratch_database.engine)
        try:
            return await query
        finally:
            use_engine(api.app.state.engine)

    return run


async def sign_in(api, phone: str) -> dict[str, str]:
    r = await api.post("/api/auth/sign-in", json={"phone": phone, "password": DEMO_PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def as_role(api, role: str) -> dict[str, str]:
    return await sign_in(api, DEMO_ACCOUNTS[role])


async def holder_of(db, grid_code: str, post: str) -> str:
    """The phone of whoever holds ``post`` in a grid."""
    row = await db(
        GridPost.select(GridPost.person.phone)
        .where((GridPost.grid.code == grid_code) & (GridPost.post == post))
        .first()
    )
    return row["person.phone"]


def task(area: str = COMMUNITY, target: str = "building", **extra) -> dict:
    return {
        "client_id": str(uuid.uuid4()),
        "area_code": area,
        "target": target,
        "title": "防汛入户排查",
        "description": "逐户核实独居老人、低洼住户",
        **extra,
    }


async def buildings_in(db, prefix: str) -> int:
    return await db(Building.count().where(Building.grid.code.like(prefix + "%")))


async def events_of(db, kind: str) -> list[dict]:
    rows = await db(Event.select(Event.scope, Event.payload).where(Event.type == kind))
    return [{"scope": r["scope"], **msgspec.json.decode(r["payload"])} for r in rows]


async def items_of(api, headers, broadcast: int, **query) -> list[dict]:
    r = await api.get("/api/task-items", params={"broadcast": broadcast, **query}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def done(households: int | None = 3, **extra) -> dict:
    body = {"client_id": str(uuid.uuid4()), "result": RESULT, "households": households}
    return body | extra


async def test_a_broadcast_makes_one_item_per_building_and_resending_makes_none(api, db):
    staff = await as_role(api, "community_staff")
    n = await buildings_in(db, COMMUNITY)
    assert n > 0
    body = task()
    first = await api.post("/api/tasks", json=body, headers=staff)
    assert first.status_code == 201, first.text
    sent = first.json()
    assert (sent["items"], sent["done"], sent["open"], sent["area_code"]) == (n, 0, True, COMMUNITY)
    assert await db(TaskItem.count().where(TaskItem.broadcast == sent["id"])) == n
    assert await db(TaskItem.count().where(TaskItem.building_id.is_null())) == 0

    again = await api.post("/api/tasks", json=body, headers=staff)
    assert (again.status_code, again.json()["id"]) == (200, sent["id"])
    same_title = await api.post("/api/tasks", json=task(), headers=staff)  # a new client id
    assert (same_title.status_code, same_title.json()["id"]) == (200, sent["id"])
    admin = await as_role(api, "district_admin")
    r = await api.post("/api/tasks", json=body, headers=admin)  # someone else's client id
    assert (r.status_code, r.json()["code"]) == (409, "client_id_taken")
    assert await db(Broadcast.count()) == 1 and await db(TaskItem.count()) == n

    created = await events_of(db, "task.created")
    assert [(e["scope"], e["items"]) for e in created] == [(COMMUNITY, n)]
    assigned = await events_of(db, "task.assigned")
    grids = {r["grid_code"] for r in await db(TaskItem.select(TaskItem.grid_code))}
    assert {e["scope"] for e in assigned} == grids
    assert sum(e["items"] for e in assigned) == n

    other = await api.post("/api/tasks", json=task(title="独居老人走访"), headers=staff)
    assert other.status_code == 201 and other.json()["items"] == n


async def test_a_grid_broadcast_makes_one_item_per_grid(api, demo_city, db):
    street = await as_role(api, "street_staff")
    r = await api.post("/api/tasks", json=task(STREET, "grid"), headers=street)
    assert r.status_code == 201, r.text
    grids = sum(code.startswith(STREET) for code in demo_city.grids["code"])
    assert r.json()["items"] == grids
    rows = await db(TaskItem.select(TaskItem.grid_code, TaskItem.building_id))
    assert len({row["grid_code"] for row in rows}) == grids
    assert {row["building_id"] for row in rows} == {None}


async def test_a_worker_outside_the_area_cannot_mark_its_items(api, demo_city, db):
    staff = await as_role(api, "community_staff")
    sent = (await api.post("/api/tasks", json=task(), headers=staff)).json()
    worker = await as_role(api, "grid_worker")
    item = (await items_of(api, worker, sent["id"]))[0]
    outside_grid = next(c for c in sorted(demo_city.grids["code"]) if not c.startswith(COMMUNITY))
    stranger = await sign_in(api, await holder_of(db, outside_grid, "leader"))
    codes = sorted(demo_city.grids["code"])
    neighbour_grid = next(c for c in codes if c.startswith(COMMUNITY) and c != DEMO_GRID_CODE)
    neighbour = await sign_in(api, await holder_of(db, neighbour_grid, "fulltime"))
    for who in (stranger, neighbour, await as_role(api, "street_staff")):
        r = await api.post(f"/api/task-items/{item['id']}/done", json=done(), headers=who)
        assert (r.status_code, r.json()["code"]) == (403, "not_your_grid")
    r = await api.post(
        f"/api/task-items/{item['id']}/done", json=done(), headers=await as_role(api, "resident")
    )
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    assert await db(TaskItem.count().where(TaskItem.status == "done")) == 0
    assert await events_of(db, "task.item_done") == []
    assert await items_of(api, stranger, sent["id"]) == []


async def test_marking_done_is_idempotent_and_only_once(api, db):
    staff = await as_role(api, "community_staff")
    sent = (await api.post("/api/tasks", json=task(), headers=staff)).json()
    worker = await as_role(api, "grid_worker")
    first, second = (await items_of(api, worker, sent["id"]))[:2]
    body = done(households=12)
    url = f"/api/task-items/{first['id']}/done"
    r = await api.post(url, json=body, headers=worker)
    assert r.status_code == 200, r.text
    marked = r.json()
    assert (marked["status"], marked["households"], marked["result"]) == ("done", 12, RESULT)
    retry = await api.post(url, json=body, headers=worker)  # the phone never heard the answer
    assert (retry.status_code, retry.json()) == (200, marked)
    assert len(await events_of(db, "task.item_done")) == 1

    leader = await as_role(api, "grid_leader")
    r = await api.post(url, json=done(), headers=leader)
    assert (r.status_code, r.json()["code"]) == (409, "already_done")
    r = await api.post(f"/api/task-items/{second['id']}/done", json=body, headers=worker)
    assert (r.status_code, r.json()["code"]) == (409, "client_id_taken")
    # The grid's party secretary (here the community's first worker) holds a post in it.
    r = await api.post(f"/api/task-items/{second['id']}/done", json=done(0), headers=staff)
    assert r.status_code == 200 and r.json()["households"] == 0
    (event,) = [e for e in await events_of(db, "task.item_done") if e["item"] == first["id"]]
    assert (event["scope"], event["households"], event["broadcast"]) == (
        DEMO_GRID_CODE,
        12,
        sent["id"],
    )


async def test_completion_by_grid_and_building(api, db):
    staff = await as_role(api, "community_staff")
    sent = (await api.post("/api/tasks", json=task(), headers=staff)).json()
    worker = await as_role(api, "grid_worker")
    mine = await items_of(api, worker, sent["id"])
    assert len(mine) == await buildings_in(db, DEMO_GRID_CODE)
    reached = [5, 0, 17]
    for item, households in zip(mine, reached, strict=False):
        body = done(households)
        r = await api.post(f"/api/task-items/{item['id']}/done", json=body, headers=worker)
        assert r.status_code == 200, r.text

    whole = (await api.get(f"/api/tasks/{sent['id']}/completion", headers=staff)).json()
    assert (whole["items"], whole["done"], whole["households"]) == (sent["items"], 3, 22)
    by_grid = {g["grid_code"]: g for g in whole["grids"]}
    assert sum(g["items"] for g in by_grid.values()) == sent["items"]
    assert (by_grid[DEMO_GRID_CODE]["items"], by_grid[DEMO_GRID_CODE]["done"]) == (len(mine), 3)
    assert by_grid[DEMO_GRID_CODE]["households"] == 22
    assert all(g["done"] == 0 for code, g in by_grid.items() if code != DEMO_GRID_CODE)
    statuses = {b["item"]: b for b in whole["buildings"]}
    assert len(statuses) == sent["items"]
    assert [statuses[i["id"]]["status"] for i in mine[:4]] == ["done", "done", "done", "open"]
    assert statuses[mine[2]["id"]]["households"] == 17
    assert statuses[mine[0]["id"]]["building_code"] and statuses[mine[0]["id"]]["name"]
    assert (await api.get(f"/api/tasks/{sent['id']}", headers=staff)).json()["done"] == 3

    own = (await api.get(f"/api/tasks/{sent['id']}/completion", headers=worker)).json()
    assert [g["grid_code"] for g in own["grids"]] == [DEMO_GRID_CODE]
    assert (own["items"], own["done"], len(own["buildings"])) == (len(mine), 3, len(mine))

    r = await api.get(f"/api/tasks/{sent['id']}/items.geojson", headers=staff)
    assert r.headers["content-type"].startswith("application/geo+json")
    features = r.json()["features"]
    assert len(features) == sent["items"]
    assert sum(f["properties"]["status"] == "done" for f in features) == 3
    assert {f["geometry"]["type"] for f in features} <= {"Polygon", "MultiPolygon"}


async def test_the_last_item_done_frees_the_title_for_a_new_broadcast(api):
    staff = await as_role(api, "community_staff")
    body = task(DEMO_GRID_CODE, "grid")
    sent = (await api.post("/api/tasks", json=body, headers=staff)).json()
    assert sent["items"] == 1
    (item,) = await items_of(api, staff, sent["id"])
    await api.post(f"/api/task-items/{item['id']}/done", json=done(), headers=staff)
    assert (await api.get(f"/api/tasks/{sent['id']}", headers=staff)).json()["open"] is False
    again = await api.post("/api/tasks", json=task(DEMO_GRID_CODE, "grid"), headers=staff)
    assert again.status_code == 201 and again.json()["id"] != sent["id"]
    listed = (await api.get("/api/tasks?open=false", headers=staff)).json()
    assert [b["id"] for b in listed] == [sent["id"]]
    worker = await as_role(api, "grid_worker")
    assert [b["id"] for b in (await api.get("/api/tasks", headers=worker)).json()] == [
        again.json()["id"],
        sent["id"],
    ]


def jpeg(size: tuple[int, int] = (800, 600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "green").save(out, "JPEG")
    return out.getvalue()


async def test_a_photo_goes_with_the_item(api, demo_city, db):
    staff = await as_role(api, "community_staff")
    sent = (await api.post("/api/tasks", json=task(), headers=staff)).json()
    worker = await as_role(api, "grid_worker")
    item = (await items_of(api, worker, sent["id"]))[0]
    url = f"/api/task-items/{item['id']}/photos"
    form = {"client_id": str(uuid.uuid4())}
    files = {"file": ("门口.jpg", jpeg(), "image/jpeg")}
    r = await api.post(url, data=form, files=files, headers=worker)
    assert r.status_code == 201, r.text
    photo = r.json()
    again = await api.post(url, data=form, files=files, headers=worker)
    assert (again.status_code, again.json()["id"]) == (200, photo["id"])
    assert await db(TaskPhoto.count()) == 1

    broken = {"file": ("x.jpg", b"\xff\xd8\xff\xe0not a jpeg", "image/jpeg")}
    r = await api.post(url, files=broken, headers=worker)
    assert (r.status_code, r.json()["code"]) == (422, "broken_photo")
    outside_grid = next(c for c in sorted(demo_city.grids["code"]) if not c.startswith(COMMUNITY))
    stranger = await sign_in(api, await holder_of(db, outside_grid, "leader"))
    r = await api.post(url, files=files, headers=stranger)
    assert (r.status_code, r.json()["code"]) == (403, "not_your_grid")
    assert await db(TaskPhoto.count()) == 1

    body = done(photo_id=photo["id"])
    r = await api.post(f"/api/task-items/{item['id']}/done", json=body, headers=worker)
    marked = r.json()
    assert marked["photo_url"] == photo["url"]
    shown = await api.get(photo["url"], headers=staff)
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(shown.content)).size == (800, 600)
    assert (await api.get(photo["thumbnail_url"], headers=worker)).status_code == 200
    assert (await api.get(photo["url"], headers=stranger)).status_code == 404


@pytest.mark.parametrize(
    ("role", "change", "status", "code"),
    [
        ("community_staff", {"title": "  "}, 422, "missing_field"),
        ("community_staff", {"title": "长" * 129}, 422, "invalid_value"),
        ("community_staff", {"area_code": "150302001999"}, 422, "unknown_area"),
        ("community_staff", {"area_code": "楼"}, 422, "unknown_area"),
        ("community_staff", {"area_code": STREET}, 403, "outside_your_area"),
        ("community_staff", {"area_code": "150302001002"}, 403, "outside_your_area"),
        ("district_admin", {"area_code": "150303"}, 403, "outside_your_area"),
        ("community_staff", {"target": "floor"}, 422, "invalid_value"),
        ("community_staff", {"client_id": "not-a-uuid"}, 422, "invalid_value"),
        ("community_staff", {"due_at": "2020-01-01T00:00:00+08:00"}, 422, "invalid_due"),
        ("community_staff", {"due_at": "2099-01-01T00:00:00"}, 422, "invalid_due"),
        ("community_staff", {"due_at": "2099-01-01T00:00:00+08:00"}, 422, "invalid_due"),
        ("community_staff", {"due_at": "9999-12-31T23:59:59-12:00"}, 422, "invalid_due"),
        ("community_staff", {"surprise": 1}, 422, "unknown_field"),
        ("grid_leader", {}, 403, "forbidden"),
        ("resident", {}, 403, "forbidden"),
    ],
)
async def test_bad_broadcasts_are_refused_and_write_nothing(api, role, change, status, code, db):
    r = await api.post("/api/tasks", json={**task(), **change}, headers=await as_role(api, role))
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert await db(Broadcast.count()) == 0 and await db(TaskItem.count()) == 0
    assert await db(Event.count().where(Event.type.like("task.%"))) == 0


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"result": " "}, 422, "missing_field"),
        ({"households": -1}, 422, "invalid_households"),
        ({"households": 10**6}, 422, "invalid_households"),
        ({"households": "many"}, 422, "invalid_type"),
        ({"photo_id": 99}, 422, "unknown_photo"),
        ({"client_id": None}, 422, "invalid_type"),
        ({"extra": 1}, 422, "unknown_field"),
    ],
)
async def test_bad_marks_are_refused_and_write_nothing(api, change, status, code, db):
    staff = await as_role(api, "community_staff")
    sent = (await api.post("/api/tasks", json=task(), headers=staff)).json()
    worker = await as_role(api, "grid_worker")
    item = (await items_of(api, worker, sent["id"]))[0]
    r = await api.post(
        f"/api/task-items/{item['id']}/done", json={**done(), **change}, headers=worker
    )
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert await db(TaskItem.count().where(TaskItem.status == "done")) == 0
    assert await events_of(db, "task.item_done") == []
    r = await api.post("/api/task-items/999999/done", json=done(), headers=worker)
    assert (r.status_code, r.json()["code"]) == (404, "not_found")


async def test_a_due_time_is_kept(api):
    staff = await as_role(api, "community_staff")
    due = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    sent = await api.post("/api/tasks", json=task(due_at=due.isoformat()), headers=staff)
    assert datetime.fromisoformat(sent.json()["due_at"]) == due
    worker = await as_role(api, "grid_worker")
    item = (await items_of(api, worker, sent.json()["id"], status="open"))[0]
    assert datetime.fromisoformat(item["due_at"]) == due
    assert item["building_name"] and item["title"] == "防汛入户排查"
