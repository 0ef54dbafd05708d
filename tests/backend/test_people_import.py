"""`wangge import people`: a city's staff from a roster, checked whole, written all or nothing,
and able to sign in and work as the file says."""

from __future__ import annotations

import csv
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.cases.departments import department_of
from backend.cases.tables import DepartmentMember
from backend.core.db import use_engine
from backend.grids.tables import GridPost
from backend.people.importer import NewAccount, import_people
from backend.people.roster import read_roster
from backend.people.tables import Person
from tests.backend.case_steps import Driver, Session, demo_spot, sign_in

HEADER = ("姓名", "手机号", "角色", "所属区域", "网格编码", "岗位", "部门", "在岗")
OFFICER = "13700000007"
COMMUNITY = "150302001001"


def free_grid(demo_city, post: str) -> str:
    """A demo grid where nobody holds ``post`` (the demo leaves a few posts empty)."""
    held = demo_city.posts.groupby("grid_code")["post"].apply(set)
    return next(code for code, posts in held.items() if post not in posts)


def clean_rows(demo_city) -> list[tuple[str, ...]]:
    leader, police = free_grid(demo_city, "leader"), free_grid(demo_city, "police")
    fulltime = free_grid(demo_city, "fulltime")
    return [
        ("王建国", "13700000001", "网格长", "", leader, "网格长", "", "是"),
        ("王建国", "13700000001", "网格长", "", leader, "网格党支部书记", "", "是"),
        ("李警官", "137 0000 0002", "网格警", "", police, "网格警", "", "是"),
        ("赵专职", "13700000003", "网格员", "", fulltime, "专职网格员", "", "是"),
        ("钱兼职", "13700000004", "grid_worker", "", fulltime, "parttime", "", ""),
        ("孙社区", "13700000005", "社区工作人员", "150302001001", "", "", "", "是"),
        ("周街道", "13700000006", "街道工作人员", "150302001", "", "", "", "在岗"),
        ("吴城管", OFFICER, "职能部门工作人员", "150302", "", "", "城管", "是"),
        ("郑区管", "+8613700000008", "区管理员", "150302", "", "", "", "1"),
    ]


def write_roster(path: Path, rows: list[tuple[str, ...]], encoding: str = "utf-8") -> Path:
    if path.suffix == ".xlsx":
        book = openpyxl.Workbook()
        for row in [HEADER, *rows]:
            # Phones and codes as numbers, the way a spreadsheet keeps typed digits.
            book.active.append([int(c) if c.isdigit() else c for c in row])
        book.save(path)
    else:
        with path.open("w", encoding=encoding, newline="") as out:
            csv.writer(out).writerows([HEADER, *rows])
    return path


def wangge(database, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database.settings.database_url}
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", "import", "people", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def outputs(path: Path) -> tuple[dict, dict[str, str] | None, int | None]:
    """What a run left beside the roster: its report, and the passwords file's rows and mode."""
    report = json.loads(Path(f"{path}.report.json").read_text())
    passwords = Path(f"{path}.passwords.csv")
    if not passwords.exists():
        return report, None, None
    with passwords.open(encoding="utf-8-sig") as f:
        given = {r["手机号"]: r["初始密码"] for r in csv.DictReader(f)}
    return report, given, stat.S_IMODE(passwords.stat().st_mode)


async def counts() -> tuple[int, int, int]:
    return await Person.count(), await GridPost.count(), await DepartmentMember.count()


async def posts_of(phone: str) -> set[tuple[str, str]]:
    rows = await GridPost.select(GridPost.grid.code, GridPost.post).where(
        GridPost.person.phone == phone
    )
    return {(r["grid.code"], r["post"]) for r in rows}


async def sign_in_as(
    client: AsyncTestClient, phone: str, password: str, *, change: bool = False
) -> Session:
    """Sign in with an imported initial password, which must be changed first; ``change``
    does so, and the session is the one the new password gave."""
    r = await client.post("/api/auth/sign-in", json={"phone": phone, "password": password})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["must_change_password"] is True
    if change:
        headers = {"Authorization": f"Bearer {body['token']}"}
        new = {"old_password": password, "new_password": "my-own-password-1"}
        r = await client.post("/api/auth/password", json=new, headers=headers)
        assert (r.status_code, r.json()["must_change_password"]) == (200, False), r.text
        body = r.json()
    return Session({"Authorization": f"Bearer {body['token']}"}, body["person"]["id"])


