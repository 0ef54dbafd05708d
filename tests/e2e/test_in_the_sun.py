"""Usable with a thumb in the sun: 44 × 44 px targets on the case and report pages, an emergency
banner that folds to one line and stays folded, and an outbox banner that counts reports.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest
import shapely
from playwright.async_api import Browser, Page, Route, expect

from geo.demo import DEMO_GRID_CODE
from tests.e2e.conftest import PHONE, screenshot
from tests.e2e.test_accessibility import MODES, a_case, signed_in
from tests.e2e.test_field_app import photo_bytes, report

pytestmark = pytest.mark.e2e


@pytest.fixture
def spot(demo_city) -> dict[str, float]:
    p = shapely.point_on_surface(demo_city.grids.set_index("code").loc[DEMO_GRID_CODE].geometry)
    return {"longitude": p.x, "latitude": p.y, "accuracy": 8}


TARGETS = ".van-button, .van-tabbar-item, .van-rate__item, .van-uploader__preview-delete, button"


async def small_targets(page: Page, selector: str = TARGETS) -> list[str]:
    """Each visible target under 44 × 44 px, its size rounded to 0.5 px as layout reports
    43.99998 for 44."""
    boxes = await page.locator(selector).evaluate_all(
        """els => els.filter(e => e.offsetParent !== null).map(e => {
            const r = e.getBoundingClientRect();
            return [e.className || e.tagName, r.width, r.height];
        })"""
    )
    half = lambda v: round(v * 2) / 2  # noqa: E731
    return [f"{n}: {half(w)} × {half(h)}" for n, w, h in boxes if half(w) < 44 or half(h) < 44]


def closed_case(base: str, demo_city) -> int:
    """A resident's case taken to closure over the API: the resident may rate it."""
    case = a_case(base, demo_city)
    leader = {"Authorization": f"Bearer {signed_in(base, 'grid_leader')['token']}"}
    worker = signed_in(base, "grid_worker")
    steps = [
        (leader, {"action": "accept"}),
        (leader, {"action": "dispatch", "assignee": worker["me"]["id"]}),
        ({"Authorization": f"Bearer {worker['token']}"}, {"action": "handle", "result": "已修好"}),
        (leader, {"action": "verify"}),
        (leader, {"action": "close"}),
    ]
    with httpx.Client(base_url=base, timeout=30) as http:
        for headers, body in steps:
            version = http.get(f"/api/cases/{case}", headers=headers).json()["version"]
            r = http.post(
                f"/api/cases/{case}/transitions", json={**body, "version": version}, headers=headers
            )
            assert r.status_code == 200, (body, r.text)
    return case


async def as_role(browser: Browser, base: str, role: str, **options):
    context = await browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        **options,
    )
    session = json.dumps(signed_in(base, role))
    await context.add_init_script(f"localStorage.setItem('wangge.session', {json.dumps(session)})")
    return context


async def test_targets_on_the_case_and_report_pages_are_44_px(
    browser: Browser, live_server: str, demo_city, spot
):
    case = closed_case(live_server, demo_city)
    context = await as_role(
        browser, live_server, "resident", permissions=["geolocation"], geolocation=spot
    )
    page = await context.new_page()
    try:
        await page.goto(f"{live_server}/app/cases/{case}")
        await expect(page.get_by_test_id("action-rate")).to_be_visible(timeout=20_000)
        assert await small_targets(page) == []
        await page.get_by_test_id("action-rate").click()
        await expect(page.locator(".van-popup .van-rate__item")).to_have_count(5)
        assert await small_targets(page) == []
        await screenshot(page, "app-case-rate-targets")

        await page.goto(f"{live_server}/app/report")
        await expect(page.get_by_test_id("routed-grid")).to_contain_text("网格", timeout=20_000)
        await page.locator("input[type=file]").set_input_files(
            files=[{"name": "p.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes()}]
        )
        await expect(page.locator(".van-uploader__preview-delete")).to_have_count(1)
        assert await small_targets(page) == []
        await screenshot(page, "app-report-targets")
    finally:
        await context.close()


async def test_the_emergency_banner_folds_to_one_line_and_stays_folded(
    browser: Browser, live_server: str
):
    """The modes are answered by the test, not switched on the shared server: an emergency
    there would shorten every other test's time limits."""
    modes = list(MODES)

    async def answer(route: Route) -> None:
        await route.fulfill(json={"modes": modes})

    context = await as_role(browser, live_server, "grid_worker")
    await context.route(re.compile(r".*/api/emergency/modes.*"), answer)
    page = await context.new_page()
    try:
        await page.goto(f"{live_server}/app/inbox")
        banner = page.get_by_test_id("emergency-banner")
        await expect(banner).to_contain_text("黄河凌汛")
        unfolded = await banner.bounding_box()
        await page.get_by_test_id("emergency-fold").click()
        await expect(banner).to_have_attribute("data-folded", "true")
        await expect(page.get_by_test_id("emergency-line")).to_contain_text("防汛")
        folded = await banner.bounding_box()
        assert unfolded and folded and round(folded["height"]) <= 44 < unfolded["height"]
        await screenshot(page, "app-emergency-folded")

        await page.reload()
        await expect(page.get_by_test_id("emergency-line")).to_be_visible()

        # A new emergency is news: the banner opens again.
        modes.append({**MODES[0], "id": 9003, "kind": "epidemic", "reason": "流感高发"})
        await page.reload()
        await expect(banner).to_have_attribute("data-folded", "false")
        await expect(banner).to_contain_text("黄河凌汛")
    finally:
        await context.close()


async def test_the_outbox_banner_counts_a_report_with_its_photos_once(
    browser: Browser, live_server: str, spot
):
    context = await as_role(
        browser, live_server, "grid_worker", permissions=["geolocation"], geolocation=spot
    )
    page = await context.new_page()
    api = re.compile(r".*/api/.*")
    try:
        await page.goto(f"{live_server}/app/report")
        await expect(page.get_by_test_id("routed-grid")).to_contain_text("网格", timeout=20_000)
        await page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        await context.set_offline(True)
        await context.route(api, lambda route: route.abort())
        photos = [
            {"name": f"{n}.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes()}
            for n in range(2)
        ]
        await page.locator("input[type=file]").set_input_files(files=photos)
        await expect(page.locator(".van-uploader__preview")).to_have_count(2)
        await report(
            page, live_server, "井盖松动，两张照片", photo=False, category=("市政设施", "井盖缺失")
        )
        await expect(page.get_by_test_id("outbox-count")).to_contain_text("1 项待发送")
        await page.goto(f"{live_server}/app/report")
        await expect(page.get_by_test_id("routed-grid")).to_contain_text("网格", timeout=20_000)
        await report(
            page, live_server, "路面塌陷，无照片", photo=False, category=("市政设施", "井盖缺失")
        )
        await expect(page.get_by_test_id("outbox-count")).to_contain_text("2 项待发送")
        await screenshot(page, "app-outbox-two-waiting")
    finally:
        await context.unroute(api)
        await context.close()
