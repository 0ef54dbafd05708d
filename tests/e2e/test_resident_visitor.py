"""Residents without an account, end to end in Chromium at a phone's size, on the shared server.

A visitor reports with a photo while the phone has no network; once it is back, the report and
its photo go, and the tracking code shows in "my codes". Its page follows the case the staff
handle (through the API) to closure, with their after-photo, and the visitor rates it. Then the
same person signs up with the console SMS code and finds the request in "my requests".
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import httpx
import pytest
import shapely
from PIL import Image
from playwright.async_api import Page, expect
from playwright.async_api import TimeoutError as PlaywrightTimeout

from backend.demo import DEMO_PASSWORD
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE
from tests.e2e.conftest import PHONE, screenshot
from tests.e2e.test_field_app import phone, photo_bytes

pytestmark = pytest.mark.e2e

VISITOR_PHONE = "13766660001"  # no account yet: the visitor signs up with it at the end
DESCRIPTION = "5号楼单元门口的路灯坏了，晚上很黑"
API = re.compile(r".*/api/.*")


@pytest.fixture
def spot(demo_city) -> dict[str, float]:
    p = shapely.point_on_surface(demo_city.grids.set_index("code").loc[DEMO_GRID_CODE].geometry)
    return {"longitude": p.x, "latitude": p.y, "accuracy": 8}


def signed_in(base: str, role: str) -> tuple[dict[str, str], int]:
    body = httpx.post(
        f"{base}/api/auth/sign-in",
        json={"phone": DEMO_ACCOUNTS[role], "password": DEMO_PASSWORD},
    ).json()
    return {"Authorization": f"Bearer {body['token']}"}, body["person"]["id"]


def handle_with_after_photo(base: str, case_id: int) -> None:
    """What the grid does with the request, as in tests/backend/case_steps.py's paths."""
    leader, _ = signed_in(base, "grid_leader")
    worker, worker_id = signed_in(base, "grid_worker")
    steps = [
        (leader, "accept", {}),
        (leader, "dispatch", {"assignee": worker_id}),
        (worker, "start", {}),
        (worker, "handle", {"result": "已更换灯泡，恢复照明"}),
        (leader, "verify", {}),
        (leader, "close", {}),
    ]
    with httpx.Client(base_url=base) as http:
        for headers, action, body in steps:
            if action == "handle":
                buffer = io.BytesIO()
                Image.new("RGB", (1200, 900), (40, 160, 60)).save(buffer, "JPEG")
                r = http.post(
                    f"/api/cases/{case_id}/photos",
                    files={"file": ("after.jpg", buffer.getvalue(), "image/jpeg")},
                    headers=worker,
                )
                assert r.status_code == 201, r.text
            version = http.get(f"/api/cases/{case_id}", headers=leader).json()["version"]
            r = http.post(
                f"/api/cases/{case_id}/transitions",
                json={"action": action, "version": version, **body},
                headers=headers,
            )
            assert r.status_code == 200, (action, r.text)


def cases_found(base: str, text: str) -> list[dict]:
    leader, _ = signed_in(base, "grid_leader")
    answer = httpx.get(f"{base}/api/case-list/", params={"q": text}, headers=leader)
    return answer.json()["items"]


def tracked_case(base: str, code: str) -> dict:
    return httpx.get(f"{base}/api/anonymous/cases/{code}").json()


def sms_code(data_dir: Path, to: str) -> str:
    lines = (data_dir / "sms.log").read_text().splitlines()
    texts = [json.loads(line) for line in lines]
    return [t for t in texts if t["phone"] == to][-1]["params"]["code"]


