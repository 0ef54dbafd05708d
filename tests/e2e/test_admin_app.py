"""The city admin's settings end to end, in Chromium on a desktop, against a server of its own
(it changes the city's categories and calendar): a category's time to close put on the wall
clock and renamed from the tree; a day of 国庆 2026's month made a working day and given back."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from backend.demo import DEMO_PASSWORD
from geo.demo import DEMO_ACCOUNTS
from tests.e2e.conftest import app_server, screenshot

pytestmark = pytest.mark.e2e


@pytest.fixture
def admin_server(tmp_path_factory, city_template):
    with app_server(tmp_path_factory, city_template, "admin") as base:
        yield base


async def test_the_city_admin_edits_a_category_and_the_calendar(browser: Browser, admin_server):
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = await ctx.new_page()
    try:
        await page.goto(f"{admin_server}/app/sign-in")
        await page.locator("input[name=phone]").fill(DEMO_ACCOUNTS["city_admin"])
        await page.locator("input[name=password]").fill(DEMO_PASSWORD)
        await page.get_by_role("button", name="登录", exact=True).click()
        await expect(page.get_by_test_id("who")).to_be_visible()
        await page.goto(f"{admin_server}/app/categories")
        group = page.get_by_test_id("category-group").filter(has_text="B03 市容环境")
        await group.click()
        await group.get_by_test_id("category-row").filter(has_text="垃圾箱").click()
        sheet = page.locator(".sheet")
        await sheet.locator("input[name=name]").fill("垃圾箱（桶）")
        limits = sheet.get_by_test_id("category-limits")
        await limits.get_by_label("结案 一般").fill("96")
        close = limits.locator("tbody tr").filter(has_text="结案")
        await close.locator("input[type=checkbox]").nth(2).check()
        await screenshot(page, "admin-category")
        await page.get_by_test_id("category-save").click()
        await expect(sheet).to_be_hidden()
        row = group.get_by_test_id("category-row").filter(has_text="垃圾箱（桶）")
        await expect(row).to_contain_text("结案 96 小时")
        saved = await page.evaluate(
            "fetch('/api/categories').then(r => r.json())"
            ".then(l => l.find(c => c.code === 'B0302'))"
        )
        assert saved["limits"]["close"]["normal"] == {"hours": 96, "calendar": True}

        await page.get_by_test_id("tab-calendar").click()
        month = page.get_by_test_id("calendar-month")
        while (await month.inner_text()) != "2026年10月":
            before = await month.inner_text()
            await page.get_by_role("button", name="上个月").click()
            await expect(month).not_to_have_text(before)
        sunday = page.locator('[data-date="2026-10-11"]')
        await expect(sunday).to_contain_text("周末")
        await expect(page.locator('[data-date="2026-10-10"]')).to_contain_text("调休上班")
        await expect(page.locator('[data-date="2026-10-01"]')).to_contain_text("国庆节")
        await sunday.click()
        await page.get_by_test_id("calendar-reason").locator("input").fill("防汛备勤")
        await page.get_by_test_id("calendar-toggle").click()
        await expect(sunday).to_contain_text("防汛备勤")
        await expect(sunday).to_have_class(re.compile(r"\bextra_workday\b"))
        await screenshot(page, "admin-calendar")
        await sunday.click()
        await page.get_by_test_id("calendar-restore").click()
        await page.get_by_role("button", name="确认").click()
        await expect(sunday).to_contain_text("周末")
    finally:
        await ctx.close()
