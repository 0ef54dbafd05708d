"""Managing people over HTTP: who may read and change whom (inside their area, no one above
their role), one-time passwords that must be changed and then no longer work, a deactivated
holder who leaves their post vacant and is signed out at once, grid posts, and the
``person.*`` events every change leaves in the log."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.demo import DEMO_PASSWORD
from backend.events.tables import Event
from backend.people.importer import import_people
from backend.people.roster import read_roster
from backend.people.tables import Person
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE
from tests.backend.case_steps import COMMUNITY, DISTRICT, STREET, Session, sign_in
from tests.backend.test_people_import import write_roster

MANAGERS = ("community_staff", "street_staff", "district_admin", "city_admin")
NOT_MANAGERS = ("resident", "grid_worker", "grid_police", "grid_leader")
# Another district's community: outside every demo account's area but the city admin's.
ELSEWHERE = "150303"
NEW_PASSWORD = "my-own-password-1"


@pytest.fixture
async def api(scratch_database) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        yield client


async def events(api: AsyncTestClient, prefix: str = "person.") -> list[dict[str, Any]]:
    """The log's events of a kind, read where the app runs (its own loop and pool)."""

    async def read() -> list[dict[str, Any]]:
        return await (
            Event.select(Event.type, Event.subject, Event.scope, Event.actor, Event.payload)
            .where(Event.type.like(f"{prefix}%"))
            .order_by(Event.id)
        )

    return await anyio.to_thread.run_sync(api.blocking_portal.call, read)


async def someone(api: AsyncTestClient, admin: Session, **filters: Any) -> dict[str, Any]:
    r = await api.get("/api/people", params={**filters, "limit": 1}, headers=admin.headers)
    assert r.status_code == 200, r.text
    return r.json()["items"][0]


def worker(name: str = "李兼职", phone: str = "13611112222", area: str = COMMUNITY) -> dict:
    return {"name": name, "phone": phone, "role": "grid_worker", "area": area}


async def test_who_may_read_whom(api):
    city = await sign_in(api, "city_admin")
    inside = await someone(api, city, area=COMMUNITY, role="grid_worker")
    outside = await someone(api, city, area=ELSEWHERE, role="grid_worker")
    street = await someone(api, city, area=STREET, role="street_staff")
    for role in MANAGERS:
        s = await sign_in(api, role)
        r = await api.get(f"/api/people/{inside['id']}", headers=s.headers)
        assert (r.status_code, r.json()["phone"]) == (200, inside["phone"]), role
        expected = 200 if role == "city_admin" else 404
        r = await api.get(f"/api/people/{outside['id']}", headers=s.headers)
        assert r.status_code == expected, (role, r.text)
        # A street's staff stand above a community's: not theirs to see.
        r = await api.get(f"/api/people/{street['id']}", headers=s.headers)
        assert r.status_code == (404 if role == "community_staff" else 200), role
        page = (await api.get("/api/people", params={"limit": 200}, headers=s.headers)).json()
        assert page["total"] >= len(page["items"]) > 0
        codes = {p["area"]["code"] for p in page["items"]}
        own = {
            "community_staff": COMMUNITY,
            "street_staff": STREET,
            "district_admin": DISTRICT,
            "city_admin": "15",
        }[role]
        assert all(c.startswith(own) for c in codes), role
    for role in NOT_MANAGERS:
        s = await sign_in(api, role)
        r = await api.get("/api/people", headers=s.headers)
        assert (r.status_code, r.json()["code"]) == (403, "forbidden"), role
        r = await api.get(f"/api/people/{inside['id']}", headers=s.headers)
        assert r.status_code == 403, role
    assert (await api.get("/api/people")).status_code == 401

    # Search by name or phone, filters by area, role, post and active; residents' phones masked.
    community = await sign_in(api, "community_staff")
    found = await api.get(
        "/api/people", params={"q": inside["phone"][-6:]}, headers=community.headers
    )
    assert inside["id"] in [p["id"] for p in found.json()["items"]]
    found = await api.get("/api/people", params={"q": inside["name"]}, headers=community.headers)
    assert inside["id"] in [p["id"] for p in found.json()["items"]]
    leaders = await api.get("/api/people", params={"post": "leader"}, headers=community.headers)
    assert leaders.json()["items"] and all(
        any(h["post"] == "leader" for h in p["posts"]) for p in leaders.json()["items"]
    )
    residents = await api.get("/api/people", params={"role": "resident"}, headers=community.headers)
    assert residents.json()["items"] and all(
        "****" in p["phone"] for p in residents.json()["items"]
    )
    r = await api.get("/api/people", params={"area": ELSEWHERE}, headers=community.headers)
    assert (r.status_code, r.json()["code"]) == (403, "outside_area")
    r = await api.get("/api/people", params={"role": "king"}, headers=community.headers)
    assert (r.status_code, r.json()["code"]) == (422, "unknown_role")
    r = await api.get("/api/people", params={"active": "false"}, headers=community.headers)
    assert r.json()["total"] == 0