async def fill_report(page: Page) -> None:
    await page.get_by_test_id("category").click()
    await page.get_by_role("tab").first.wait_for()
    await page.locator(".van-cascader__option", has_text="市政设施").click()
    await page.locator(".van-cascader__option", has_text="路灯不亮").click()
    await page.locator("textarea[name=description]").fill(DESCRIPTION)
    await page.locator("input[name=phone]").fill(VISITOR_PHONE)
    await page.locator("input[type=file]").set_input_files(
        files=[{"name": "light.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes()}]
    )
    await expect(page.locator(".van-uploader__preview")).to_have_count(1)
    await expect(page.locator(".van-uploader__preview .van-uploader__mask")).to_have_count(0)


@pytest.mark.both_databases
async def test_a_visitor_reports_offline_follows_rates_and_claims_it(
    browser,
    live_server,
    live_data_dir,
    spot,
):
    ctx = await phone(browser, spot)
    await ctx.grant_permissions(["geolocation", "clipboard-read", "clipboard-write"])
    page = await ctx.new_page()
    try:
        await page.goto(f"{live_server}/app/sign-in")
        await screenshot(page, "app-visitor-sign-in")
        await page.get_by_test_id("report-anonymously").click()
        await expect(page).to_have_url(re.compile(r"/app/report$"))
        await expect(page.get_by_test_id("visitor-hint")).to_be_visible()
        await expect(page.get_by_test_id("routed-grid")).to_contain_text("网格", timeout=20_000)
        # The app's code then comes from the worker's precache (1.7 MB to fetch on first visit,
        # slow on a busy machine).
        await page.wait_for_function(
            "() => navigator.serviceWorker.controller !== null", timeout=90_000
        )

        # No network (the service worker's requests are blocked too): the report waits.
        await ctx.set_offline(True)
        await ctx.route(API, lambda route: route.abort())
        await fill_report(page)
        await page.get_by_test_id("submit-case").click()
        await expect(page).to_have_url(re.compile(r"/app/codes$"))
        await expect(page.get_by_test_id("code-waiting")).to_have_count(1)
        # The report and its photo are one waiting item.
        await expect(page.get_by_test_id("outbox-count")).to_contain_text("1")
        await screenshot(page, "app-visitor-offline-waiting")
        assert (
            not (live_data_dir / "sms.log").exists()
            or VISITOR_PHONE not in (live_data_dir / "sms.log").read_text()
        )
        assert cases_found(live_server, "5号楼单元门口") == []

        await ctx.unroute(API)
        await ctx.set_offline(False)
        kept = page.get_by_test_id("kept-code")
        await expect(kept).to_have_count(1, timeout=30_000)
        await expect(page.get_by_test_id("code-waiting")).to_have_count(0)
        await expect(page.get_by_test_id("outbox-banner")).to_be_hidden(timeout=30_000)
        code = (await kept.locator(".van-cell__title > span").inner_text()).strip()
        assert re.fullmatch(r"[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}", code), code
        await screenshot(page, "app-visitor-codes")

        # The code opens the request, with the photo that went with it.
        await kept.click()
        await expect(page).to_have_url(re.compile(rf"/app/track/{code}$"))
        await expect(page.get_by_test_id("tracking-code")).to_have_text(code)
        await expect(page.get_by_test_id("track-status")).to_contain_text("待受理")
        await expect(page.get_by_test_id("my-photo")).to_have_count(1)
        await page.get_by_test_id("copy-code").click()
        assert await page.evaluate("navigator.clipboard.readText()") == code
        tracked = tracked_case(live_server, code)
        assert tracked["description"] == DESCRIPTION
        await screenshot(page, "app-visitor-track-submitted")
        # Typed by hand on /app/track, in any case and without the dash, it opens the same page.
        await page.goto(f"{live_server}/app/track")
        await page.locator("input[name=code]").fill(code.replace("-", "").lower())
        await page.get_by_test_id("track-open").click()
        await expect(page).to_have_url(re.compile(rf"/app/track/{code}$"))
        await expect(page.get_by_test_id("track-status")).to_contain_text("待受理")

        handle_with_after_photo(live_server, tracked["id"])
        await page.reload()
        await expect(page.get_by_test_id("track-status")).to_contain_text("已结案")
        await expect(page.get_by_test_id("track-result")).to_contain_text("已更换灯泡")
        after = page.get_by_test_id("after-photo")
        await expect(after).to_have_count(1)
        await expect(after).to_have_js_property("naturalWidth", 320)
        await screenshot(page, "app-visitor-track-closed")

        await page.locator("[data-testid=rate-stars] .van-rate__item").nth(4).click()
        await page.locator("input[name=comment]").fill("修得很快")
        await page.get_by_test_id("track-rate").click()
        await expect(page.get_by_test_id("track-rating")).to_be_visible()
        await expect(page.get_by_test_id("track-rate")).to_be_hidden()
        rated = tracked_case(live_server, code)
        assert rated["rating"] == 5
        assert rated["timeline"][-1]["note"] == "修得很快"
        await page.get_by_test_id("track-rating").scroll_into_view_if_needed()
        await screenshot(page, "app-visitor-rated")

        # The visitor signs up with the phone they left; the SMS code is in the console file.
        await page.goto(f"{live_server}/app/sign-in")
        await page.get_by_test_id("to-sign-up").click()
        await expect(page).to_have_url(re.compile(r"/app/sign-up$"))
        await send_code(page, VISITOR_PHONE)
        await page.locator("input[name=code]").fill(sms_code(live_data_dir, VISITOR_PHONE))
        await page.locator("input[name=name]").fill("王小明")
        await page.locator("input[name=password]").fill("a-long-password-1")
        await screenshot(page, "app-visitor-sign-up")
        await page.get_by_test_id("account-submit").click()
        # Signed in, the app offers to bring the phone's codes into the account.
        await page.get_by_role("button", name="归入我的账号").click()
        await expect(page).to_have_url(re.compile(r"/app/mine$"))
        await expect(page.get_by_test_id("who")).to_have_text("王小明")
        await expect(page.locator("[data-status]", has_text="5号楼单元门口")).to_be_visible(
            timeout=20_000
        )
        await screenshot(page, "app-resident-claimed")

        # Signed out and in again: the request stays theirs, and nothing more is offered.
        await page.get_by_test_id("who").click()
        await page.get_by_role("button", name="确认").click()
        await expect(page).to_have_url(re.compile(r"/app/sign-in"))
        await page.locator("input[name=phone]").fill(VISITOR_PHONE)
        await page.locator("input[name=password]").fill("a-long-password-1")
        await page.get_by_role("button", name="登录", exact=True).click()
        await expect(page).to_have_url(re.compile(r"/app/mine$"))
        await expect(page.locator("[data-status]", has_text="5号楼单元门口")).to_be_visible(
            timeout=20_000
        )
    finally:
        await ctx.close()


async def test_a_forgotten_password_is_reset_by_sms_code(browser, live_server, live_data_dir):
    ctx = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = await ctx.new_page()
    resident = DEMO_ACCOUNTS["resident"]
    try:
        await page.goto(f"{live_server}/app/sign-in")
        await page.get_by_test_id("to-reset").click()
        await expect(page).to_have_url(re.compile(r"/app/password-reset$"))
        await page.locator("input[name=phone]").fill(resident)
        await page.get_by_test_id("send-code").click()
        await expect(page.get_by_test_id("send-code")).to_be_disabled()
        await page.locator("input[name=code]").fill("000000")
        await page.locator("input[name=password]").fill(DEMO_PASSWORD)
        await page.get_by_test_id("account-submit").click()
        await expect(page.get_by_role("alert")).to_be_visible()  # a wrong code is refused
        await page.locator("input[name=code]").fill(sms_code(live_data_dir, resident))
        await screenshot(page, "app-password-reset")
        # The demo password again, so the other browser tests on this server still sign in.
        await page.get_by_test_id("account-submit").click()
        await expect(page).to_have_url(re.compile(r"/app/mine$"))
        await expect(page.get_by_test_id("who")).to_be_visible()
    finally:
        await ctx.close()


async def send_code(page: Page, phone: str) -> None:
    """Type the phone and tap 获取验证码 until the code request goes out, as a person taps again
    when nothing happened: once, on a loaded box, the tap came while the view was still being
    put in place and no request left (the server never saw one)."""
    field = page.locator("input[name=phone]")
    for attempt in range(3):
        await field.fill(phone)
        await expect(field).to_have_value(phone)
        try:
            async with page.expect_response(
                lambda r: "/api/auth/sms-code" in r.url, timeout=10_000
            ) as answer:
                await page.get_by_test_id("send-code").click()
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            continue
        assert (await answer.value).ok
        break
    # The code is sent before the button counts down: on a loaded box that took over 5 s.
    await expect(page.get_by_test_id("send-code")).to_be_disabled(timeout=20_000)
