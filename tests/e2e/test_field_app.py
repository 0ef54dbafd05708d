"""The field app end to end, in Chromium at a phone's size, against one real server.

A resident reports with a photo and the grid leader's open inbox shows it without reloading;
the leader takes it to closure and the resident's open page shows it closed. A worker files an
incident with no network and exactly one case exists once the network is back.
"""

from __future__ import annotations

import io
import re
import uuid

import httpx
import pytest
import shapely
from PIL import Image
from playwright.async_api import Browser, BrowserContext, Page, expect

from backend.demo import DEMO_PASSWORD
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE
from tests.e2e.conftest import PHONE, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.both_databases]


@pytest.fixture
def spot(demo_city) -> dict[str, float]:
    grid = demo_city.grids.set_index("code").loc[DEMO_GRID_CODE].geometry
    p = shapely.point_on_surface(grid)
    return {"longitude": p.x, "latitude": p.y, "accuracy": 8}


def photo_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (2400, 1800), (30, 120, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


async def phone(browser: Browser, spot: dict[str, float]) -> BrowserContext:
    return await browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        permissions=["geolocation"],
        geolocation=spot,
    )


async def sign_in(page: Page, base: str, role: str) -> None:
    await page.goto(f"{base}/app/sign-in")
    await page.locator("input[name=phone]").fill(DEMO_ACCOUNTS[role])
    await page.locator("input[name=password]").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await expect(page.get_by_test_id("who")).to_be_visible()