async def test_each_manager_acts_inside_its_area_and_is_refused_outside(api):
    city = await sign_in(api, "city_admin")
    outside = await someone(api, city, area=ELSEWHERE, role="grid_worker")
    for i, role in enumerate(MANAGERS):
        s = await sign_in(api, role)
        body = worker(f"新人{i}", f"1361111000{i}")
        r = await api.post("/api/people", json=body, headers=s.headers)
        assert r.status_code == 201, (role, r.text)
        made = r.json()
        assert len(made["password"]) == 12 and made["person"]["must_change_password"]
        person = made["person"]["id"]
        r = await api.patch(f"/api/people/{person}", json={"name": "改名"}, headers=s.headers)
        assert (r.status_code, r.json()["name"]) == (200, "改名"), role
        # The one-time password is shown in that answer only.
        r = await api.get(f"/api/people/{person}", headers=s.headers)
        assert "password" not in r.json()
        for action, field, value in (
            ("password-reset", "password", None),
            ("deactivate", "active", False),
            ("reactivate", "active", True),
        ):
            r = await api.post(f"/api/people/{person}/{action}", headers=s.headers)
            assert r.status_code == 200, (role, action, r.text)
            assert value is None or r.json()[field] is value
        posts = f"/api/grids/{DEMO_GRID_CODE}/posts/parttime"
        r = await api.put(posts, json={"person": person}, headers=s.headers)
        assert r.status_code == 200, (role, r.text)
        r = await api.delete(posts, params={"person": person}, headers=s.headers)
        assert r.status_code == 200, (role, r.text)
        far = f"/api/grids/{outside['posts'][0]['grid_code']}/posts/parttime"
        r = await api.put(far, json={"person": outside["id"]}, headers=s.headers)
        if role == "city_admin":
            assert r.status_code == 200, r.text
        else:
            assert (r.status_code, r.json()["code"]) == (403, "outside_area"), role
        for verb, path, body in (
            ("patch", f"/api/people/{outside['id']}", {"name": "x"}),
            ("post", f"/api/people/{outside['id']}/deactivate", None),
            ("post", f"/api/people/{outside['id']}/reactivate", None),
            ("post", f"/api/people/{outside['id']}/password-reset", None),
        ):
            r = await api.request(verb, path, json=body, headers=s.headers)
            expected = (200, None) if role == "city_admin" else (403, "outside_area")
            assert (r.status_code, r.json().get("code")) == expected, (role, path, r.text)
        r = await api.patch("/api/people/99999999", json={"name": "x"}, headers=s.headers)
        assert r.status_code == 404
        r = await api.post("/api/people", json=worker(area=ELSEWHERE + "001001"), headers=s.headers)
        assert r.status_code == (201 if role == "city_admin" else 403), (role, r.text)
        if role == "city_admin":
            continue
        # Nobody gives a role above their own, nor raises anyone to it.
        higher = MANAGERS[i + 1]
        area = {"street_staff": STREET, "district_admin": DISTRICT, "city_admin": "150300"}
        body = {"name": "升职", "phone": "13622223333", "role": higher, "area": area[higher]}
        r = await api.post("/api/people", json=body, headers=s.headers)
        assert (r.status_code, r.json()["code"]) == (403, "role_above_own"), role
        r = await api.patch(f"/api/people/{person}", json={"role": higher}, headers=s.headers)
        assert (r.status_code, r.json()["code"]) == (403, "role_above_own"), role
        r = await api.post(f"/api/people/{s.person_id}/deactivate", headers=s.headers)
        assert (r.status_code, r.json()["code"]) == (403, "own_account"), role
    inside = await someone(api, city, area=COMMUNITY, role="grid_worker")
    for role in NOT_MANAGERS:
        s = await sign_in(api, role)
        r = await api.post("/api/people", json=worker(phone="13633334444"), headers=s.headers)
        assert r.status_code == 403, role
        for verb, path, body in (
            ("patch", f"/api/people/{inside['id']}", {"name": "x"}),
            ("post", f"/api/people/{inside['id']}/deactivate", None),
            ("post", f"/api/people/{inside['id']}/password-reset", None),
            ("put", f"/api/grids/{DEMO_GRID_CODE}/posts/parttime", {"person": inside["id"]}),
        ):
            r = await api.request(verb, path, json=body, headers=s.headers)
            assert (r.status_code, r.json()["code"]) == (403, "forbidden"), (role, path)

    community = await sign_in(api, "community_staff")
    r = await api.post("/api/people", json=worker(phone="13611110000"), headers=community.headers)
    assert (r.status_code, r.json()["code"]) == (409, "phone_taken")
    r = await api.post(
        "/api/people",
        json=worker(phone="13655556666") | {"area": STREET},
        headers=community.headers,
    )
    assert (r.status_code, r.json()["code"]) == (403, "outside_area")
    r = await api.post(
        "/api/people",
        json=worker(phone="13655556666") | {"role": "resident"},
        headers=community.headers,
    )
    assert (r.status_code, r.json()["code"]) == (422, "resident_signs_up")

    logged = await events(api)
    created = [e for e in logged if e["type"] == "person.created"]
    assert len(created) == 5 and created[0]["scope"] == COMMUNITY
    assert created[0]["actor"] == (await sign_in(api, "community_staff")).person_id
    assert [e["type"] for e in logged].count("person.updated") == 5  # four renames, one outside
    assert {"person.deactivated", "person.reactivated", "person.password_reset"} <= {
        e["type"] for e in logged
    }
    assert all(DEMO_ACCOUNTS["grid_worker"] not in str(e["payload"]) for e in logged)


