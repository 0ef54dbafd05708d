"""The case list and its CSV export: filters, who sees what, inbox order, paging (by keyset,
counted up to a cap), text search, bad input."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import shapely
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.cases import export, listing
from backend.cases.piccolo_migrations import cases_2026_12_08t02_30_00_000000 as open_migration
from backend.cases.tables import Case
from backend.core.db import use_engine
from backend.demo import DEMO_PASSWORD
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE

HOME = DEMO_GRID_CODE  # the demo grid staff hold their posts in
NEIGHBOUR = "15030200100102"  # the same community
FAR = "15030300100101"  # another district
PHONE = "13812345678"


@pytest.fixture
async def api(scratch_database):
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        yield client


@pytest.fixture
def spots(demo_city) -> dict[str, tuple[float, float]]:
    grids = demo_city.grids.set_index("code").geometry
    return {
        code: (p.x, p.y)
        for code in (HOME, NEIGHBOUR, FAR)
        for p in [shapely.point_on_surface(grids[code])]
    }


async def session(client, role: str) -> tuple[dict[str, str], int]:
    r = await client.post(
        "/api/auth/sign-in", json={"phone": DEMO_ACCOUNTS[role], "password": DEMO_PASSWORD}
    )
    body = r.json()
    return {"Authorization": f"Bearer {body['token']}"}, body["person"]["id"]


async def report(client, headers, spot, **extra) -> int:
    body = {
        "client_id": str(uuid.uuid4()),
        "kind": "request",
        "category": "1501",
        "description": "请尽快处理",
        "lon": spot[0],
        "lat": spot[1],
        "contact_phone": PHONE,
        **extra,
    }
    r = await client.post("/api/cases", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def act(client, headers, case_id: int, **body) -> None:
    """``body`` from the case's version as the actor reads it (they may act, so they may)."""
    version = (await client.get(f"/api/cases/{case_id}", headers=headers)).json()["version"]
    body = {"version": version, **body}
    r = await client.post(f"/api/cases/{case_id}/transitions", json=body, headers=headers)
    assert r.status_code == 200, r.text


async def listed(client, headers, **params) -> list[int]:
    r = await client.get("/api/case-list", params={"limit": 500, **params}, headers=headers)
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["items"]]


async def ids(client, headers, **params) -> set[int]:
    return set(await listed(client, headers, **params))


@pytest.fixture
async def city(api, spots) -> dict[str, int]:
    """Four cases: three requests of the resident in three grids, one incident of a worker."""
    resident, _ = await session(api, "resident")
    worker, _ = await session(api, "grid_worker")
    return {
        "home": await report(
            api, resident, spots[HOME], description="3号楼前路灯不亮", address="团结路5号"
        ),
        "neighbour": await report(
            api, resident, spots[NEIGHBOUR], category="0101", description="垃圾桶 100%_满了"
        ),
        "far": await report(api, resident, spots[FAR], description="LED灯坏了"),
        "incident": await report(api, worker, spots[HOME], kind="incident", category="0101"),
    }


async def test_each_filter_narrows_the_list(api, spots, city):
    admin, _ = await session(api, "city_admin")
    leader, _ = await session(api, "grid_leader")
    home, neighbour, far, incident = city.values()
    everything = {home, neighbour, far, incident}
    assert await ids(api, admin) == everything
    assert await ids(api, admin, area="150300") == everything
    assert await ids(api, admin, area=HOME[:12]) == {home, neighbour, incident}
    assert await ids(api, admin, area=HOME) == {home, incident}
    assert await ids(api, admin, area=["150303", HOME[:12]]) == everything
    assert await ids(api, admin, area=FAR[:6]) == {far}
    assert await ids(api, admin, grid=HOME) == {home, incident}
    assert await ids(api, admin, grid=[NEIGHBOUR, FAR]) == {neighbour, far}
    assert await ids(api, admin, category="15") == {home, far}
    assert await ids(api, admin, category="0101") == {neighbour, incident}
    assert await ids(api, admin, kind="incident") == {incident}
    assert await ids(api, admin, kind=["incident", "request"]) == everything

    await act(api, leader, home, action="accept")
    assert await ids(api, admin, status="accepted") == {home}
    assert await ids(api, admin, status="submitted") == {neighbour, far, incident}
    assert await ids(api, admin, status=["accepted", "submitted"]) == everything

    x, y = spots[FAR]
    box = f"{x - 0.001},{y - 0.001},{x + 0.001},{y + 0.001}"
    assert await ids(api, admin, bbox=box) == {far}

    assert await ids(api, admin, q="路灯") == {home}
    assert await ids(api, admin, q="团结路") == {home}  # the address is searched too
    assert await ids(api, admin, q="led") == {far}  # ASCII letters in any case
    # The user's % and _ are themselves, not wildcards.
    assert await ids(api, admin, q="%") == {neighbour}
    assert await ids(api, admin, q="0%_满") == {neighbour}
    assert await ids(api, admin, category="_1") == set()
    assert await ids(api, admin, q="垃圾", grid=HOME) == set()  # filters combine