@pytest.mark.parametrize("name", ["staff.csv", "staff-gbk.csv", "staff.xlsx"])
async def test_a_clean_roster_adds_staff_who_sign_in_holding_their_posts(
    scratch_database, demo_city, tmp_path, name
):
    rows = clean_rows(demo_city)
    path = write_roster(tmp_path / name, rows, "gbk" if "gbk" in name else "utf-8")
    before = await counts()
    done = wangge(scratch_database, str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "9 rows, 8 people: 8 added, 0 changed, 0 unchanged" in done.stdout
    assert f"initial passwords of the 8 people added: {path}.passwords.csv" in done.stdout
    assert "delete that file" in done.stdout
    report, given, mode = outputs(path)
    assert (report["added"], report["problems"], mode) == (8, [], 0o600)
    assert len(given) == 8 and all(len(p) == 12 for p in given.values())
    assert await counts() == (before[0] + 8, before[1] + 5, before[2] + 1)

    leader_grid, police_grid = rows[0][4], rows[2][4]
    assert await posts_of("13700000001") == {
        (leader_grid, "leader"),
        (leader_grid, "party_secretary"),
    }
    assert await posts_of("13700000002") == {(police_grid, "police")}
    stored = await Person.select(Person.password_hash).where(Person.phone == "13700000001").first()
    assert given["13700000001"] not in stored["password_hash"]  # a hash, not the password
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        leader = await sign_in_as(client, "13700000001", given["13700000001"])
        me = (await client.get("/api/me", headers=leader.headers)).json()
        assert (me["name"], me["role"], me["area"]["code"]) == (
            "王建国",
            "grid_leader",
            leader_grid[:12],
        )
        assert {p["post"] for p in me["posts"]} == {"leader", "party_secretary"}
        admin = await sign_in_as(client, "13700000008", given["13700000008"])
        me = (await client.get("/api/me", headers=admin.headers)).json()
        assert (me["role"], me["area"]["code"]) == ("district_admin", "150302")


async def test_department_staff_take_a_case_dispatched_to_their_department(
    scratch_database, demo_city, tmp_path
):
    kept: list[NewAccount] = []
    roster = read_roster(write_roster(tmp_path / "staff.csv", clean_rows(demo_city)))
    result = await import_people(roster, keep_accounts=kept.extend)
    assert result.applied and len(kept) == 8
    officer = next(a for a in kept if a.phone == OFFICER)
    person = await Person.select(Person.id).where(Person.phone == OFFICER).first()
    assert await department_of(person["id"]) == "cg"
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        roles = ("resident", "grid_leader", "community_staff", "street_staff")
        sessions = {role: await sign_in(client, role) for role in roles}
        sessions["department"] = await sign_in_as(client, OFFICER, officer.password, change=True)
        driver = Driver(client, sessions)
        case_id = await driver.report(demo_spot(demo_city))
        await driver.drive(case_id, "department")
        r = await driver.act("department", case_id, "start")
        assert r.status_code == 200, r.text
        r = await driver.act("department", case_id, "handle", result="已清理占道经营")
        assert (r.status_code, r.json()["status"]) == (200, "handled")


async def test_a_reimport_updates_by_phone_and_keeps_passwords(
    scratch_database, demo_city, tmp_path
):
    rows = clean_rows(demo_city)
    path = write_roster(tmp_path / "staff.csv", rows)
    first: list[NewAccount] = []
    assert (await import_people(read_roster(path), keep_accounts=first.extend)).applied
    password = {a.phone: a.password for a in first}
    stored = await Person.select(Person.phone, Person.password_hash)
    hashes = {r["phone"]: r["password_hash"] for r in stored}

    street = next(i for i, r in enumerate(rows) if r[0] == "周街道")
    rows[street] = ("周卫东", *rows[street][1:])
    kept: list[NewAccount] = []
    again = await import_people(read_roster(write_roster(path, rows)), keep_accounts=kept.extend)
    assert (len(again.added), len(again.changed), again.unchanged) == (0, 1, 7)
    assert kept == []
    stored = await Person.select(Person.phone, Person.name, Person.password_hash)
    assert {r["phone"]: r["password_hash"] for r in stored} == hashes
    assert {r["name"] for r in stored if r["phone"] == "13700000006"} == {"周卫东"}

    # The file says what each person is: a post dropped goes, a department or role changes,
    # and someone no longer in post cannot sign in.
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        admin = await sign_in_as(client, "13700000008", password["13700000008"])
    use_engine(scratch_database.engine)  # the app bound the tables to its own engine
    leader_grid = rows[0][4]
    rows = [r for r in rows if r[5] != "网格党支部书记"]
    rows = [(*r[:6], "住建", "否") if r[1] == OFFICER else r for r in rows]
    rows = [(*r[:2], "市管理员", "150300", *r[4:]) if r[0] == "郑区管" else r for r in rows]
    moved = await import_people(read_roster(write_roster(path, rows)))
    assert (len(moved.changed), moved.unchanged) == (3, 5)
    assert await posts_of("13700000001") == {(leader_grid, "leader")}
    officer = await Person.select(Person.id).where(Person.phone == OFFICER).first()
    assert await department_of(officer["id"]) == "zj"
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        body = {"phone": OFFICER, "password": password[OFFICER]}
        r = await client.post("/api/auth/sign-in", json=body)
        assert (r.status_code, r.json()["code"]) == (403, "account_disabled")
        me = (await client.get("/api/me", headers=admin.headers)).json()
        assert (me["role"], me["area"]["code"]) == ("city_admin", "150300")


def row(name: str, phone: str, role: str, area="", grid="", post="", dept="", active=""):
    return (name, phone, role, area, grid, post, dept, active)


def bad_rows(demo_city) -> dict[tuple[int, str | None], tuple[tuple[str, ...], str | None]]:
    """(line, column) -> (the row, a word of the reason); column None: a row with no problem
    of its own, there for the rows after it."""
    leader, full = free_grid(demo_city, "leader"), free_grid(demo_city, "fulltime")
    taken = demo_city.posts.loc[demo_city.posts["post"] == "leader", "grid_code"].iloc[0]
    dept = "职能部门工作人员"
    rows = [
        (row("", "13700000011", "网格长", "", leader, "网格长"), "姓名", "missing name"),
        (row("甲", "", "网格员", "", full, "兼职网格员"), "手机号", "missing phone"),
        (row("乙", "1370000", "网格员", "", full, "兼职网格员"), "手机号", "11-digit"),
        (row("丙", "23700000014", "网格员", "", full, "兼职网格员"), "手机号", "11-digit"),
        (row("丁", "13700000015", "村长"), "角色", "unknown role"),
        (row("戊", "13700000016", "网格员", "", full, "楼长"), "岗位", "unknown post"),
        (row("己", "13700000017", "社区工作人员", "150302999999"), "所属区域", "no area"),
        (
            row("庚", "13700000018", "网格员", "", "15030299999999", "兼职网格员"),
            "网格编码",
            "no grid",
        ),
        (row("辛", "13700000019", dept, "150302", dept="发改委"), "部门", "no department"),
        (row("壬", "13700000020", "网格员", "", "", "兼职网格员"), "网格编码", "needs the grid"),
        (row("癸", "13700000021", "网格长", "", leader), "岗位", "needs their post"),
        (row("子", "13700000022", "社区工作人员", "150302"), "所属区域", "community"),
        (row("丑", "13700000023", "街道工作人员"), "所属区域", "needs the area"),
        (row("寅", "13700000024", dept, "150302"), "部门", "need their department"),
        (row("卯", "13700000025", dept, dept="城管"), "所属区域", "needs the area"),
        (row("辰", "13700000026", "居民", "150302001001"), "角色", "residents"),
        (row("巳", "13700000027", "网格员", "", full, "网格长"), "岗位", "cannot be"),
        (row("午", "13700000028", "网格长", "", taken, "网格长"), "岗位", "already has one"),
        (row("未", "13700000029", "网格员", "", full, "兼职网格员", "", "也许"), "在岗", "是/否"),
        (row("申" * 65, "13700000030", "网格员", "", full, "兼职网格员"), "姓名", "64"),
        (row("酉", "13700000031", "网格员", "", full, "兼职网格员"), None, None),
        (row("戌", "13700000031", "网格员", "", full, "网格党支部书记"), "姓名", "another name"),
        (row("酉", "13700000031", "社区工作人员", full[:12]), "角色", "another role"),
        (row("酉", "13700000031", "网格员", "", full, "兼职网格员"), "岗位", "same post"),
        (row("亥", "13700000032", "网格员", "", full, "专职网格员"), None, None),
        (row("甲乙", "13700000033", "网格员", "", full, "专职网格员"), "岗位", "one 专职网格员"),
        (row("乾", "13700000034", "网格员", COMMUNITY, full, "兼职网格员"), "所属区域", "lies in"),
        (row("坤", "13700000035", dept, "150302", full, "兼职网格员", "城管"), "岗位", "no post"),
        (row("震", "13700000036", "街道工作人员", "150302001", dept="城管"), "部门", "only"),
        (row("巽", "13700000037", "社区工作人员", full[:12], full), "岗位", "both"),
    ]
    return {(line, column): (r, word) for line, (r, column, word) in enumerate(rows, 2)}


async def test_every_problem_is_reported_by_row_and_column_and_nothing_is_written(
    scratch_database, demo_city, tmp_path
):
    cases = bad_rows(demo_city)
    rows = [row for row, _ in cases.values()]
    path = write_roster(tmp_path / "bad.csv", rows)
    before = await counts()
    result = await import_people(read_roster(path))
    found = {(p.row, p.column): p.reason for p in result.problems}
    expected = {key: word for key, (_, word) in cases.items() if key[1] is not None}
    assert set(found) == set(expected), result.problems
    for key, word in expected.items():
        assert word in found[key], (key, found[key])
    assert not result.applied and await counts() == before

    done = wangge(scratch_database, str(path))
    assert done.returncode == 1
    assert f"NOT imported: {len(expected)} problems; nothing was written" in done.stdout
    assert "no area with this code" in done.stdout
    report, given, _ = outputs(path)
    assert {(p["row"], p["column"]) for p in report["problems"]} == set(expected)
    assert given is None
    assert await counts() == before


async def test_a_dry_run_writes_nothing(scratch_database, demo_city, tmp_path):
    path = write_roster(tmp_path / "staff.csv", clean_rows(demo_city))
    before = await counts()
    done = wangge(scratch_database, str(path), "--dry-run", "--map", "phone=手机号")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "8 added" in done.stdout and "dry run: nothing was written" in done.stdout
    report, given, _ = outputs(path)
    assert (report["added"], report["applied"], given) == (8, False, None)
    assert await counts() == before


async def test_columns_in_english_or_mapped(scratch_database, demo_city, tmp_path):
    path = tmp_path / "staff.csv"
    path.write_text("Name,Mobile,Role,Area_Code,Grid,Post,Dept,Active\n孙社区,13700000005,"
                    "community_staff,150302001001,,,,yes\n", encoding="utf-8")  # fmt: skip
    result = await import_people(read_roster(path), dry_run=True)
    assert (result.problems, len(result.added)) == ([], 1)
    path.write_text("名字,联系方式,身份,单位\n孙社区,13700000005,社区工作人员,150302001001\n")
    result = await import_people(read_roster(path, {"phone": "联系方式", "area_code": "单位"}))
    assert (result.problems, len(result.added), result.applied) == ([], 1, True)
    done = wangge(scratch_database, str(path), "--map", "phone=电话号")
    assert done.returncode != 0 and "no column '电话号'" in done.stderr