async def test_a_one_time_password_must_be_changed_and_then_works_no_more(api):
    community = await sign_in(api, "community_staff")
    worker_session = await sign_in(api, "grid_worker")
    r = await api.post(
        f"/api/people/{worker_session.person_id}/password-reset", headers=community.headers
    )
    assert r.status_code == 200, r.text
    once = r.json()["password"]
    # Every token of the person is void at once, and the old password works no more.
    assert (await api.get("/api/me", headers=worker_session.headers)).status_code == 401
    phone = DEMO_ACCOUNTS["grid_worker"]
    r = await api.post("/api/auth/sign-in", json={"phone": phone, "password": DEMO_PASSWORD})
    assert r.status_code == 401
    r = await api.post("/api/auth/sign-in", json={"phone": phone, "password": once})
    assert (r.status_code, r.json()["must_change_password"]) == (200, True)
    headers = {"Authorization": f"Bearer {r.json()['token']}"}
    for path in ("/api/case-list", "/api/tasks", f"/api/people/{worker_session.person_id}"):
        r = await api.get(path, headers=headers)
        assert (r.status_code, r.json()["code"]) == (403, "password_change_required"), path
    assert (await api.get("/api/me", headers=headers)).status_code == 200
    body = {"old_password": once, "new_password": once}
    r = await api.post("/api/auth/password", json=body, headers=headers)
    assert (r.status_code, r.json()["code"]) == (422, "same_password")
    body = {"old_password": once, "new_password": NEW_PASSWORD}
    r = await api.post("/api/auth/password", json=body, headers=headers)
    assert (r.status_code, r.json()["must_change_password"]) == (200, False)
    fresh = {"Authorization": f"Bearer {r.json()['token']}"}
    assert (await api.get("/api/case-list", headers=fresh)).status_code == 200
    r = await api.post("/api/auth/sign-in", json={"phone": phone, "password": once})
    assert (r.status_code, r.json()["code"]) == (401, "bad_credentials")
    r = await api.post("/api/auth/sign-in", json={"phone": phone, "password": NEW_PASSWORD})
    assert (r.status_code, r.json()["must_change_password"]) == (200, False)

    logged = await events(api)
    assert [e["type"] for e in logged] == ["person.password_reset"]
    assert logged[0]["subject"] == f"person:{worker_session.person_id}"
    assert once not in str(logged[0]["payload"])


