"""The walk of docs/deploy.md's "Start a real city", on each kind of database: `wangge init` on
an empty database, the demo's own layers exported to files and imported in order (areas →
grids → buildings → service points), a staff roster imported, then a case submitted and
closed by people who signed in with their one-time passwords and chose their own."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.core.settings import Settings
from geo.demo import DEMO_GRID_CODE
from tests.backend.case_steps import demo_spot, report_body
from tests.backend.test_init import empty_url  # noqa: F401 (a fixture)
from tests.backend.test_people_import import clean_rows, outputs, write_roster

LAYERS = ("areas", "grids", "buildings", "service-points")
ADMIN = "13500000001"
COMMUNITY_STAFF = "13700000005"  # 孙社区 of the roster, in the demo grid's community
OWN = "our-own-password"


def wangge(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=300,
    )


async def first_sign_in(api: AsyncTestClient, phone: str, once: str) -> dict[str, str]:
    r = await api.post("/api/auth/sign-in", json={"phone": phone, "password": once})
    assert (r.status_code, r.json()["must_change_password"]) == (200, True), r.text
    headers = {"Authorization": f"Bearer {r.json()['token']}"}
    body = {"old_password": once, "new_password": OWN}
    r = await api.post("/api/auth/password", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def step(api, headers, case: dict, action: str, **extra) -> dict:
    body = {"action": action, "version": case["version"], **extra}
    r = await api.post(f"/api/cases/{case['id']}/transitions", json=body, headers=headers)
    assert r.status_code == 200, (action, r.text)
    return r.json()


async def test_a_city_from_nothing_to_its_first_closed_case(
    empty_url,  # noqa: F811 (the fixture imported above)
    database,
    demo_city,
    tmp_path,
):
    for layer in LAYERS:
        done = wangge(
            database.settings.database_url, "export", layer, str(tmp_path / f"{layer}.gpkg")
        )
        assert done.returncode == 0, done.stderr

    done = wangge(
        empty_url, "init", "--city-code", "150300", "--city-name", "乌海市",
        "--admin-phone", ADMIN, "--admin-name", "赵市管",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    admin_once = re.search(r"one-time password (\S+)", done.stdout)[1]
    for layer in LAYERS:
        done = wangge(empty_url, "import", layer, str(tmp_path / f"{layer}.gpkg"))
        assert done.returncode == 0, (layer, done.stdout, done.stderr)
    roster = write_roster(tmp_path / "staff.csv", clean_rows(demo_city))
    done = wangge(empty_url, "import", "people", str(roster))
    assert done.returncode == 0, done.stdout + done.stderr
    _, given, _ = outputs(roster)

    settings = Settings(data_dir=tmp_path / "data", database_url=empty_url, secret_key="s" * 40)
    async with AsyncTestClient(app=create_app(settings)) as api:
        page = (await api.get(f"/api/grids/{DEMO_GRID_CODE}")).json()
        assert page["buildings"] > 0 and page["staffing"]["complete"] is False
        admin = await first_sign_in(api, ADMIN, admin_once)
        staff = await first_sign_in(api, COMMUNITY_STAFF, given[COMMUNITY_STAFF])

        r = await api.post("/api/cases", json=report_body(demo_spot(demo_city)), headers=admin)
        assert r.status_code == 201, r.text
        case = r.json()
        assert case["grid_code"] == DEMO_GRID_CODE
        staff_id = (await api.get("/api/me", headers=staff)).json()["id"]
        case = await step(api, admin, case, "accept")
        case = await step(api, admin, case, "dispatch", assignee=staff_id)
        case = await step(api, staff, case, "start")
        case = await step(api, staff, case, "handle", result="已处理")
        case = await step(api, admin, case, "verify")
        case = await step(api, admin, case, "close")
        assert case["status"] == "closed"
