"""The people screens end to end, in Chromium at a phone's size, against the shared server: a
community's staff adds a part-time worker and puts them on a post from the grid's sheet; the
worker signs in with the one-time password shown once, must change it before anything else,
and the grid's sheet shows them as a holder."""

from __future__ import annotations

import re
import secrets

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, expect

from geo.demo import DEMO_GRID_CODE
from tests.e2e.conftest import PHONE, screenshot
from tests.e2e.test_field_app import sign_in

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "my-own-password-1"


async def phone(browser: Browser) -> BrowserContext:
    return await browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )


async def test_a_community_adds_a_parttime_worker_who_must_change_the_password(
    browser, live_server
):
    number = f"136{secrets.randbelow(10**8):08d}"  # the shared server keeps what tests add
    name = f"兼职{number[-4:]}"

    ctx = await phone(browser)
    page = await ctx.new_page()
    try:
        await sign_in(page, live_server, "community_staff")
        await page.goto(f"{live_server}/app/people")
        await expect(page.get_by_test_id("person-row").first).to_be_visible(timeout=20_000)
        await page.get_by_test_id("add-person").click()
        form = page.locator(".add-popup")
        await form.locator("input[name=name]").fill(name)
        await form.locator("input[name=phone]").fill(number)
        await expect(form.get_by_role("radio", name="网格员")).to_be_checked()
        await page.get_by_test_id("add-person-submit").click()
        shown = page.locator(".one-time-password")
        await expect(shown).to_contain_text(number)
        password = re.search(r"一次性密码：([A-Za-z0-9]{12})", await shown.inner_text())[1]
        await screenshot(page, "people-one-time-password")
        await shown.get_by_role("button").click()
        await expect(page.get_by_test_id("person-name")).to_have_text(name)

        # Put them on a part-time post from the grid's sheet.
        await page.goto(f"{live_server}/app/grids/{DEMO_GRID_CODE}")
        await page.get_by_test_id("assign-post").click()
        await page.locator(".assign-popup .van-radio", has_text="兼职网格员").click()
        search = page.get_by_test_id("post-search").locator("input")
        await search.fill(name)
        await search.press("Enter")
        await page.get_by_test_id("post-candidate").filter(has_text=name).click()
        await expect(page.get_by_test_id("post-holder").filter(has_text=name)).to_be_visible()
    finally:
        await ctx.close()

    ctx = await phone(browser)
    page = await ctx.new_page()
    try:
        await page.goto(f"{live_server}/app/sign-in")
        await page.locator("input[name=phone]").fill(number)
        await page.locator("input[name=password]").fill(password)
        await page.get_by_role("button", name="登录", exact=True).click()
        await expect(page).to_have_url(re.compile(r"/app/password$"))
        await expect(page.get_by_test_id("must-change")).to_be_visible()
        await page.goto(f"{live_server}/app/inbox")  # nothing else opens before the change
        await expect(page).to_have_url(re.compile(r"/app/password$"))
        await page.locator("input[name=old]").fill(password)
        await page.locator("input[name=new]").fill(NEW_PASSWORD)
        await page.locator("input[name=again]").fill(NEW_PASSWORD)
        await page.get_by_test_id("save-password").click()
        await expect(page).to_have_url(re.compile(r"/app/inbox$"))

        await page.goto(f"{live_server}/app/grids/{DEMO_GRID_CODE}")
        await expect(page.get_by_test_id("post-holder").filter(has_text=name)).to_be_visible(
            timeout=20_000
        )
        await screenshot(page, "people-grid-sheet-new-holder")
    finally:
        await ctx.close()

    # The one-time password works no more; the worker's own does, holding the post.
    async with httpx.AsyncClient(base_url=live_server) as api:
        old = await api.post("/api/auth/sign-in", json={"phone": number, "password": password})
        new = await api.post("/api/auth/sign-in", json={"phone": number, "password": NEW_PASSWORD})
    assert old.status_code == 401
    assert (new.status_code, new.json()["must_change_password"]) == (200, False)
    posts = {(p["grid_code"], p["post"]) for p in new.json()["person"]["posts"]}
    assert posts == {(DEMO_GRID_CODE, "parttime")}