async def test_a_deactivated_holder_is_vacant_and_signed_out_at_once(api):
    community = await sign_in(api, "community_staff")
    holder = await sign_in(api, "grid_worker")  # the demo grid's full-time worker
    page = (await api.get(f"/api/grids/{DEMO_GRID_CODE}")).json()
    assert page["staffing"]["complete"]

    r = await api.post(f"/api/people/{holder.person_id}/deactivate", headers=community.headers)
    assert (r.status_code, r.json()["active"]) == (200, False)
    assert (await api.get("/api/me", headers=holder.headers)).status_code == 401
    body = {"phone": DEMO_ACCOUNTS["grid_worker"], "password": DEMO_PASSWORD}
    r = await api.post("/api/auth/sign-in", json=body)
    assert (r.status_code, r.json()["code"]) == (403, "account_disabled")
    assert "停用" in r.json()["reason"]
    page = (await api.get(f"/api/grids/{DEMO_GRID_CODE}")).json()
    assert page["staffing"] == {
        "complete": False,
        "missing": ["fulltime"],
        "missing_labels": ["专职网格员"],
    }
    shown = [p for p in page["posts"] if p["person"]["id"] == holder.person_id]
    assert [p["active"] for p in shown] == [False]
    incomplete = (await api.get("/api/grids/staffing", params={"complete": "false"})).json()
    assert DEMO_GRID_CODE in [g["code"] for g in incomplete]
    # Again: nothing changes, nothing is logged twice.
    r = await api.post(f"/api/people/{holder.person_id}/deactivate", headers=community.headers)
    assert r.status_code == 200

    r = await api.post(f"/api/people/{holder.person_id}/reactivate", headers=community.headers)
    assert (r.status_code, r.json()["active"]) == (200, True)
    assert (await api.post("/api/auth/sign-in", json=body)).status_code == 200
    assert (await api.get(f"/api/grids/{DEMO_GRID_CODE}")).json()["staffing"]["complete"]

    logged = await events(api)
    assert [e["type"] for e in logged] == ["person.deactivated", "person.reactivated"]
    assert {e["scope"] for e in logged} == {COMMUNITY}
    revoked = await events(api, "auth.revoked")
    assert [e["subject"] for e in revoked] == [f"person:{holder.person_id}"]


