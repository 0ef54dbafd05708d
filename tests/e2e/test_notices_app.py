"""The notices in the field app: the bell's count and /app/notices (readable offline from the
last sync), and the service worker showing a push and opening its screen when tapped.

The push is delivered with CDP ``ServiceWorker.deliverPushMessage``, no push service between.
Headless Chromium cannot click a notification, so the tap is the service worker's own
``notificationclick`` handler run on the notification it showed: a ``NotificationEvent``
dispatched inside the worker (Playwright's ``context.service_workers``)."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
import shapely
from playwright.async_api import Browser, expect

from backend.demo import DEMO_PASSWORD
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE
from tests.e2e.conftest import PHONE, screenshot
from tests.e2e.test_field_app import sign_in

pytestmark = pytest.mark.e2e


def credentials(role: str) -> dict[str, str]:
    return {"phone": DEMO_ACCOUNTS[role], "password": DEMO_PASSWORD}


async def bearer(http: httpx.AsyncClient, role: str) -> dict[str, str]:
    r = await http.post("/api/auth/sign-in", json=credentials(role))
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def dispatched_case(base: str, demo_city) -> int:
    """A resident's case, accepted and dispatched to the demo grid worker, over the API."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        resident, leader = await bearer(http, "resident"), await bearer(http, "grid_leader")
        worker = (await http.post("/api/auth/sign-in", json=credentials("grid_worker"))).json()
        grid = demo_city.grids.set_index("code").loc[DEMO_GRID_CODE].geometry
        spot = shapely.point_on_surface(grid)
        report = {
            "client_id": str(uuid.uuid4()),
            "kind": "request",
            "category": "1501",
            "description": "5号楼路灯不亮（通知测试）",
            "lon": spot.x,
            "lat": spot.y,
        }
        r = await http.post("/api/cases", json=report, headers=resident)
        assert r.status_code == 201, r.text
        case = r.json()["id"]
        for body in (
            {"action": "accept"},
            {"action": "dispatch", "assignee": worker["person"]["id"]},
        ):
            version = (await http.get(f"/api/cases/{case}", headers=leader)).json()["version"]
            r = await http.post(
                f"/api/cases/{case}/transitions", json={**body, "version": version}, headers=leader
            )
            assert r.status_code == 200, r.text
        return case


async def test_a_notice_shows_on_the_bell_offline_and_a_push_opens_its_case(
    browser: Browser, live_server, demo_city
):
    case = await dispatched_case(live_server, demo_city)
    context = await browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    await context.grant_permissions(["notifications"], origin=live_server)
    page = await context.new_page()
    try:
        await sign_in(page, live_server, "grid_worker")
        # The server's sender makes the notice within a second of the dispatch.
        bell = page.locator(".bell .van-badge")
        for _ in range(20):
            await page.goto(f"{live_server}/app/notices")
            if await page.get_by_test_id("notice").filter(has_text="5号楼路灯不亮").count():
                break
            await page.wait_for_timeout(500)
        notice = page.get_by_test_id("notice").filter(has_text="5号楼路灯不亮").first
        await expect(notice).to_contain_text("新案件派给您")
        await expect(bell).not_to_have_text("")
        await screenshot(page, "notices")

        # Offline: the list of the last sync.
        await context.route("**/api/**", lambda route: route.abort())
        await page.reload()
        await expect(notice).to_contain_text("新案件派给您")
        await context.unroute("**/api/**")

        # A push, as the server sends it (its own notice, read from the API).
        # Bounded: Playwright's evaluate has no timeout, and `ready` waits for ever without a
        # worker.
        ready = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
        registration = await asyncio.wait_for(ready, 30)
        assert registration.endswith("/app/")
        async with httpx.AsyncClient(base_url=live_server) as http:
            mine = await bearer(http, "grid_worker")
            page_of = (await http.get("/api/notices", headers=mine)).json()
        [item] = [n for n in page_of["items"] if n["url"] == f"/app/cases/{case}"]
        payload = {"id": item["id"], "tag": f"notice-{item['id']}", "kind": item["kind"],
                   "title": item["title"], "body": item["body"], "url": item["url"]}  # fmt: skip
        cdp = await context.new_cdp_session(page)
        registrations: list[dict] = []
        cdp.on(
            "ServiceWorker.workerRegistrationUpdated",
            lambda e: registrations.extend(e["registrations"]),
        )
        await cdp.send("ServiceWorker.enable")
        for _ in range(20):
            if registrations:
                break
            await page.wait_for_timeout(100)
        [reg] = [r for r in registrations if r["scopeURL"].endswith("/app/")][:1]
        await cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": live_server,
                "registrationId": reg["registrationId"],
                "data": json.dumps(payload),
            },
        )
        shown = []
        for _ in range(30):
            shown = await asyncio.wait_for(
                page.evaluate(
                    "navigator.serviceWorker.ready.then(r => r.getNotifications())"
                    ".then(ns => ns.map(n => ({title: n.title, body: n.body, tag: n.tag,"
                    " data: n.data})))"
                ),
                10,
            )
            if shown:
                break
            await page.wait_for_timeout(100)
        assert shown == [
            {"title": "新案件派给您", "body": item["body"], "tag": f"notice-{item['id']}",
             "data": {"url": f"/app/cases/{case}", "id": item["id"]}}
        ]  # fmt: skip

        # The tap: the worker's notificationclick handler on that notification.
        await page.goto(f"{live_server}/app/notices")
        [worker] = context.service_workers
        await asyncio.wait_for(
            worker.evaluate(
                """async () => {
                const [n] = await self.registration.getNotifications();
                self.dispatchEvent(new NotificationEvent("notificationclick", { notification: n }));
            }"""
            ),
            30,
        )
        await page.wait_for_url(f"**/app/cases/{case}")
        await expect(page.get_by_text("5号楼路灯不亮（通知测试）")).to_be_visible()
        await screenshot(page, "notice-opened")

        # The person's settings: a kind turned off and quiet hours, kept by the server.
        await page.goto(f"{live_server}/app/notices")
        await page.get_by_test_id("notice-settings").click()
        await page.get_by_test_id("kind-task_assigned").click()
        await page.get_by_test_id("quiet-from").fill("22:00")
        await page.get_by_test_id("quiet-until").fill("07:00")
        await page.get_by_test_id("save-preferences").click()
        await expect(page.get_by_text("已保存")).to_be_visible()
        async with httpx.AsyncClient(base_url=live_server) as http:
            mine = await bearer(http, "grid_worker")
            saved = (await http.get("/api/notify/preferences", headers=mine)).json()
            assert (saved["off"], saved["quiet_from"], saved["quiet_until"]) == (
                ["task_assigned"],
                "22:00",
                "07:00",
            )
            # Back as it was: the shared server's other tests expect the defaults.
            back = {"off": [], "quiet_from": None, "quiet_until": None}
            await http.put("/api/notify/preferences", json=back, headers=mine)
    finally:
        await context.close()
