"""双报到 over HTTP: register, publish, claim, report, confirm; the unit report and its files."""

from __future__ import annotations

import asyncio
import csv
import io
import time
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.auth.tokens import TokenClaims, issue_token
from backend.events.tables import Event
from backend.party.tables import CommunityNeed, NeedClaim, PartyMember
from backend.people.tables import Person
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE

COMMUNITY = DEMO_GRID_CODE[:12]
STREET = DEMO_GRID_CODE[:9]
DISTRICT = DEMO_GRID_CODE[:6]
TAX, SCHOOL = "乌海市税务局", "乌海市第一中学"


@pytest.fixture
async def api(scratch_database):
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        yield client


async def sessions(db, phones: dict[str, str]) -> dict[str, dict[str, str]]:
    """Bearer headers for these phones, issued directly: signing in hashes each password
    (a quarter of a second), and sign-in is tested elsewhere."""
    wanted = Person.phone.is_in(list(phones.values()))
    found = {p["phone"]: p["id"] for p in await rows(db, Person, wanted)}
    expires = int(time.time()) + 3600

    def bearer(person: int) -> dict[str, str]:
        token = issue_token(TokenClaims(person, expires), db.settings.secret_key)
        return {"Authorization": f"Bearer {token}"}

    return {who: bearer(found[phone]) for who, phone in phones.items()}


def someone(demo_city, role: str, within: str = "", outside: str = "") -> str:
    """The phone of the first person of ``role`` whose area code starts with ``within`` and
    not with ``outside`` (demo accounts aside)."""
    people = demo_city.people
    mine = (people["role"] == role) & ~people["phone"].isin(list(DEMO_ACCOUNTS.values()))
    mine &= people["area_code"].str.startswith(within)
    if outside:
        mine &= ~people["area_code"].str.startswith(outside)
    return people.loc[mine, "phone"].iloc[0]


async def rows(db, table, *where) -> list[dict]:
    """Read with the test's own engine: the app's PostgreSQL pool lives on the client's loop."""
    bound, table._meta.db = table._meta.db, db.engine
    try:
        return await table.select().where(*where).order_by(table.id)
    finally:
        table._meta.db = bound


# Filled in by the test from the demo city: a point in a street other than COMMUNITY's.
OTHER_STREET = {"lon": "other street", "lat": "other street"}


def need_body(start: timedelta, length: timedelta, capacity: int = 5, **extra) -> dict:
    now = datetime.now(UTC)
    return {
        "client_id": str(uuid.uuid4()),
        "community_code": COMMUNITY,
        "kind": "volunteer",
        "title": "清理楼道杂物",
        "place": "团结社区3号楼",
        "lon": 106.82,
        "lat": 39.68,
        "starts_at": (now + start).isoformat(),
        "ends_at": (now + start + length).isoformat(),
        "capacity": capacity,
        **extra,
    }


@pytest.fixture
def outsider_home(demo_city) -> str:
    """The community the outsider lives in, in another district."""
    people = demo_city.people.set_index("phone")
    return people.loc[someone(demo_city, "resident", outside=DISTRICT), "area_code"]


@pytest.fixture
async def people(scratch_database, demo_city) -> dict[str, dict[str, str]]:
    """Signed-in sessions: the demo accounts, a neighbour in the same community, an outsider
    in another district, and the staff of another street of the same district."""
    phones = {role: DEMO_ACCOUNTS[role] for role in DEMO_ACCOUNTS}
    phones["neighbour"] = someone(demo_city, "resident", within=COMMUNITY)
    phones["outsider"] = someone(demo_city, "resident", outside=DISTRICT)
    phones["far_street"] = someone(demo_city, "street_staff", within=DISTRICT, outside=STREET)
    return await sessions(scratch_database, phones)


async def register(api, headers, unit: str, community: str = COMMUNITY):
    return await api.put(
        "/api/party/me", json={"work_unit": unit, "home_community": community}, headers=headers
    )