async def test_grid_posts_are_given_taken_and_refused_outside(api):
    community = await sign_in(api, "community_staff")
    r = await api.post("/api/people", json=worker(), headers=community.headers)
    new = r.json()["person"]["id"]
    url = f"/api/grids/{DEMO_GRID_CODE}/posts"
    r = await api.put(f"{url}/parttime", json={"person": new}, headers=community.headers)
    assert r.status_code == 200, r.text
    assert new in [p["person"]["id"] for p in r.json()["posts"] if p["post"] == "parttime"]
    # The full-time post has one holder: the new one takes it from the old.
    old = next(p["person"]["id"] for p in r.json()["posts"] if p["post"] == "fulltime")
    r = await api.put(f"{url}/fulltime", json={"person": new}, headers=community.headers)
    fulltime = [p["person"]["id"] for p in r.json()["posts"] if p["post"] == "fulltime"]
    assert fulltime == [new] and old != new
    r = await api.request(
        "DELETE", f"{url}/parttime", params={"person": new}, headers=community.headers
    )
    assert new not in [p["person"]["id"] for p in r.json()["posts"] if p["post"] == "parttime"]
    r = await api.delete(f"{url}/fulltime", headers=community.headers)
    assert (r.status_code, r.json()["staffing"]["missing"]) == (200, ["fulltime"])
    me = (await api.get(f"/api/people/{new}", headers=community.headers)).json()
    assert me["posts"] == []

    r = await api.put(f"{url}/leader", json={"person": new}, headers=community.headers)
    assert (r.status_code, r.json()["code"]) == (422, "post_role")
    r = await api.put(f"{url}/boss", json={"person": new}, headers=community.headers)
    assert (r.status_code, r.json()["code"]) == (422, "unknown_post")
    r = await api.put(
        "/api/grids/15039999999999/posts/parttime", json={"person": new}, headers=community.headers
    )
    assert r.status_code == 404
    city = await sign_in(api, "city_admin")
    far = (await api.get("/api/grids/staffing")).json()
    elsewhere = next(g["code"] for g in far if g["code"].startswith(ELSEWHERE))
    r = await api.put(
        f"/api/grids/{elsewhere}/posts/parttime", json={"person": new}, headers=community.headers
    )
    assert (r.status_code, r.json()["code"]) == (403, "outside_area")
    r = await api.put(
        f"/api/grids/{elsewhere}/posts/parttime", json={"person": new}, headers=city.headers
    )
    assert (r.status_code, r.json()["code"]) == (422, "outside_person_area")
    leader = await sign_in(api, "grid_leader")
    r = await api.put(f"{url}/parttime", json={"person": new}, headers=leader.headers)
    assert r.status_code == 403
    await api.post(f"/api/people/{new}/deactivate", headers=community.headers)
    r = await api.put(f"{url}/parttime", json={"person": new}, headers=community.headers)
    assert (r.status_code, r.json()["code"]) == (409, "inactive_person")

    logged = [e for e in await events(api) if "post" in e["type"]]
    assert [(e["type"], e["subject"]) for e in logged] == [
        ("person.post_assigned", f"person:{new}"),
        ("person.post_vacated", f"person:{old}"),
        ("person.post_assigned", f"person:{new}"),
        ("person.post_vacated", f"person:{new}"),
        ("person.post_vacated", f"person:{new}"),
    ]
    assert {e["scope"] for e in logged} == {DEMO_GRID_CODE}


async def test_odd_codes_are_refused_not_failed(api):
    city = await sign_in(api, "city_admin")
    for area in ("1503xyz", "150399", "15030200100101"):
        r = await api.post("/api/people", json=worker(area=area), headers=city.headers)
        assert r.status_code == 422, (area, r.text)
    r = await api.get("/api/people", params={"area": "1503xyz"}, headers=city.headers)
    assert (r.status_code, r.json()["code"]) == (422, "unknown_area")


