"""An inbox whose server fails shows the copy of its last sync, says why in Chinese and offers a
retry, for each way a server fails: a 500, a proxy's 502 HTML page, no answer, no network.
"""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
import shapely
from playwright.async_api import Browser, Page, Route, expect

from backend.demo import DEMO_PASSWORD
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE
from tests.e2e.conftest import PHONE, screenshot

pytestmark = pytest.mark.e2e

LIST = re.compile(r".*/api/case-list/.*")
SHOWN_FROM = re.compile(r"显示 \d{2}:\d{2} 的数据")


def submitted_case(base: str, demo_city) -> str:
    """A resident's request in the demo grid, over the API: the leader's inbox holds it."""
    spot = shapely.point_on_surface(demo_city.grids.set_index("code").loc[DEMO_GRID_CODE].geometry)
    description = f"路灯不亮 {uuid.uuid4().hex[:6]}"
    token = httpx.post(
        f"{base}/api/auth/sign-in",
        json={"phone": DEMO_ACCOUNTS["resident"], "password": DEMO_PASSWORD},
    ).json()["token"]
    r = httpx.post(
        f"{base}/api/cases/",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "client_id": str(uuid.uuid4()),
            "kind": "request",
            "category": "0101",
            "description": description,
            "lon": spot.x,
            "lat": spot.y,
        },
    )
    assert r.status_code in (200, 201), r.text
    return description


async def open_inbox_again(page: Page) -> None:
    """Away to another tab and back: the inbox mounts and asks the server anew."""
    await page.locator(".van-tabbar-item", has_text="上报").click()
    await expect(page).to_have_url(re.compile(r"/app/report"))
    await page.locator(".van-tabbar-item", has_text="待办").click()


async def server_error(route: Route) -> None:
    await route.fulfill(
        status=500,
        content_type="application/json",
        body='{"status": 500, "code": "internal_error", "reason": "internal server error"}',
    )


async def bad_gateway(route: Route) -> None:
    await route.fulfill(
        status=502,
        content_type="text/html",
        body="<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>",
    )


async def never_answer(route: Route) -> None:
    """Takes the request and keeps it: the app's own timeout must end it."""


@pytest.mark.parametrize(
    ("state", "message", "wait_ms"),
    [
        ("500", "服务器故障，显示", 10_000),
        ("502", "服务器暂时无法访问（502）", 10_000),
        ("hang", "服务器 15 秒未响应", 10_000),
        ("offline", "离线，显示", 10_000),
    ],
)
async def test_a_failing_inbox_shows_the_last_synced_copy(
    browser: Browser, live_server: str, demo_city, state: str, message: str, wait_ms: int
) -> None:
    description = submitted_case(live_server, demo_city)
    ctx = await browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = await ctx.new_page()
    if state == "hang":
        # The app gives up on a request after 15 s: the page's clock is moved on, not waited.
        await page.clock.install()
    try:
        await page.goto(f"{live_server}/app/sign-in")
        await page.locator("input[name=phone]").fill(DEMO_ACCOUNTS["grid_leader"])
        await page.locator("input[name=password]").fill(DEMO_PASSWORD)
        await page.get_by_role("button", name="登录").click()
        await expect(page.get_by_test_id("who")).to_be_visible()
        await page.goto(f"{live_server}/app/inbox")
        await expect(page.locator("[data-testid=case-list][data-synced]")).to_be_attached()
        await expect(page.get_by_text(description)).to_be_visible()

        if state == "offline":
            # Offline, the other tab's code comes from the service worker's precache.
            await page.wait_for_function("() => navigator.serviceWorker.controller !== null")
            await ctx.set_offline(True)
            await ctx.route(LIST, lambda route: route.abort("internetdisconnected"))
        else:
            handler = {"500": server_error, "502": bad_gateway, "hang": never_answer}[state]
            await ctx.route(LIST, handler)
        if state == "hang":
            async with page.expect_request(LIST):
                await open_inbox_again(page)
            await page.clock.fast_forward(15_500)
        else:
            await open_inbox_again(page)

        trouble = page.get_by_test_id("list-trouble")
        await expect(trouble).to_contain_text(message, timeout=wait_ms)
        await expect(trouble).to_contain_text(SHOWN_FROM)
        for raw in ("Bad Gateway", "internal server error", "暂无案件"):
            await expect(page.get_by_text(raw)).to_have_count(0)
        await expect(page.get_by_text(description)).to_be_visible()
        retry = page.get_by_test_id("list-retry")
        box = await retry.bounding_box()
        assert box is not None and round(box["height"]) >= 44  # layout gives 43.99998 for 44 px
        await screenshot(page, f"app-inbox-fallback-{state}")

        # The server is back: a retry syncs the list and the notice goes away.
        await ctx.unroute(LIST)
        await ctx.set_offline(False)
        await retry.click()
        await expect(trouble).to_have_count(0)
        await expect(page.locator("[data-testid=case-list][data-synced]")).to_be_attached()
        await expect(page.get_by_text(description)).to_be_visible()
    finally:
        await ctx.close()


async def test_a_failing_inbox_with_no_copy_says_why_in_chinese(
    browser: Browser, live_server: str
) -> None:
    ctx = await browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = await ctx.new_page()
    try:
        await ctx.route(LIST, bad_gateway)
        await page.goto(f"{live_server}/app/sign-in")
        await page.locator("input[name=phone]").fill(DEMO_ACCOUNTS["grid_leader"])
        await page.locator("input[name=password]").fill(DEMO_PASSWORD)
        await page.get_by_role("button", name="登录").click()
        await expect(page.get_by_test_id("who")).to_be_visible()
        await page.goto(f"{live_server}/app/inbox")
        trouble = page.get_by_test_id("list-trouble")
        await expect(trouble).to_contain_text("服务器暂时无法访问（502），请稍后重试")
        await expect(page.get_by_text("暂无案件")).to_have_count(0)
        await expect(page.get_by_text("Bad Gateway")).to_have_count(0)
        await expect(page.get_by_test_id("list-retry")).to_be_visible()
    finally:
        await ctx.close()