async def report(
    page: Page, base: str, description: str, *, photo: bool, category: tuple[str, str]
) -> None:
    if not page.url.endswith("/app/report"):
        await page.goto(f"{base}/app/report")
        await expect(page.get_by_test_id("routed-grid")).to_contain_text("网格", timeout=20_000)
    await page.get_by_test_id("category").click()
    await page.get_by_role("tab").first.wait_for()
    group, leaf = category
    await page.locator(".van-cascader__option", has_text=group).click()
    await page.locator(".van-cascader__option", has_text=leaf).click()
    await page.locator("textarea[name=description]").fill(description)
    if photo:
        await page.locator("input[type=file]").set_input_files(
            files=[{"name": "light.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes()}]
        )
        await expect(page.locator(".van-uploader__preview")).to_have_count(1)
    await page.get_by_test_id("submit-case").click()
    # A similar open case nearby is offered first; these tests want a case of their own.
    new_case = page.get_by_role("button", name="仍然新建")
    if await new_case.is_visible(timeout=2_000):
        await new_case.click()


def bearer(base: str, role: str) -> dict[str, str]:
    token = httpx.post(
        f"{base}/api/auth/sign-in",
        json={"phone": DEMO_ACCOUNTS[role], "password": DEMO_PASSWORD},
    ).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def api_cases(base: str, role: str, text: str) -> list[dict]:
    page = httpx.get(
        f"{base}/api/case-list/",
        params={"q": text, "limit": 100},
        headers=bearer(base, role),
    ).json()
    return page["items"]


# Steps the app asks about before sending (the destructive ones and 受理立案, 核查, 结案).
CONFIRMED = {"accept", "verify", "verify_on_site", "close", "withdraw", "reject", "request_void"}


async def act(page: Page, action: str, **fields: str) -> None:
    button = page.get_by_test_id(f"action-{action}")
    box = await button.bounding_box()
    assert box is not None and round(box["height"]) >= 44, box  # layout gives 43.99998 for 44 px
    await button.click()
    if action in CONFIRMED:
        dialog = page.locator(".van-dialog")
        await expect(dialog).to_be_visible()
        await dialog.locator(".van-dialog__confirm").click()
    for name, value in fields.items():
        if name == "assignee":
            await page.locator(".van-radio", has_text=value).click()
        else:
            await page.locator(f"[name={name}]").fill(value)
    if fields:
        await page.get_by_test_id("action-submit").click()


async def test_a_request_reaches_the_leader_live_and_comes_back_closed(browser, live_server, spot):
    resident_ctx, leader_ctx = await phone(browser, spot), await phone(browser, spot)
    resident, leader = await resident_ctx.new_page(), await leader_ctx.new_page()
    try:
        await sign_in(leader, live_server, "grid_leader")
        await expect(leader).to_have_url(re.compile(r"/app/inbox$"))

        await sign_in(resident, live_server, "resident")
        await report(
            resident,
            live_server,
            "小区路灯不亮，已经三天了",
            photo=True,
            category=("市政设施", "路灯不亮"),
        )
        await expect(resident).to_have_url(re.compile(r"/app/mine$"))
        card = resident.locator("[data-status]", has_text="小区路灯不亮")
        await expect(card).to_be_visible(timeout=20_000)
        await screenshot(resident, "app-resident-mine")

        # The leader's inbox was open all along: the case arrives over the live stream.
        in_inbox = leader.locator("[data-status=submitted]", has_text="小区路灯不亮")
        await expect(in_inbox).to_be_visible(timeout=20_000)
        await screenshot(leader, "app-leader-inbox")
        await in_inbox.click()
        await expect(leader.get_by_test_id("case-status")).to_contain_text("待受理")
        await screenshot(leader, "app-leader-case")
        await act(leader, "accept")
        await act(leader, "dispatch", assignee="专职网格员")
        await expect(leader.get_by_test_id("case-status")).to_contain_text("已派遣", timeout=20_000)

        [case] = api_cases(live_server, "grid_leader", "小区路灯不亮")
        assert case["grid_code"] == DEMO_GRID_CODE
        # One more photo of the problem from the resident, straight to the server (the report's
        # own photo comes through the phone's outbox, in its own time).
        resident_api = bearer(live_server, "resident")
        async with httpx.AsyncClient(base_url=live_server, headers=resident_api) as http:
            before = await http.post(
                f"/api/cases/{case['id']}/photos",
                data={"client_id": str(uuid.uuid4())},
                files={"file": ("before.jpg", photo_bytes(), "image/jpeg")},
            )
        assert before.status_code in (200, 201), before.text
        await resident.get_by_text("小区路灯不亮").click()
        await expect(resident.get_by_test_id("case-status")).to_contain_text(
            "已派遣", timeout=20_000
        )
        await screenshot(resident, "app-resident-case")

        # The worker handles it from their own phone (here through the API); the leader's open
        # case page follows live, and the leader verifies and closes it in the app.
        worker = bearer(live_server, "grid_worker")
        async with httpx.AsyncClient(base_url=live_server, headers=worker) as http:
            after = await http.post(
                f"/api/cases/{case['id']}/photos",
                data={"client_id": str(uuid.uuid4())},
                files={"file": ("after.jpg", photo_bytes(), "image/jpeg")},
            )
            assert after.status_code in (200, 201), after.text
            version = (await http.get(f"/api/cases/{case['id']}")).json()["version"]
            r = await http.post(
                f"/api/cases/{case['id']}/transitions",
                json={"action": "handle", "result": "已更换灯泡，恢复照明", "version": version},
            )
        assert r.status_code == 200, r.text
        await expect(leader.get_by_test_id("case-status")).to_contain_text("已处置", timeout=20_000)
        # The one who verifies sees the evidence: the result, the reporter's photo before and
        # the handler's after, each thumbnail loaded with the token, full size on a tap.
        await expect(leader.get_by_test_id("case-result")).to_contain_text("已更换灯泡")
        for key in ("photosBefore", "photosAfter"):
            thumb = leader.get_by_test_id(f"case-{key}").locator("img").first
            await expect(thumb).to_be_visible(timeout=20_000)
            await expect(thumb).to_have_js_property("complete", True)
            assert await thumb.evaluate("img => img.naturalWidth") > 0
        await leader.get_by_test_id("case-photosAfter").get_by_test_id("case-photo").click()
        await expect(leader.locator(".van-image-preview img")).to_be_visible()
        await screenshot(leader, "app-leader-case-photo")
        await leader.locator(".van-image-preview__close-icon").click()
        await expect(leader.locator(".van-image-preview")).to_be_hidden()
        await screenshot(leader, "app-leader-case-evidence")
        # Each step says which post took it.
        await expect(leader.locator(".van-step", has_text="受理立案")).to_contain_text("网格长")
        await expect(leader.locator(".van-step", has_text="处置完成")).to_contain_text("网格员")
        await act(leader, "verify")
        await expect(leader.get_by_test_id("case-status")).to_contain_text("已核查", timeout=20_000)
        await act(leader, "close")
        await expect(leader.get_by_test_id("case-status")).to_contain_text("已结案", timeout=20_000)

        # The resident's page was never reloaded.
        await expect(resident.get_by_test_id("case-status")).to_contain_text(
            "已结案", timeout=20_000
        )
        # The page names the grid that owns the case and each step of its timeline.
        async with httpx.AsyncClient(base_url=live_server, headers=worker) as http:
            owner = (await http.get(f"/api/cases/{case['id']}")).json()["owner_name"]
        assert owner
        await expect(resident.get_by_text(owner)).to_be_visible()
        await expect(resident.get_by_text("提交", exact=True)).to_be_visible()
        await screenshot(resident, "app-resident-case-closed")
    finally:
        await resident_ctx.close()
        await leader_ctx.close()


async def test_an_incident_filed_offline_becomes_exactly_one_case(browser, live_server, spot):
    ctx = await phone(browser, spot)
    page = await ctx.new_page()
    try:
        await sign_in(page, live_server, "grid_worker")
        # The inbox, synced once, is what the phone shows offline.
        await expect(page.locator("[data-testid=case-list][data-synced]")).to_be_attached()
        await page.goto(f"{live_server}/app/report")
        await expect(page.get_by_test_id("routed-grid")).to_contain_text("网格", timeout=20_000)
        # The app's code comes from the worker's precache once it controls the page.
        await page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        # Offline mode does not stop a service worker's requests: the API is blocked as well.
        await ctx.set_offline(True)
        await ctx.route(re.compile(r".*/api/.*"), lambda route: route.abort())
        await report(
            page,
            live_server,
            "楼道堆放杂物，堵塞消防通道",
            photo=False,
            category=("市政设施", "井盖缺失"),
        )
        await expect(page.get_by_test_id("outbox-count")).to_contain_text("1", timeout=10_000)
        await expect(page.get_by_text("离线，显示")).to_be_visible(timeout=15_000)  # from the phone
        await screenshot(page, "app-worker-offline-outbox")
        assert api_cases(live_server, "grid_leader", "堵塞消防通道") == []

        await ctx.unroute(re.compile(r".*/api/.*"))
        await ctx.set_offline(False)
        await expect(page.get_by_test_id("outbox-banner")).to_be_hidden(timeout=30_000)
        found = api_cases(live_server, "grid_leader", "堵塞消防通道")
        assert len(found) == 1
        assert found[0]["kind"] == "incident"
    finally:
        await ctx.close()