async def test_department_membership_is_given_changed_and_refused_to_others(api):
    district = await sign_in(api, "district_admin")
    body = {"name": "城管队员", "phone": "13677778888", "role": "department", "area": DISTRICT}
    r = await api.post("/api/people", json=body, headers=district.headers)
    assert (r.status_code, r.json()["code"]) == (422, "department_required")
    r = await api.post("/api/people", json=body | {"department": "cg"}, headers=district.headers)
    assert (r.status_code, r.json()["person"]["department"]) == (201, "cg"), r.text
    officer = r.json()["person"]["id"]
    r = await api.patch(
        f"/api/people/{officer}", json={"department": "zj"}, headers=district.headers
    )
    assert (r.status_code, r.json()["department"]) == (200, "zj")
    r = await api.patch(
        f"/api/people/{officer}", json={"department": "nope"}, headers=district.headers
    )
    assert (r.status_code, r.json()["code"]) == (422, "unknown_department")
    # A grid worker has no department; moved to one, the officer gives theirs up with it.
    r = await api.patch(
        f"/api/people/{officer}",
        json={"role": "grid_worker", "area": COMMUNITY},
        headers=district.headers,
    )
    assert (r.status_code, r.json()["code"]) == (422, "not_department_staff")
    r = await api.patch(
        f"/api/people/{officer}",
        json={"role": "grid_worker", "area": COMMUNITY, "department": None},
        headers=district.headers,
    )
    assert (r.status_code, r.json()["role"], r.json()["department"]) == (
        200,
        "grid_worker",
        None,
    )
    # A community's staff do not hand out department posts: above their role.
    community = await sign_in(api, "community_staff")
    r = await api.post(
        "/api/people",
        json=body | {"phone": "13677779999", "department": "cg", "area": COMMUNITY},
        headers=community.headers,
    )
    assert (r.status_code, r.json()["code"]) == (403, "role_above_own")
    updated = [e for e in await events(api) if e["type"] == "person.updated"]
    payloads = [
        json.loads(e["payload"]) if isinstance(e["payload"], str) else e["payload"] for e in updated
    ]
    assert payloads[0] == {"person": officer, "changed": {"department": "zj"}}


async def test_a_person_of_no_area_is_the_city_admins_alone(api):
    async def add() -> int:
        person = Person(
            name="无区域", phone="13688889999", role="grid_worker", area=None, password_hash="x"
        )
        await person.save()
        return person.id

    lost = await anyio.to_thread.run_sync(api.blocking_portal.call, add)
    city, district = await sign_in(api, "city_admin"), await sign_in(api, "district_admin")
    found = await api.get("/api/people", params={"q": "无区域"}, headers=city.headers)
    assert [p["id"] for p in found.json()["items"]] == [lost]
    found = await api.get("/api/people", params={"q": "无区域"}, headers=district.headers)
    assert found.json()["items"] == []
    assert (await api.get(f"/api/people/{lost}", headers=district.headers)).status_code == 404
    assert (await api.get(f"/api/people/{lost}", headers=city.headers)).status_code == 200


async def test_a_roster_fills_a_post_whose_holder_is_off_duty(api, tmp_path):
    community = await sign_in(api, "community_staff")
    page = (await api.get(f"/api/grids/{DEMO_GRID_CODE}")).json()
    leader = next(p["person"]["id"] for p in page["posts"] if p["post"] == "leader")
    r = await api.post(f"/api/people/{leader}/deactivate", headers=community.headers)
    assert r.status_code == 200
    row = ("新网格长", "13699990000", "网格长", "", DEMO_GRID_CODE, "网格长", "", "是")
    roster = read_roster(write_roster(tmp_path / "staff.csv", [row]))
    result = await anyio.to_thread.run_sync(api.blocking_portal.call, import_people, roster)
    assert result.applied, result.problems
    page = (await api.get(f"/api/grids/{DEMO_GRID_CODE}")).json()
    assert [p["person"]["name"] for p in page["posts"] if p["post"] == "leader"] == ["新网格长"]
    assert page["staffing"]["complete"]