async def test_digits_find_only_cases_whose_contact_the_asker_sees(api, spots):
    resident, _ = await session(api, "resident")
    typed = await report(
        api, resident, spots[HOME], description="灯坏了 请回电13987654321或１３６００００１１１１"
    )
    worker, _ = await session(api, "grid_worker")  # reads the grid's cases, phones masked
    leader, _ = await session(api, "grid_leader")  # manages the grid: sees them whole
    shown = (await api.get(f"/api/cases/{typed}", headers=worker)).json()["description"]
    assert shown == "灯坏了 请回电139****4321或136****1111"
    # The masked digits cannot be guessed by searching, in any width of digits.
    for guess in ("987654", "13987654321", "６００００", "139"):
        assert await ids(api, worker, q=guess) == set(), guess
        assert await ids(api, leader, q=guess) == {typed}, guess
    assert await ids(api, worker, q="灯坏了") == {typed}  # words still find it


async def test_mine_is_what_i_reported_or_was_given(api, city):
    leader, _ = await session(api, "grid_leader")
    worker, worker_id = await session(api, "grid_worker")
    assert await ids(api, worker, mine="true") == {city["incident"]}
    await act(api, leader, city["home"], action="accept")
    await act(api, leader, city["home"], action="dispatch", assignee=worker_id)
    assert await ids(api, worker, mine="true") == {city["home"], city["incident"]}
    assert await ids(api, leader, mine="true") == set()


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        ("resident", {"home", "neighbour", "far"}),  # their own, wherever they are
        ("grid_worker", {"home", "incident"}),
        ("grid_leader", {"home", "incident"}),
        ("community_staff", {"home", "neighbour", "incident"}),
        ("street_staff", {"home", "neighbour", "incident"}),
        ("district_admin", {"home", "neighbour", "incident"}),
        ("city_admin", {"home", "neighbour", "far", "incident"}),
    ],
)
async def test_each_role_lists_what_it_may_read(api, city, role, sees):
    headers, _ = await session(api, role)
    shown = await ids(api, headers)
    assert shown == {city[name] for name in sees}
    readable = set()
    for case_id in city.values():
        if (await api.get(f"/api/cases/{case_id}", headers=headers)).status_code == 200:
            readable.add(case_id)
    assert shown == readable


async def test_a_case_given_to_me_outside_my_grid_is_listed(api, city):
    staff, _ = await session(api, "community_staff")
    worker, worker_id = await session(api, "grid_worker")
    await act(api, staff, city["neighbour"], action="accept")
    await act(api, staff, city["neighbour"], action="dispatch", assignee=worker_id)
    assert await ids(api, worker) == {city["home"], city["incident"], city["neighbour"]}


async def test_phones_are_masked_as_for_one_case(api, city):
    worker, _ = await session(api, "grid_worker")
    leader, _ = await session(api, "grid_leader")
    for headers, phone in ((worker, "138****5678"), (leader, PHONE)):
        r = await api.get(
            "/api/case-list", params={"grid": HOME, "kind": "request"}, headers=headers
        )
        assert [c["contact_phone"] for c in r.json()["items"]] == [phone]