async def publish(api, headers, body: dict) -> dict:
    r = await api.post("/api/party/needs", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


async def claim(api, headers, need: dict):
    return await api.post(f"/api/party/needs/{need['id']}/claims", headers=headers)


async def test_a_member_registers_once_and_may_change_unit_and_community(api, people, database):
    first = await register(api, people["resident"], f"  {TAX} ")
    assert first.status_code == 201, first.text
    member = first.json()
    assert member["work_unit"] == TAX
    assert member["home_community"]["code"] == COMMUNITY
    assert member["home_community"]["name"] == "团结社区"
    again = await register(api, people["resident"], SCHOOL)
    assert again.status_code == 200 and again.json()["id"] == member["id"]
    assert (await api.get("/api/party/me", headers=people["resident"])).json()[
        "work_unit"
    ] == SCHOOL
    r = await api.get("/api/party/me", headers=people["neighbour"])
    assert (r.status_code, r.json()["code"]) == (404, "not_registered")


@pytest.mark.parametrize(
    ("community", "code"),
    [("150302001", "not_a_community"), ("150302999999", "unknown_community")],
)
async def test_members_register_with_a_community_or_village_only(
    api, people, scratch_database, community, code
):
    r = await register(api, people["resident"], TAX, community)
    assert (r.status_code, r.json()["code"]) == (422, code)
    assert await rows(scratch_database, PartyMember) == []


async def test_publishing_is_for_the_community_and_its_street(api, people, scratch_database):
    body = need_body(timedelta(hours=1), timedelta(hours=2))
    made = await api.post("/api/party/needs", json=body, headers=people["community_staff"])
    assert made.status_code == 201, made.text
    need = made.json()
    assert (need["claimed"], need["capacity"], need["hours_max"]) == (0, 5, 2.0)
    assert need["kind_label"] == "志愿服务" and need["claims"] == []
    retried = await api.post("/api/party/needs", json=body, headers=people["community_staff"])
    assert retried.status_code == 200 and retried.json()["id"] == need["id"]
    by_street = await api.post(
        "/api/party/needs",
        json=need_body(timedelta(hours=1), timedelta(hours=2), kind="wish"),
        headers=people["street_staff"],
    )
    assert by_street.status_code == 201
    refused = {
        "resident": (403, "forbidden"),
        "grid_leader": (403, "forbidden"),
        "far_street": (403, "outside_area"),
    }
    for who, expected in refused.items():
        r = await api.post(
            "/api/party/needs",
            json=need_body(timedelta(hours=1), timedelta(hours=2)),
            headers=people[who],
        )
        assert (r.status_code, r.json()["code"]) == expected, who
    assert len(await rows(scratch_database, CommunityNeed)) == 2


@pytest.mark.parametrize(
    ("start", "length", "extra", "status", "code"),
    [
        (timedelta(hours=1), timedelta(0), {}, 422, "bad_window"),
        (timedelta(hours=-5), timedelta(hours=2), {}, 422, "need_in_past"),
        (timedelta(hours=1), timedelta(days=400), {}, 422, "bad_window"),
        (timedelta(days=400), timedelta(hours=1), {}, 422, "bad_window"),
        (timedelta(hours=1), timedelta(hours=1), {"capacity": 0}, 422, "invalid_value"),
        (timedelta(hours=1), timedelta(hours=1), {"kind": "party"}, 422, "invalid_value"),
        (timedelta(hours=1), timedelta(hours=1), {"lat": 95}, 422, "invalid_coordinate"),
        (timedelta(hours=1), timedelta(hours=1), {"lon": 0, "lat": 0}, 422, "outside_all_grids"),
        # In the city, but in 海勃湾区's other street: not where the community's members live.
        (timedelta(hours=1), timedelta(hours=1), OTHER_STREET, 422, "place_outside_street"),
        (timedelta(hours=1), timedelta(hours=1), {"community_code": "150303"}, 422, None),
        (timedelta(hours=1), timedelta(hours=1), {"title": "   "}, 422, "empty_title"),
        (
            timedelta(hours=1),
            timedelta(hours=1),
            {"starts_at": "2030-05-01T09:00:00"},  # no offset: which 9 o'clock?
            422,
            "invalid_value",
        ),
    ],
)
async def test_bad_needs_are_refused_and_write_nothing(
    api, people, scratch_database, demo_city, start, length, extra, status, code
):
    if extra is OTHER_STREET:
        areas = demo_city.areas
        streets = areas[(areas["code"].str.len() == 9) & (areas["code"] != COMMUNITY[:9])]
        spot = streets.geometry.iloc[0].representative_point()
        extra = {"lon": spot.x, "lat": spot.y}
    r = await api.post(
        "/api/party/needs", json=need_body(start, length, **extra), headers=people["street_staff"]
    )
    assert r.status_code == status, r.text
    assert code is None or r.json()["code"] == code
    assert await rows(scratch_database, CommunityNeed) == []
    assert await rows(scratch_database, Event, Event.type.like("party.%")) == []


async def test_claims_respect_capacity_duplicates_and_the_home_community(
    api, people, scratch_database, outsider_home
):
    need = await publish(
        api, people["community_staff"], need_body(timedelta(hours=2), timedelta(hours=3), 2)
    )
    r = await claim(api, people["resident"], need)
    assert (r.status_code, r.json()["code"]) == (404, "not_registered")
    for who in ("resident", "neighbour", "grid_worker"):
        assert (await register(api, people[who], TAX)).status_code == 201
    assert (await register(api, people["outsider"], TAX, outsider_home)).status_code == 201
    outsider = await claim(api, people["outsider"], need)
    assert (outsider.status_code, outsider.json()["code"]) == (403, "not_registered_here")
    first = await claim(api, people["resident"], need)
    assert first.status_code == 201, first.text
    assert (first.json()["status"], first.json()["status_label"]) == ("claimed", "已认领")
    # Sent again (a phone that lost the answer): the same claim, and no second place taken.
    twice = await claim(api, people["resident"], need)
    assert (twice.status_code, twice.json()) == (200, first.json())
    assert (await claim(api, people["neighbour"], need)).status_code == 201
    full = await claim(api, people["grid_worker"], need)
    assert (full.status_code, full.json()["code"]) == (409, "need_full")
    stored = await rows(scratch_database, CommunityNeed)
    assert stored[0]["claimed"] == 2
    assert len(await rows(scratch_database, NeedClaim)) == 2

    seen = (await api.get(f"/api/party/needs/{need['id']}", headers=people["resident"])).json()
    assert seen["claims"] is None and seen["mine"]["id"] == first.json()["id"]
    staff = (await api.get(f"/api/party/needs/{need['id']}", headers=people["street_staff"])).json()
    assert sorted(c["work_unit"] for c in staff["claims"]) == [TAX, TAX]

    # A place given back before the start is free again.
    assert (
        await api.delete(f"/api/party/claims/{first.json()['id']}", headers=people["neighbour"])
    ).status_code == 403
    gone = await api.delete(f"/api/party/claims/{first.json()['id']}", headers=people["resident"])
    assert gone.status_code == 204
    assert (await claim(api, people["grid_worker"], need)).status_code == 201
    types = [e["type"] for e in await rows(scratch_database, Event, Event.type.like("party.%"))]
    assert types.count("party.need_claimed") == 3 and types.count("party.claim_withdrawn") == 1


async def test_hours_are_reported_after_the_start_within_the_window_and_confirmed_once(
    api, people, scratch_database
):
    staff = people["community_staff"]
    later = await publish(api, staff, need_body(timedelta(hours=5), timedelta(hours=2)))
    running = await publish(api, staff, need_body(timedelta(hours=-1), timedelta(hours=3)))
    await register(api, people["resident"], TAX)
    early = (await claim(api, people["resident"], later)).json()
    r = await api.post(
        f"/api/party/claims/{early['id']}/report", json={"hours": 1}, headers=people["resident"]
    )
    assert (r.status_code, r.json()["code"]) == (409, "not_started")
    mine = (await claim(api, people["resident"], running)).json()
    url = f"/api/party/claims/{mine['id']}"
    for hours in (0, -1, 3.01):
        r = await api.post(f"{url}/report", json={"hours": hours}, headers=people["resident"])
        assert (r.status_code, r.json()["code"]) == (422, "bad_hours"), hours
    r = await api.post(f"{url}/report", json={"hours": 2}, headers=people["neighbour"])
    assert (r.status_code, r.json()["code"]) == (403, "not_your_claim")
    r = await api.post(f"{url}/confirm", headers=staff)
    assert (r.status_code, r.json()["code"]) == (409, "not_reported")

    reported = await api.post(
        f"{url}/report", json={"hours": 2, "note": "扫了三层"}, headers=people["resident"]
    )
    assert reported.status_code == 200 and reported.json()["status"] == "reported"
    refused = await api.post(f"{url}/refuse", json={"reason": "只到了一个小时"}, headers=staff)
    assert refused.json()["status"] == "refused"
    again = await api.post(f"{url}/report", json={"hours": 1}, headers=people["resident"])
    assert again.json()["status"] == "reported"
    for who, expected in (
        ("resident", (403, "own_hours")),
        ("grid_leader", (403, "forbidden")),
        ("far_street", (403, "outside_area")),
    ):
        r = await api.post(f"{url}/confirm", headers=people[who])
        assert (r.status_code, r.json()["code"]) == expected, who
    done = await api.post(f"{url}/confirm", headers=people["street_staff"])
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["hours"]) == ("confirmed", 1.0)
    r = await api.post(f"{url}/confirm", headers=staff)
    assert (r.status_code, r.json()["code"]) == (409, "not_reported")
    r = await api.post(f"{url}/report", json={"hours": 2}, headers=people["resident"])
    assert (r.status_code, r.json()["code"]) == (409, "already_confirmed")
    r = await api.delete(url, headers=people["resident"])
    assert (r.status_code, r.json()["code"]) == (409, "cannot_withdraw")
    me = (await api.get("/api/party/me", headers=people["resident"])).json()
    assert (me["confirmed_hours"], me["services"]) == (1.0, 1)
    events = await rows(scratch_database, Event, Event.subject == f"claim:{mine['id']}")
    assert [e["type"] for e in events] == [
        "party.need_claimed",
        "party.hours_reported",
        "party.hours_refused",
        "party.hours_reported",
        "party.hours_confirmed",
    ]
    assert {e["scope"] for e in events} == {COMMUNITY}


