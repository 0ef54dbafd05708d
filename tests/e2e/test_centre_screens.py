"""The centres' and admins' screens end to end, against the shared server.

At a phone's size: a district admin switches a community into emergency and back from the app,
confirming each way; a community's staff publish a party need and confirm the hours a member
reports; the ranking's drill-down is a table with named columns and a link to each case. At
1920 × 1080: the big screen has no tab bar, its counters stay off the map, its legend shows, and
a case reported meanwhile appears in its "newest" list over the live stream.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import shapely
from playwright.async_api import Browser, BrowserContext, Page, expect

from geo.demo import DEMO_GRID_CODE
from tests.e2e.conftest import PHONE, screenshot
from tests.e2e.test_field_app import sign_in
from tests.e2e.test_governance_app import COMMUNITY, LiveSockets, accepted_case, api

pytestmark = pytest.mark.e2e

__all__ = ["accepted_case"]  # a fixture, used below by name

ZONE = "Asia/Shanghai"
WALL = {"width": 1920, "height": 1080}


async def phone(browser: Browser) -> BrowserContext:
    return await browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id=ZONE,
    )


def local_input(at: datetime) -> str:
    """What a datetime-local input holds: the browser's wall-clock time, to the minute."""
    return at.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%dT%H:%M")


async def confirm_dialog(page: Page) -> None:
    await page.locator(".van-dialog").get_by_role("button", name="确认").click()


async def test_an_admin_switches_a_community_into_emergency_and_back(browser, live_server):
    ctx = await phone(browser)
    page = await ctx.new_page()
    admin = api(live_server, "district_admin")
    reason = "强降雨预警，低洼楼栋逐户排查"
    try:
        await sign_in(page, live_server, "district_admin")
        await page.goto(f"{live_server}/app/emergency")
        await expect(page.get_by_test_id("no-active-mode")).to_be_visible(timeout=15_000)
        await page.get_by_test_id("switch-area").select_option(COMMUNITY)
        await page.get_by_test_id("kind-flood").click()
        await page.locator("textarea[name=reason]").fill(reason)
        await page.get_by_test_id("switch-on").click()
        # Nothing is switched before the admin confirms what the dialog says.
        dialog = page.locator(".van-dialog")
        await expect(dialog).to_contain_text("团结社区")
        await expect(dialog).to_contain_text("50%")
        assert admin.get("/api/emergency/modes", params={"area": COMMUNITY}).json()["modes"] == []
        await confirm_dialog(page)

        row = page.locator(f"[data-testid=active-mode][data-area='{COMMUNITY}']")
        await expect(row).to_contain_text("汛情", timeout=15_000)
        [mode] = admin.get("/api/emergency/modes", params={"area": COMMUNITY}).json()["modes"]
        assert (mode["kind"], mode["factor"], mode["reason"]) == ("flood", 0.5, reason)
        await expect(page.get_by_test_id("history-row").first).to_contain_text(reason)
        await screenshot(page, "app-emergency-switch")

        await page.get_by_test_id(f"end-{COMMUNITY}").click()
        await page.locator("textarea[name=end_reason]").fill("预警解除")
        await confirm_dialog(page)
        await expect(page.get_by_test_id("no-active-mode")).to_be_visible(timeout=15_000)
        assert admin.get("/api/emergency/modes", params={"area": COMMUNITY}).json()["modes"] == []
        await expect(page.get_by_test_id("history-row").first).to_contain_text("预警解除")
    finally:
        # Whatever failed above, the shared server goes back to peacetime for the other tests.
        admin.post(f"/api/emergency/modes/{COMMUNITY}/end", json={"reason": "测试结束"})
        admin.close()
        await ctx.close()


async def test_the_community_publishes_a_need_and_confirms_a_members_hours(browser, live_server):
    title = f"社区义诊志愿者 {uuid.uuid4().hex[:6]}"
    now = datetime.now(ZoneInfo(ZONE))
    ctx = await phone(browser)
    page = await ctx.new_page()
    try:
        await sign_in(page, live_server, "community_staff")
        await page.goto(f"{live_server}/app/party-needs")
        form = page.get_by_test_id("need-form")
        # The place starts in the middle of the community, and the community is the staff's own.
        await expect(form.get_by_test_id("need-spot")).to_contain_text(
            re.compile(r"\d+\.\d{5}, \d+\.\d{5}"), timeout=15_000
        )
        await form.locator("input[name=title]").fill(title)
        await form.locator("input[name=place]").fill("团结社区党群服务中心")
        await form.locator("input[name=starts_at]").fill(local_input(now - timedelta(hours=1)))
        await form.locator("input[name=ends_at]").fill(local_input(now + timedelta(hours=2)))
        await page.get_by_test_id("need-publish").click()
        await expect(page.get_by_text(title)).to_be_visible(timeout=15_000)

        # A member of the community takes it and reports the hours, from their own phone.
        with api(live_server, "community_staff") as staff:
            [need] = [n for n in staff.get("/api/party/needs").json() if n["title"] == title]
        assert need["community"]["code"] == COMMUNITY and need["capacity"] == 5
        with api(live_server, "grid_police") as member:
            joined = member.put(
                "/api/party/me", json={"work_unit": "乌海市公安局", "home_community": COMMUNITY}
            )
            assert joined.status_code in (200, 201), joined.text
            claim = member.post(f"/api/party/needs/{need['id']}/claims").json()
            reported = member.post(
                f"/api/party/claims/{claim['id']}/report", json={"hours": 1.5, "note": "量血压"}
            )
            assert reported.status_code == 200, reported.text

        await page.reload()
        row = page.locator(f"[data-testid=hours-row][data-claim='{claim['id']}']")
        await expect(row).to_contain_text("1.5 小时", timeout=15_000)
        await expect(row).to_contain_text(title)
        await screenshot(page, "app-party-needs")
        await page.get_by_test_id(f"confirm-{claim['id']}").click()
        await expect(row).to_be_hidden(timeout=15_000)
        with api(live_server, "community_staff") as staff:
            read = staff.get(f"/api/party/needs/{need['id']}").json()
        assert [c["status"] for c in read["claims"]] == ["confirmed"]
    finally:
        await ctx.close()