async def test_overdue_cases_come_first_then_the_nearest_deadline(scratch_database, spots):
    settings = scratch_database.settings
    async with AsyncTestClient(app=create_app(settings)) as client:
        resident, _ = await session(client, "resident")
        made = [await report(client, resident, spots[HOME]) for _ in range(6)]
    later, overdue, undated, sooner, closed, tied = made
    now = datetime.now(UTC)
    # The app and its engine are gone: write on this loop, through the test's own engine.
    use_engine(scratch_database.engine)
    changes = {
        later: {Case.due_at: now + timedelta(hours=2)},
        overdue: {Case.due_at: now - timedelta(hours=1)},
        undated: {Case.due_at: None},
        sooner: {Case.due_at: now + timedelta(hours=1)},
        # Past its due time, but closed: not overdue.
        closed: {Case.due_at: now - timedelta(hours=3), Case.status: "closed", Case.closed_at: now},
        tied: {Case.due_at: now + timedelta(hours=1)},
    }
    async with scratch_database.engine.transaction():
        for case_id, values in changes.items():
            await Case.update(values).where(Case.id == case_id)

    async with AsyncTestClient(app=create_app(settings)) as client:
        leader, _ = await session(client, "grid_leader")
        assert await listed(client, leader) == [overdue, closed, sooner, tied, later, undated]
        assert await listed(client, leader, overdue="true") == [overdue]
        assert await listed(client, leader, overdue="false") == [
            closed,
            sooner,
            tied,
            later,
            undated,
        ]


async def test_pages_link_to_each_other(api, spots):
    resident, _ = await session(api, "resident")
    made = {await report(api, resident, spots[HOME]) for _ in range(5)}
    leader, _ = await session(api, "grid_leader")
    params = {"status": "submitted", "limit": 2}
    first = (await api.get("/api/case-list", params=params, headers=leader)).json()
    assert first["numberMatched"] == 5
    assert [link["rel"] for link in first["links"]] == ["self", "next"]
    seen = [c["id"] for c in first["items"]]
    page = first
    while (url := _link(page, "next")) is not None:
        assert "status=submitted" in url and "limit=2" in url
        page = (await api.get(url, headers=leader)).json()
        assert _link(page, "prev") is not None
        seen += [c["id"] for c in page["items"]]
    assert len(seen) == 5 and set(seen) == made
    back = (await api.get(_link(page, "prev"), headers=leader)).json()
    assert [c["id"] for c in back["items"]] == seen[2:4]
    far = await api.get("/api/case-list", params={"offset": 2**31 - 1}, headers=leader)
    assert far.status_code == 200 and far.json()["items"] == []


def _link(page: dict, rel: str) -> str | None:
    return next((link["href"] for link in page["links"] if link["rel"] == rel), None)


async def test_the_export_is_a_spreadsheet_without_phone_numbers(api, spots, city):
    resident, _ = await session(api, "resident")
    typed = await report(
        api, resident, spots[HOME], description="=1+2 请回电 13912345678", address="-3号楼"
    )
    staff, _ = await session(api, "community_staff")
    r = await api.get("/api/case-list/export.csv", params={"grid": HOME}, headers=staff)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    text = r.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "id",
        "kind",
        "source",
        "source_system",
        "category",
        "status",
        "priority",
        "owner_code",
        "grid_code",
        "created_at",
        "due_at",
        "closed_at",
        "rating",
        "address",
        "description",
    ]
    by_id = {int(row[0]): row for row in rows[1:]}
    assert sorted(by_id) == sorted([city["home"], city["incident"], typed])
    assert by_id[city["home"]][13:] == ["团结路5号", "3号楼前路灯不亮"]
    assert by_id[city["home"]][2] == "app" and by_id[city["incident"]][2] == "patrol"
    assert by_id[typed][13:] == ["'-3号楼", "'=1+2 请回电 139****5678"]
    assert PHONE not in text and "13912345678" not in text

    mine = await api.get("/api/case-list/export.csv", headers=resident)
    assert len(list(csv.reader(io.StringIO(mine.content.decode("utf-8-sig"))))) == 1 + 4


async def test_an_export_too_large_is_refused(api, city, monkeypatch):
    admin, _ = await session(api, "city_admin")
    monkeypatch.setattr(export, "EXPORT_LIMIT", 3)
    r = await api.get("/api/case-list/export.csv", headers=admin)
    assert (r.status_code, r.json()["code"]) == (422, "too_many_rows")
    r = await api.get("/api/case-list/export.csv", params={"grid": HOME}, headers=admin)
    assert r.status_code == 200