async def test_a_community_worker_who_is_a_member_cannot_confirm_their_own_hours(
    api, people, scratch_database
):
    staff = people["community_staff"]
    need = await publish(api, staff, need_body(timedelta(hours=-1), timedelta(hours=2)))
    await register(api, staff, TAX)
    mine = (await claim(api, staff, need)).json()
    url = f"/api/party/claims/{mine['id']}"
    await api.post(f"{url}/report", json={"hours": 1.5}, headers=staff)
    for action, body in (("confirm", None), ("refuse", {"reason": "自己的"})):
        r = await api.post(f"{url}/{action}", json=body, headers=staff)
        assert (r.status_code, r.json()["code"]) == (403, "own_hours")
    claims = await rows(scratch_database, NeedClaim)
    assert [(c["status"], c["confirmed_by"]) for c in claims] == [("reported", None)]
    assert (await api.post(f"{url}/confirm", headers=people["street_staff"])).status_code == 200


async def serve(api, people, need: dict, who: str, hours: float, reviewer: str = "street_staff"):
    c = (await claim(api, people[who], need)).json()
    url = f"/api/party/claims/{c['id']}"
    r = await api.post(f"{url}/report", json={"hours": hours}, headers=people[who])
    assert r.status_code == 200, r.text
    if reviewer:
        assert (await api.post(f"{url}/confirm", headers=people[reviewer])).status_code == 200


