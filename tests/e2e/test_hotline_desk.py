"""The 12345 hotline desk end to end, in Chromium at a desktop's size (1366 × 768), against a
server of its own (its SMS console file is read): an operator finds a building by typing part
of its address, enters a call, and the caller's text message holds the tracking code; the
grid handles and closes the case; the desk's call back records the caller's rating, which the
case shows and the assessment counts in 满意率."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect

from backend.demo import DEMO_PASSWORD
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE
from tests.e2e.conftest import app_server, screenshot
from tests.e2e.test_field_app import sign_in

pytestmark = pytest.mark.e2e

DESK = {"width": 1366, "height": 768}
CALLER = "13712340000"


@pytest.fixture(scope="module")
def desk_server(
    tmp_path_factory: pytest.TempPathFactory, city_template: tuple[str, str]
) -> Iterator[tuple[str, Path]]:
    """A server whose data folder (and so its SMS console file) the test knows."""
    data = tmp_path_factory.mktemp("hotline-data")
    with app_server(tmp_path_factory, city_template, "hotline", WANGGE_DATA_DIR=str(data)) as base:
        yield base, data


def api(base: str, role: str) -> httpx.Client:
    token = httpx.post(
        f"{base}/api/auth/sign-in",
        json={"phone": DEMO_ACCOUNTS[role], "password": DEMO_PASSWORD},
    ).json()["token"]
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def close_through_the_grid(base: str, case_id: int) -> None:
    """Accept, dispatch, handle, verify and close, as the demo grid's leader and worker."""
    leader, worker = api(base, "grid_leader"), api(base, "grid_worker")
    worker_id = worker.get("/api/me").json()["id"]
    steps = [
        (leader, {"action": "accept"}),
        (leader, {"action": "dispatch", "assignee": worker_id}),
        (worker, {"action": "start"}),
        (worker, {"action": "handle", "result": "已更换灯泡"}),
        (leader, {"action": "verify"}),
        (leader, {"action": "close"}),
    ]
    for who, step in steps:
        version = leader.get(f"/api/cases/{case_id}").json()["version"]
        r = who.post(f"/api/cases/{case_id}/transitions", json={**step, "version": version})
        assert r.status_code == 200, (step, r.text)


def texts_to(data: Path, phone: str) -> list[dict]:
    path = data / "sms.log"
    lines = path.read_text().splitlines() if path.exists() else []
    return [m for m in map(json.loads, lines) if m["phone"] == phone]


async def test_a_call_is_entered_texted_closed_and_called_back(browser: Browser, desk_server):
    base, data = desk_server
    context = await browser.new_context(viewport=DESK, locale="zh-CN")
    page = await context.new_page()
    try:
        await sign_in(page, base, "hotline_operator")
        await expect(page).to_have_url(f"{base}/app/hotline")
        await page.get_by_test_id("caller-phone").locator("input").fill(CALLER)
        await page.get_by_test_id("caller-name").locator("input").fill("王女士")
        await page.get_by_test_id("category").click()
        await page.locator(".van-cascader__option", has_text="市政设施").click()
        await page.locator(".van-cascader__option", has_text="路灯不亮").click()
        await page.get_by_test_id("description").locator("textarea").fill("3号楼前路灯不亮")

        # Part of the address, as the caller says it: the community and the building.
        await page.get_by_test_id("address-search").locator("input").fill("团结 3号楼")
        first = page.get_by_test_id("suggestion").first
        await expect(first).to_contain_text("团结小区3号楼")
        await expect(first).to_contain_text("团结社区")
        names = (
            await page.get_by_test_id("suggestion").locator(".van-cell__title").all_inner_texts()
        )
        assert not any("13号楼" in n or "23号楼" in n for n in names), names
        await screenshot(page, "hotline-address-search")
        await first.click()
        await expect(page.get_by_test_id("chosen-place")).to_contain_text("团结小区3号楼")

        await page.get_by_test_id("submit-call").click()
        code = (await page.get_by_test_id("tracking-code").inner_text()).strip()
        assert len(code) == 11 and code[5] == "-", code
        await expect(page.get_by_test_id("sms-state")).to_contain_text("已短信发送")
        [text] = texts_to(data, CALLER)
        assert (text["template"], text["params"]) == ("tracking_code", {"code": code})
        assert code in text["text"]
        await screenshot(page, "hotline-call-taken")

        operator = api(base, "hotline_operator")
        [call] = operator.get(f"/api/hotline/callers/{CALLER}").json()["history"]
        case_id = call["case_id"]
        case = api(base, "city_admin").get(f"/api/cases/{case_id}").json()
        assert (case["source"], case["contact_phone"], case["grid_code"]) == (
            "hotline",
            CALLER,
            DEMO_GRID_CODE,
        )
        close_through_the_grid(base, case_id)

        # 回访: the closed call waits on the desk; the caller's rating goes in.
        await page.get_by_role("tab", name="回访").click()
        item = page.get_by_test_id("callback").filter(has_text=f"#{case_id}")
        await expect(item).to_contain_text("王女士")
        await item.locator(".van-rate__item").nth(3).click()  # four stars
        await item.get_by_test_id("callback-comment").locator("input").fill("修得及时")
        await item.get_by_test_id("save-callback").click()
        await expect(page.get_by_text("评价已记录")).to_be_visible()
        await expect(item).to_have_count(0)

        # The case shows the rating, and the assessment counts it in 满意率.
        await page.goto(f"{base}/app/cases/{case_id}")
        rated = page.locator(".van-cell", has_text="评价").locator(".van-rate")
        await expect(rated.locator(".van-rate__item .van-icon-star")).to_have_count(4)
        await screenshot(page, "hotline-case-rated")
        assert api(base, "city_admin").get(f"/api/cases/{case_id}").json()["rating"] == 4
        answer = (
            api(base, "city_admin")
            .get(
                "/api/assessment",
                params={"period": datetime.now().strftime("%Y-%m"), "level": "grid"},
            )
            .json()
        )
        [unit] = [u for u in answer["units"] if u["code"] == DEMO_GRID_CODE]
        assert (unit["figures"]["rated"], unit["figures"]["satisfied"]) == (1, 1)
        assert unit["figures"]["satisfied_share"] == 1.0
    finally:
        await context.close()