BAD_QUERIES: list[tuple[str, str, int, str]] = [
    ("", "status=lost", 422, "unknown_status"),
    ("", "status=submitted&status=lost", 422, "unknown_status"),
    ("", "kind=complaint", 422, "unknown_kind"),
    ("", "area=15-03", 422, "invalid_code"),
    ("", "bbox=1,2,3", 400, "invalid_bbox"),
    ("", "bbox=110,40,100,41", 400, "invalid_bbox"),
    ("", "bbox=a,b,c,d", 400, "invalid_bbox"),
    ("", "limit=0", 400, "invalid_request"),
    ("", "limit=501", 400, "invalid_request"),
    ("", "offset=-1", 400, "invalid_request"),
    ("", f"offset={2**31}", 400, "invalid_request"),
    ("", f"offset={10**30}", 400, "invalid_request"),
    ("", "overdue=maybe", 400, "invalid_request"),
    ("", "q=" + "x" * 201, 400, "invalid_request"),
    ("", "q=a%00b", 400, "invalid_value"),
    ("", "q=a&q=b", 400, "repeated_parameter"),
    ("", "stauts=closed", 400, "unknown_parameter"),
    ("", "&".join(f"category={i}" for i in range(101)), 400, "too_many_values"),
    ("/export.csv", "status=lost", 422, "unknown_status"),
    ("/export.csv", "limit=10", 400, "unknown_parameter"),
]


async def test_bad_input_gets_a_code_not_a_500(api):
    leader, _ = await session(api, "grid_leader")
    for path, query, status, code in BAD_QUERIES:
        r = await api.get(f"/api/case-list{path}?{query}", headers=leader)
        assert (r.status_code, r.json()["code"]) == (status, code), (path, query, r.text)
    for path in ("", "/export.csv"):
        r = await api.get(f"/api/case-list{path}")
        assert (r.status_code, r.json()["code"]) == (401, "unauthenticated")


# At scale: keyset pages, capped counts, the text index, and the structures the migrations
# make for them on each database (bench/caselist.py measures them at 1,000,000 cases).