async def test_the_ranking_drills_down_to_a_table_of_cases_with_links(
    browser, live_server, accepted_case
):
    ctx = await phone(browser)
    page = await ctx.new_page()
    try:
        await sign_in(page, live_server, "community_staff")
        await page.goto(f"{live_server}/app/dashboard")
        await expect(page.locator("[data-testid=dashboard][data-loaded]")).to_be_attached(
            timeout=20_000
        )
        await page.locator(f"[data-testid=rank-row][data-code='{DEMO_GRID_CODE}']").click()
        await page.get_by_test_id("figure-accepted").click()
        table = page.get_by_test_id("drill-table")
        await expect(table).to_have_attribute("data-kind", "case", timeout=15_000)
        for heading in ("编号", "网格", "状态", "上报时间", "受理时间", "计入"):
            await expect(table.locator("th", has_text=heading).first).to_be_visible()
        assert "{" not in await table.inner_text()  # no raw JSON left
        link = page.get_by_role("link", name=f"#{accepted_case['id']}", exact=True)
        await expect(table.locator("a", has_text=f"#{accepted_case['id']}").first).to_be_visible()
        row = page.get_by_test_id("drill-row").filter(has=link)
        await expect(row).to_contain_text("已立案")
        await screenshot(page, "app-drill-table")
        await link.click()
        await expect(page).to_have_url(f"{live_server}/app/cases/{accepted_case['id']}")
    finally:
        await ctx.close()


def boxes_meet(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


async def test_the_big_screen_at_1920_shows_a_new_case_live_beside_its_map(
    browser, live_server, demo_city
):
    ctx = await browser.new_context(viewport=WALL, locale="zh-CN", timezone_id=ZONE)
    page = await ctx.new_page()
    try:
        sockets = LiveSockets(page)
        await sign_in(page, live_server, "community_staff")
        sockets.only_new()
        await page.goto(f"{live_server}/app/screen")
        await page.wait_for_function(
            "() => document.documentElement.dataset.screenReady === '1'", timeout=30_000
        )
        async with asyncio.timeout(20):
            await sockets.subscribed.wait()

        # A wall, not a phone: no tab bar, and the counters beside the map, not over it.
        await expect(page.locator(".van-tabbar")).to_have_count(0)
        canvas = await page.locator("[data-testid=screen-map] canvas").bounding_box()
        counters = await page.get_by_test_id("screen-counters").bounding_box()
        assert canvas and counters
        assert canvas["width"] > 1200 and canvas["height"] > 900
        assert not boxes_meet(canvas, counters)
        legend = page.get_by_test_id("screen-legend")
        await expect(legend).to_be_visible()
        await expect(legend).to_contain_text("超期案件")
        await expect(page.get_by_test_id("screen-trend")).to_be_visible()
        # Every element that holds text of its own, as drawn at 1920 px: none under 16 px.
        smallest = await page.evaluate(
            """() => Math.min(...[...document.querySelectorAll('[data-testid=screen] *')]
                .filter((e) => [...e.childNodes].some((n) => n.nodeType === 3 && n.data.trim()))
                .filter((e) => e.getClientRects().length)
                .map((e) => parseFloat(getComputedStyle(e).fontSize)))"""
        )
        assert smallest >= 16

        spot = shapely.point_on_surface(
            demo_city.grids.set_index("code").loc[DEMO_GRID_CODE].geometry
        )
        description = f"大屏实时测试：路灯不亮 {uuid.uuid4().hex[:6]}"
        with api(live_server, "resident") as resident:
            made = resident.post(
                "/api/cases/",
                json={
                    "client_id": str(uuid.uuid4()),
                    "kind": "request",
                    "category": "0101",
                    "description": description,
                    "lon": spot.x,
                    "lat": spot.y,
                },
            )
            assert made.status_code == 201, made.text
        row = page.locator(f"[data-testid=screen-new-case][data-id='{made.json()['id']}']")
        await expect(row).to_contain_text(description, timeout=10_000)
        await screenshot(page, "app-big-screen")

        # The wall has its own language switch, the nav bar being gone.
        await page.get_by_test_id("screen-language").click()
        await expect(legend).to_contain_text("Overdue case")
        await expect(page.get_by_test_id("screen-new")).to_contain_text("Newest reports")
        await screenshot(page, "app-big-screen-en")
    finally:
        await ctx.close()