@pytest.fixture
async def served(api, people, outsider_home) -> dict[str, str]:
    """A hand-made month: who served what, with the figures worked out in the tests below.

    Unit 税务局: resident 2.5 + 3 h confirmed (2 services), plus a need that started 10 days
    ago (1 h, outside a 3-day period); grid worker 1 h refused; community worker 1.5 h not yet
    confirmed. Unit 一中: neighbour 4 h confirmed.
    """
    staff = people["community_staff"]
    for who, unit in (("resident", TAX), ("grid_worker", TAX), ("community_staff", TAX)):
        await register(api, people[who], unit)
    await register(api, people["neighbour"], SCHOOL)
    await register(api, people["outsider"], TAX, outsider_home)
    n1 = await publish(api, staff, need_body(timedelta(hours=-1), timedelta(hours=3)))
    n2 = await publish(
        api, staff, need_body(timedelta(minutes=-30), timedelta(hours=4), kind="wish")
    )
    old = await publish(api, staff, need_body(timedelta(days=-10), timedelta(days=11)))
    await serve(api, people, n1, "resident", 2.5, reviewer="community_staff")
    await serve(api, people, n2, "resident", 3)
    await serve(api, people, old, "resident", 1)
    await serve(api, people, n2, "neighbour", 4)
    await serve(api, people, n2, "community_staff", 1.5, reviewer="")
    c = (await claim(api, people["grid_worker"], n1)).json()
    await api.post(
        f"/api/party/claims/{c['id']}/report", json={"hours": 1}, headers=people["grid_worker"]
    )
    r = await api.post(
        f"/api/party/claims/{c['id']}/refuse", json={"reason": "未到场"}, headers=staff
    )
    assert r.status_code == 200
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return {
        "from": (today - timedelta(days=2)).isoformat(),
        "to": (today + timedelta(days=1)).isoformat(),
    }