async def _page(client, headers, **params) -> dict:
    r = await client.get("/api/case-list", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_keyset_pages_neither_repeat_nor_skip_while_cases_arrive(scratch_database, spots):
    settings = scratch_database.settings
    async with AsyncTestClient(app=create_app(settings)) as client:
        resident, _ = await session(client, "resident")
        made = [await report(client, resident, spots[HOME]) for _ in range(7)]
    # Cases in each run of the inbox order: overdue, dated, undated.
    now = datetime.now(UTC)
    use_engine(scratch_database.engine)
    async with scratch_database.engine.transaction():
        for case_id in made[:2]:
            await Case.update({Case.due_at: now - timedelta(hours=1)}).where(Case.id == case_id)
        for case_id in made[2:4]:
            await Case.update({Case.due_at: None}).where(Case.id == case_id)

    async with AsyncTestClient(app=create_app(settings)) as client:
        resident, _ = await session(client, "resident")
        leader, _ = await session(client, "grid_leader")
        page = await _page(client, leader, limit=2)
        seen = [c["id"] for c in page["items"]]
        arrived = []
        while page["next_cursor"] is not None:
            # A case arrives between pages: it sorts before the cursor, so with offsets it
            # would push a case of this page onto the next one again.
            arrived.append(await report(client, resident, spots[HOME]))
            next_url = next(link["href"] for link in page["links"] if link["rel"] == "next")
            assert "cursor=" in next_url
            page = (await client.get(next_url, headers=leader)).json()
            seen += [c["id"] for c in page["items"]]
        assert len(seen) == len(set(seen))
        assert set(made) <= set(seen) <= set(made) | set(arrived)
        assert seen[:2] == made[:2]  # overdue first
        assert seen[-2:] == made[2:4]  # undated last, oldest first

        bad = await client.get("/api/case-list", params={"cursor": "nonsense"}, headers=leader)
        assert (bad.status_code, bad.json()["code"]) == (400, "invalid_cursor")


async def test_counts_stop_at_the_cap(api, spots, monkeypatch):
    resident, _ = await session(api, "resident")
    for _ in range(5):
        await report(api, resident, spots[HOME])
    await report(api, resident, spots[HOME], description="另一件事")
    leader, _ = await session(api, "grid_leader")
    monkeypatch.setattr(listing, "COUNT_CAP", 4)
    page = await _page(api, leader, limit=2)
    assert (page["numberMatched"], page["numberMatchedCapped"]) == (4, True)
    page = await _page(api, leader, q="另一件")
    assert (page["numberMatched"], page["numberMatchedCapped"]) == (1, False)


async def test_text_search_finds_chinese_substrings_of_any_length(scratch_database, spots):
    settings = scratch_database.settings
    async with AsyncTestClient(app=create_app(settings)) as client:
        resident, _ = await session(client, "resident")
        lamp, edited = [
            await report(
                client, resident, spots[HOME], description="3号楼前路灯不亮", address="团结路5号"
            )
            for _ in range(2)
        ]
        bins = await report(client, resident, spots[HOME], description="垃圾桶满了 Bin FULL")
    # The index follows an edit of the text in the same transaction (a trigger on SQLite).
    use_engine(scratch_database.engine)
    async with scratch_database.engine.transaction():
        await Case.update({Case.description: "井盖丢失"}).where(Case.id == edited)

    async with AsyncTestClient(app=create_app(settings)) as client:
        admin, _ = await session(client, "city_admin")

        async def found(q: str) -> set[int]:
            return {c["id"] for c in (await _page(client, admin, q=q, limit=500))["items"]}

        assert await found("路灯不亮") == {lamp}
        assert await found("路灯") == {lamp}  # two characters: the trigrams they begin
        assert await found("亮") == {lamp}
        assert await found("5号") == {lamp, edited}  # at the end of the address
        assert await found("bin full") == {bins}
        assert await found("满了 b") == {bins}
        assert await found("亮团") == set()  # never across description and address
        assert await found("灯泡") == set()
        assert await found("井盖") == {edited}
        assert await found("团结路") == {lamp, edited}


async def test_migrations_make_the_list_indexes_and_text_search(database):
    if database.kind == "sqlite":
        rows = await Case.raw("SELECT type, name FROM sqlite_master WHERE name LIKE 'case_%'")
        names = {r["name"] for r in rows}
        assert {"case_search", "case_search_insert", "case_search_update"} <= names
        [fts] = await Case.raw("SELECT sql FROM sqlite_master WHERE name = 'case_search'")
        assert "trigram" in fts["sql"]
        [row] = await Case.raw("SELECT count(*) AS n FROM case_search")
        [cases] = await Case.raw("SELECT count(*) AS n FROM case_record")
        assert row["n"] == cases["n"]
        plan = await Case.raw(
            "EXPLAIN QUERY PLAN SELECT id FROM case_record WHERE owner_code = {}"
            " ORDER BY due_at, id LIMIT 51",
            HOME,
        )
        assert "case_record_list_owner" in " ".join(str(r["detail"]) for r in plan)
    else:
        rows = await Case.raw("SELECT indexname FROM pg_indexes WHERE tablename = 'case_record'")
        names = {r["indexname"] for r in rows}
        assert {"case_record_search_description", "case_record_search_address"} <= names
        [ext] = await Case.raw("SELECT count(*) AS n FROM pg_extension WHERE extname = 'pg_trgm'")
        assert ext["n"] == 1
    rows = await Case.raw(
        "SELECT name FROM sqlite_master WHERE type = 'index'"
        if database.kind == "sqlite"
        else "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'case_record'"
    )
    names = {r["name"] for r in rows}
    for branch in ("owner", "grid", "reporter", "assignee", "department", "status"):
        assert f"case_record_list_{branch}" in names
    for branch in ("due", "owner", "grid", "reporter", "assignee", "department"):
        assert f"case_record_running_{branch}" in names
        assert f"case_record_open_{branch}" not in names  # replaced by the running cases'
    # An overdue run reads the open cases whose clock runs from their index.
    if database.kind == "sqlite":
        plan = await Case.raw(
            "EXPLAIN QUERY PLAN SELECT id FROM case_record WHERE owner_code = {}"
            f" AND due_at < {{}} AND status IN ({listing.OPEN_SQL}) AND paused_at IS NULL"
            " ORDER BY due_at, id LIMIT 51",
            HOME,
            "2030-01-01",
        )
        assert "INDEX case_record_running_owner" in " ".join(str(r["detail"]) for r in plan)
    # A planner uses a partial index only for its own condition: the listing's, word for word.
    assert open_migration.OPEN_SQL == listing.OPEN_SQL
