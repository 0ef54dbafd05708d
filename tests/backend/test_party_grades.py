"""Grades and stars (三岗十八级, 比武争星), and the grid page's 双书记 and 红色物业."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.core.phones import masked_phone
from backend.demo import DEMO_PASSWORD
from backend.events.tables import Event
from backend.party.tables import BranchStar, WorkerGrade
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE

REQUIRED = ["leader", "police", "fulltime", "parttime"]


@pytest.fixture
async def api(scratch_database):
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        yield client


async def sign_in(client, role: str) -> dict[str, str]:
    r = await client.post(
        "/api/auth/sign-in", json={"phone": DEMO_ACCOUNTS[role], "password": DEMO_PASSWORD}
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def person_id(client, role: str) -> int:
    me = await client.get("/api/me", headers=await sign_in(client, role))
    return me.json()["id"]


async def rows(db, table, *where) -> list[dict]:
    bound, table._meta.db = table._meta.db, db.engine
    try:
        return await table.select().where(*where).order_by(table.id)
    finally:
        table._meta.db = bound


async def test_an_admin_grades_a_community_worker_and_both_pages_show_it(api, scratch_database):
    street = await sign_in(api, "street_staff")
    worker = await person_id(api, "grid_worker")
    r = await api.put(
        f"/api/party/grades/{worker}", json={"post": "其他", "grade": 9}, headers=street
    )
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in ("post", "post_label", "grade")} == {
        "post": "其他",
        "post_label": "其他社区工作者",
        "grade": 9,
    }
    # Setting it again replaces it: one row per person.
    r = await api.put(
        f"/api/party/grades/{worker}", json={"post": "副职", "grade": 12}, headers=street
    )
    assert r.json()["grade"] == 12
    assert [(g["post"], g["grade"]) for g in await rows(scratch_database, WorkerGrade)] == [
        ("副职", 12)
    ]
    me = (await api.get("/api/me", headers=await sign_in(api, "grid_worker"))).json()
    assert me["grade"] == {"post": "副职", "post_label": "社区副职（副书记、副主任）", "grade": 12}
    page = (await api.get(f"/api/grids/{DEMO_GRID_CODE}")).json()
    graded = {p["person"]["id"]: p["grade"] for p in page["posts"]}
    assert graded[worker]["grade"] == 12
    assert sum(g is not None for g in graded.values()) == 1
    listed = (
        await api.get("/api/party/grades", headers=await sign_in(api, "community_staff"))
    ).json()
    assert [(g["person_id"], g["grade"]) for g in listed] == [(worker, 12)]
    events = await rows(scratch_database, Event, Event.type == "party.grade_set")
    assert [e["subject"] for e in events] == [f"person:{worker}"] * 2


@pytest.mark.parametrize(
    ("setter", "target", "body", "status", "code"),
    [
        ("street_staff", "grid_worker", {"post": "正职", "grade": 6}, 422, "grade_out_of_range"),
        ("street_staff", "grid_worker", {"post": "其他", "grade": 13}, 422, "grade_out_of_range"),
        ("street_staff", "grid_worker", {"post": "书记", "grade": 9}, 422, "unknown_post"),
        ("street_staff", "resident", {"post": "其他", "grade": 3}, 422, "not_a_community_worker"),
        ("community_staff", "grid_worker", {"post": "其他", "grade": 3}, 403, "forbidden"),
        ("grid_leader", "grid_worker", {"post": "其他", "grade": 3}, 403, "forbidden"),
    ],
)
async def test_bad_grades_are_refused_and_write_nothing(
    api, scratch_database, setter, target, body, status, code
):
    who = await person_id(api, target)
    r = await api.put(f"/api/party/grades/{who}", json=body, headers=await sign_in(api, setter))
    assert (r.status_code, r.json()["code"]) == (status, code)
    assert await rows(scratch_database, WorkerGrade) == []


async def test_a_district_admin_grades_only_inside_the_district(api, demo_city):
    far = demo_city.people
    far = far[(far["role"] == "community_staff") & (far["area_code"].str[:6] != "150302")]
    admin = await sign_in(api, "district_admin")
    token = await api.post(
        "/api/auth/sign-in", json={"phone": far["phone"].iloc[0], "password": DEMO_PASSWORD}
    )
    other = token.json()["person"]["id"]
    r = await api.put(
        f"/api/party/grades/{other}", json={"post": "其他", "grade": 3}, headers=admin
    )
    assert (r.status_code, r.json()["code"]) == (403, "outside_area")
    assert (
        await api.put("/api/party/grades/999999", json={"post": "其他", "grade": 3}, headers=admin)
    ).status_code == 404


async def test_branch_stars_per_period_show_on_the_grid_page(api, scratch_database):
    street = await sign_in(api, "street_staff")
    url = f"/api/party/branch-stars/{DEMO_GRID_CODE}"
    r = await api.put(f"{url}/2026-05", json={"stars": 4, "title": "最强党支部"}, headers=street)
    assert r.status_code == 200, r.text
    await api.put(f"{url}/2026-04", json={"stars": 2}, headers=street)
    again = await api.put(
        f"{url}/2026-05", json={"stars": 5, "title": "最强党支部"}, headers=street
    )
    assert again.json()["stars"] == 5
    page = (await api.get(f"/api/grids/{DEMO_GRID_CODE}")).json()
    assert [(s["period"], s["stars"], s["title"]) for s in page["branch_stars"]] == [
        ("2026-05", 5, "最强党支部"),
        ("2026-04", 2, ""),
    ]
    listed = await api.get(
        "/api/party/branch-stars",
        params={"area": DEMO_GRID_CODE[:9], "period": "2026-05"},
        headers=street,
    )
    assert [(s["area_code"], s["stars"]) for s in listed.json()] == [(DEMO_GRID_CODE, 5)]
    for period, body, status, code in (
        ("2026-13", {"stars": 3}, 422, "invalid_period"),
        ("2026", {"stars": 6}, 422, "invalid_value"),
    ):
        r = await api.put(f"{url}/{period}", json=body, headers=street)
        assert (r.status_code, r.json()["code"]) == (status, code)
    r = await api.put(
        "/api/party/branch-stars/15030300100101/2026", json={"stars": 3}, headers=street
    )
    assert (r.status_code, r.json()["code"]) == (403, "outside_area")
    r = await api.put(
        "/api/party/branch-stars/15030200199901/2026", json={"stars": 3}, headers=street
    )
    assert r.status_code == 404
    r = await api.put(f"{url}/2026", json={"stars": 3}, headers=await sign_in(api, "grid_leader"))
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    assert len(await rows(scratch_database, BranchStar)) == 2


async def test_the_grid_page_shows_its_two_secretaries_and_its_red_property(client, demo_city):
    points = demo_city.service_points
    red = points[points["kind"] == "red_property"].iloc[0]
    grid = red["area_code"]
    page = (await client.get(f"/api/grids/{grid}")).json()
    posts = {p["post"]: p for p in page["posts"]}
    secretary = demo_city.posts[
        (demo_city.posts["grid_code"] == grid)
        & (demo_city.posts["post"] == "property_party_secretary")
    ]["phone"].item()
    assert posts["property_party_secretary"]["person"]["phone"] == masked_phone(secretary)
    assert posts["property_party_secretary"]["post_label"] == "物业党支部书记"
    assert posts["party_secretary"]["post_label"] == "网格党支部书记"
    assert [p["post"] for p in page["posts"]][-2:] == [
        "party_secretary",
        "property_party_secretary",
    ]
    assert [(r["code"], r["name"]) for r in page["red_properties"]] == [(red["code"], red["name"])]
    assert page["red_properties"][0]["lon"] == pytest.approx(red.geometry.x)


async def test_grids_without_the_new_posts_keep_their_staffing(client, demo_city):
    """The secretaries are optional: staffing flags exactly the grids short of a required post,
    whether or not a 红色物业 (and so a property secretary) serves them."""
    held = demo_city.posts.groupby("grid_code")["post"].apply(set)
    expected = {
        code: [p for p in REQUIRED if p not in held.get(code, set())]
        for code in demo_city.grids["code"]
    }
    listed = (await client.get("/api/grids/staffing")).json()
    assert {g["code"]: g["staffing"]["missing"] for g in listed} == expected
    with_secretary = set(
        demo_city.posts.loc[demo_city.posts["post"] == "property_party_secretary", "grid_code"]
    )
    complete = {g["code"] for g in listed if g["staffing"]["complete"]}
    assert complete - with_secretary, "grids without a property secretary stay complete"
    assert len(complete) > 0.9 * len(listed)
    plain = (await client.get(f"/api/grids/{DEMO_GRID_CODE}")).json()
    assert DEMO_GRID_CODE not in with_secretary and plain["staffing"]["complete"]
    assert plain["red_properties"] == [] and plain["branch_stars"] == []