def figures(report: dict) -> dict[str, tuple[int, float]]:
    return {row["name"]: (row["services"], row["hours"]) for row in report["rows"]}


async def test_the_unit_report_lists_each_member_with_confirmed_hours(
    api, people, served, demo_city
):
    names = demo_city.people.set_index("phone")["name"]
    name = {
        who: names[p]
        for who, p in (
            ("resident", DEMO_ACCOUNTS["resident"]),
            ("grid_worker", DEMO_ACCOUNTS["grid_worker"]),
            ("community_staff", DEMO_ACCOUNTS["community_staff"]),
        )
    }
    r = await api.get(
        "/api/party/report", params={"unit": TAX, **served}, headers=people["community_staff"]
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["unit"], report["date_from"], report["date_to"]) == (
        TAX,
        served["from"],
        served["to"],
    )
    assert figures(report) == {
        name["resident"]: (2, 5.5),
        name["grid_worker"]: (0, 0.0),
        name["community_staff"]: (0, 0.0),
    }
    assert (report["members"], report["services"], report["hours"]) == (3, 2, 5.5)
    assert report["rows"][0]["name"] == name["resident"]  # most hours first

    twelve = (datetime.now(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=12)).isoformat()
    longer = await api.get(
        "/api/party/report",
        params={"unit": TAX, "from": twelve, "to": served["to"]},
        headers=people["street_staff"],
    )
    assert figures(longer.json())[name["resident"]] == (3, 6.5)  # the need of 10 days ago
    everything = await api.get(
        "/api/party/report",
        params={"from": "2000-01-01", "to": served["to"]},
        headers=people["city_admin"],
    )
    assert everything.json()["hours"] == 5.5 + 1 + 4
    assert everything.json()["members"] == 5  # the outsider of another district too, with 0 h
    school = await api.get(
        "/api/party/report", params={"unit": SCHOOL, **served}, headers=people["street_staff"]
    )
    assert (school.json()["members"], school.json()["hours"]) == (1, 4.0)
    past = await api.get(
        "/api/party/report",
        params={"unit": TAX, "from": "2020-01-01", "to": "2020-01-31"},
        headers=people["district_admin"],
    )
    assert (past.json()["members"], past.json()["hours"]) == (3, 0.0)
    units = (await api.get("/api/party/units", headers=people["community_staff"])).json()
    assert {u["work_unit"]: u["members"] for u in units} == {TAX: 3, SCHOOL: 1}


@pytest.mark.parametrize(
    ("who", "params", "status", "code"),
    [
        ("resident", {}, 403, "forbidden"),
        ("grid_worker", {}, 403, "forbidden"),
        ("community_staff", {"area": "150303"}, 403, "outside_area"),
        ("community_staff", {"from": "2026-02-30"}, 422, "invalid_date"),
        ("community_staff", {"from": "2026-05-02", "to": "2026-05-01"}, 422, "bad_period"),
    ],
)
async def test_the_unit_report_is_for_the_centres_and_admins(
    api, people, who, params, status, code
):
    r = await api.get("/api/party/report", params=params, headers=people[who])
    assert (r.status_code, r.json()["code"]) == (status, code)


async def test_csv_and_xlsx_hold_the_figures_of_the_api(api, people, served):
    params = {"unit": TAX, **served}
    headers = people["street_staff"]
    report = (await api.get("/api/party/report", params=params, headers=headers)).json()
    expected = [
        [
            row["work_unit"],
            row["member_id"],
            row["name"],
            row["community_code"],
            row["community_name"],
            row["services"],
            row["hours"],
        ]
        for row in report["rows"]
    ]
    r = await api.get("/api/party/report.csv", params=params, headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert lines[0] == [
        "work_unit",
        "member_id",
        "name",
        "community_code",
        "community_name",
        "services",
        "hours",
    ]
    assert [[a, int(b), c, d, e, int(f), float(g)] for a, b, c, d, e, f, g in lines[1:]] == expected

    r = await api.get("/api/party/report.xlsx", params=params, headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
    assert book.sheetnames == ["双报告", "说明"]
    sheet = [list(row) for row in book["双报告"].iter_rows(values_only=True)]
    assert sheet[0][0] == "工作单位" and sheet[0][-1] == "确认服务时长（小时）"
    assert sheet[1:-1] == expected
    assert sheet[-1][0] == "合计"
    assert (sheet[-1][5], sheet[-1][6]) == (report["services"], report["hours"]) == (2, 5.5)
    about = {row[0]: row[1] for row in book["说明"].iter_rows(values_only=True)}
    assert (about["工作单位"], about["起始日期"]) == (TAX, served["from"])
    refused = await api.get("/api/party/report.xlsx", params=params, headers=people["resident"])
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")


async def test_members_and_needs_are_listed_for_their_area(api, people, served):
    listed = await api.get("/api/party/members", headers=people["community_staff"])
    assert {m["work_unit"] for m in listed.json()} == {TAX, SCHOOL}
    assert len(listed.json()) == 4
    city = await api.get("/api/party/members", params={"unit": TAX}, headers=people["city_admin"])
    assert len(city.json()) == 4  # three here and the outsider
    needs = (await api.get("/api/party/needs", headers=people["resident"])).json()
    assert [n["community"]["code"] for n in needs] == [COMMUNITY] * 3
    assert all(n["mine"] is not None for n in needs)
    wishes = await api.get("/api/party/needs", params={"kind": "wish"}, headers=people["outsider"])
    assert wishes.json() == []  # the outsider's own community has none
    here = await api.get(
        "/api/party/needs", params={"area": STREET, "kind": "wish"}, headers=people["outsider"]
    )
    assert [n["kind"] for n in here.json()] == ["wish"]
    mine = (await api.get("/api/party/me/claims", headers=people["resident"])).json()
    assert sorted(c["status"] for c in mine) == ["confirmed"] * 3


async def test_concurrent_claims_never_take_more_places_than_there_are(
    api, people, scratch_database
):
    need = await publish(
        api, people["community_staff"], need_body(timedelta(hours=1), timedelta(hours=1), 2)
    )
    takers = ("resident", "neighbour", "grid_worker", "grid_leader", "grid_police")
    for who in takers:
        assert (await register(api, people[who], SCHOOL)).status_code == 201
    answers = await asyncio.gather(*(claim(api, people[who], need) for who in takers))
    codes = sorted("201" if r.status_code == 201 else r.json()["code"] for r in answers)
    assert codes == ["201", "201", "need_full", "need_full", "need_full"]
    assert (await rows(scratch_database, CommunityNeed))[0]["claimed"] == 2
    assert len(await rows(scratch_database, NeedClaim)) == 2
