"""The governance screens end to end, in Chromium at a phone's size, against the shared server.

An admin switches a community into emergency through the API: the open app of its centre shows
the banner without reloading, a worker of one of its grids sees it too, and it goes when the
mode ends. A broadcast reaches a worker, who marks an item done with a photo; the first answer
is lost on the way back, the outbox sends again, and the item is done once. The dashboard shows
the figures the assessment API gives.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import httpx
import pytest
import shapely
from playwright.async_api import Browser, BrowserContext, Page, Route, WebSocket, expect

from backend.demo import DEMO_PASSWORD
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE
from tests.e2e.conftest import PHONE, screenshot
from tests.e2e.test_field_app import photo_bytes, sign_in

pytestmark = pytest.mark.e2e

COMMUNITY = DEMO_GRID_CODE[:12]  # 团结社区, the demo grid's community
TASK_TITLE = "入户排查燃气安全隐患"
PATROL_TITLE = "汛期沿河网格安全巡查"


def api(base: str, role: str) -> httpx.Client:
    token = httpx.post(
        f"{base}/api/auth/sign-in",
        json={"phone": DEMO_ACCOUNTS[role], "password": DEMO_PASSWORD},
    ).json()["token"]
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)


async def phone(browser: Browser) -> BrowserContext:
    return await browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )


class LiveSockets:
    """Tells when the page's live stream has its subscription confirmed: from then on, events
    reach the page. Each socket is listened to from its creation, so the confirmation cannot
    slip by before the test waits for it."""

    def __init__(self, page: Page) -> None:
        self.opened = 0
        self.counted_from = 0
        self.subscribed = asyncio.Event()
        page.on("websocket", self._opened)

    def _opened(self, ws: WebSocket) -> None:
        index = self.opened
        self.opened += 1

        def frame(payload: str | bytes) -> None:
            if index >= self.counted_from and '"subscribed"' in str(payload):
                self.subscribed.set()

        ws.on("framereceived", frame)

    def only_new(self) -> None:
        """From now on, only a socket opened after this call counts (a navigation's)."""
        self.counted_from = self.opened
        self.subscribed.clear()


def js_fixed(value: float, digits: int) -> str:
    """What JavaScript's toFixed prints: an exact tie rounds up, where Python's format rounds
    to even."""
    return str(Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


@pytest.fixture
def broadcast(live_server: str) -> Iterator[dict]:
    """A building task sent by the community's centre; sending it again answers the same one."""
    with api(live_server, "community_staff") as staff:
        sent = staff.post(
            "/api/tasks/",
            json={
                "client_id": str(uuid.uuid4()),
                "area_code": COMMUNITY,
                "target": "building",
                "title": TASK_TITLE,
                "description": "逐户检查燃气管道、阀门和报警器",
            },
        )
        assert sent.status_code in (200, 201), sent.text
        yield sent.json()


async def test_an_emergency_shows_as_a_banner_live_and_goes_when_it_ends(
    browser, live_server, broadcast
):
    staff_ctx, worker_ctx = await phone(browser), await phone(browser)
    staff, worker = await staff_ctx.new_page(), await worker_ctx.new_page()
    admin = api(live_server, "district_admin")
    reason = "黄河凌汛预警，沿河楼栋逐户排查"
    try:
        sockets = LiveSockets(staff)
        await sign_in(staff, live_server, "community_staff")
        sockets.only_new()
        await staff.goto(f"{live_server}/app/broadcasts")
        async with asyncio.timeout(20):
            await sockets.subscribed.wait()
        await expect(staff.get_by_test_id("emergency-banner")).to_be_hidden()

        switched = admin.post(
            "/api/emergency/modes",
            json={"area_code": COMMUNITY, "kind": "flood", "reason": reason},
        )
        assert switched.status_code == 201, switched.text

        # The centre's app was open all along: mode.changed brings the banner.
        banner = staff.get_by_test_id("emergency-banner")
        await expect(banner).to_contain_text("汛情应急", timeout=15_000)
        await expect(banner).to_contain_text(reason)
        await expect(banner).to_contain_text("团结社区")

        # A worker of a grid inside it hears no event of the community: the app asks on start.
        await sign_in(worker, live_server, "grid_worker")
        await worker.goto(f"{live_server}/app/tasks")
        worker_banner = worker.get_by_test_id("emergency-banner")
        await expect(worker_banner).to_contain_text("汛情应急")
        await expect(worker_banner).to_contain_text("办理时限缩短为 50%")
        await expect(worker.locator("[data-testid=tasks][data-synced]")).to_be_attached()
        await expect(worker.get_by_text(TASK_TITLE).first).to_be_visible()
        await screenshot(worker, "app-emergency-banner")

        ended = admin.post(f"/api/emergency/modes/{COMMUNITY}/end", json={"reason": "汛情解除"})
        assert ended.status_code == 200, ended.text
        await expect(banner).to_be_hidden(timeout=15_000)
    finally:
        # Whatever failed above, the shared server goes back to peacetime for the other tests.
        admin.post(f"/api/emergency/modes/{COMMUNITY}/end", json={"reason": "测试结束"})
        admin.close()
        await staff_ctx.close()
        await worker_ctx.close()


@pytest.mark.both_databases
async def test_a_worker_marks_a_broadcast_item_done_once_though_the_answer_was_lost(
    browser, live_server, broadcast
):
    with api(live_server, "grid_worker") as me:
        mine = me.get("/api/task-items/", params={"broadcast": broadcast["id"], "status": "open"})
        item = mine.json()[0]
    ctx = await phone(browser)
    page = await ctx.new_page()
    sent: list[dict] = []
    lost = asyncio.Event()

    async def lose_first_answer(route: Route) -> None:
        sent.append(json.loads(route.request.post_data or "{}"))
        if len(sent) == 1:
            # The server marks the item, but the phone never hears back: it must send again.
            await route.fetch()
            await route.abort("connectionreset")
            lost.set()
        else:
            await route.continue_()

    try:
        await sign_in(page, live_server, "grid_worker")
        await page.goto(f"{live_server}/app/tasks")
        row = page.get_by_test_id(f"task-item-{item['id']}")
        await expect(row).to_contain_text(item["building_name"])
        await expect(row).to_contain_text(TASK_TITLE)
        await screenshot(page, "app-tasks")

        await page.route(re.compile(r".*/api/task-items/\d+/done$"), lose_first_answer)
        await row.click()
        form = page.get_by_test_id("task-form")
        await form.locator("textarea[name=result]").fill("已逐户检查，燃气管道无泄漏")
        await form.locator("input[name=households]").fill("24")
        await form.locator("input[type=file]").set_input_files(
            files=[{"name": "door.jpg", "mimeType": "image/jpeg", "buffer": photo_bytes()}]
        )
        await expect(form.locator(".van-uploader__preview")).to_have_count(1)
        await expect(form.locator(".van-uploader__mask")).to_have_count(0)  # shrunk
        await page.get_by_test_id("task-submit").click()

        # Until the server's answer arrives, the item is shown as waiting to send.
        await expect(row).to_have_attribute("data-status", "pending", timeout=15_000)
        await expect(row.get_by_test_id("task-pending")).to_be_visible()
        async with asyncio.timeout(20):
            await lost.wait()
        await expect(row).to_have_attribute("data-status", "pending")
        await page.get_by_role("button", name="立即发送").click()
        await expect(page.get_by_test_id("outbox-banner")).to_be_hidden(timeout=20_000)
        await page.get_by_test_id("show-done").click()
        await expect(row).to_have_attribute("data-status", "done", timeout=10_000)
        await expect(row).to_contain_text("走访 24 户")
    finally:
        await ctx.close()

    with api(live_server, "community_staff") as staff:
        done = staff.get(
            "/api/task-items/", params={"broadcast": broadcast["id"], "status": "done"}
        ).json()
        [marked] = [i for i in done if i["id"] == item["id"]]
        completion = staff.get(f"/api/tasks/{broadcast['id']}/completion").json()
    assert marked["result"] == "已逐户检查，燃气管道无泄漏"
    assert marked["households"] == 24
    # The mark waited for its photo and named the photo's server id.
    assert marked["photo_id"] is not None
    assert [body["photo_id"] for body in sent] == [marked["photo_id"]] * 2
    # The resend carried the lost one's client id, and the item was marked once.
    assert len(sent) == 2 and sent[0]["client_id"] == sent[1]["client_id"]
    assert completion["done"] == 1


async def test_the_centre_sends_a_broadcast_and_sees_one_complete_by_grid_and_on_the_map(
    browser, live_server, broadcast
):
    with api(live_server, "community_staff") as staff:
        completion = staff.get(f"/api/tasks/{broadcast['id']}/completion").json()
    grid = next(g for g in completion["grids"] if g["grid_code"] == DEMO_GRID_CODE)
    ctx = await phone(browser)
    page = await ctx.new_page()
    try:
        await sign_in(page, live_server, "community_staff")
        await page.goto(f"{live_server}/app/broadcasts")

        # Sent from the app to every grid of the community: it appears in the list once sent.
        await page.get_by_test_id("new-broadcast").click()
        await page.locator("input[name=title]").fill(PATROL_TITLE)
        await page.get_by_role("radio", name="每个网格").click()
        await page.get_by_role("button", name="提交").click()
        sent = page.locator("[data-testid^=broadcast-]", has_text=PATROL_TITLE)
        await expect(sent).to_be_visible(timeout=15_000)
        with api(live_server, "community_staff") as staff:
            found = [b for b in staff.get("/api/tasks/").json() if b["title"] == PATROL_TITLE]
        assert len(found) == 1
        assert found[0]["target"] == "grid" and found[0]["area_code"] == COMMUNITY
        await expect(sent).to_contain_text(f"0/{found[0]['items']}")

        await page.get_by_test_id(f"broadcast-{broadcast['id']}").click()
        row = page.locator(f"[data-testid=grid-completion][data-code='{DEMO_GRID_CODE}']")
        await expect(row).to_contain_text(f"{grid['done']} / {grid['items']}")
        await expect(page.get_by_test_id("broadcast-progress")).to_contain_text(
            f"{completion['done']} / {completion['items']}"
        )
        await page.wait_for_function(
            "() => document.documentElement.dataset.broadcastMapReady === '1'", timeout=30_000
        )
        drawn = await page.evaluate(
            "window.__wanggeMap.getSource('task-items').getData().then((d) => d.features)"
        )
        assert len(drawn) == completion["items"]
        assert sum(f["properties"]["status"] == "done" for f in drawn) == completion["done"]
        await screenshot(page, "app-broadcast")
    finally:
        await ctx.close()


@pytest.fixture
def accepted_case(live_server: str, demo_city) -> dict:
    """A resident's request in the demo grid, accepted by its leader: figures to rank by."""
    spot = shapely.point_on_surface(demo_city.grids.set_index("code").loc[DEMO_GRID_CODE].geometry)
    with api(live_server, "resident") as resident, api(live_server, "grid_leader") as leader:
        case = resident.post(
            "/api/cases/",
            json={
                "client_id": str(uuid.uuid4()),
                "kind": "request",
                "category": "0101",
                "description": "单元门口垃圾堆放，无人清运",
                "lon": spot.x,
                "lat": spot.y,
            },
        ).json()
        accepted = leader.post(
            f"/api/cases/{case['id']}/transitions",
            json={"action": "accept", "version": case["version"]},
        )
        assert accepted.status_code == 200, accepted.text
        return accepted.json()


async def test_the_dashboard_shows_the_figures_the_api_gives(
    browser, live_server, broadcast, accepted_case
):
    ctx = await phone(browser)
    page = await ctx.new_page()
    try:
        await sign_in(page, live_server, "community_staff")
        await page.goto(f"{live_server}/app/dashboard")
        loaded = page.locator("[data-testid=dashboard][data-loaded]")
        await expect(loaded).to_be_attached(timeout=20_000)
        level, period = (await loaded.get_attribute("data-loaded")).split(":")
        assert level == "grid"  # a community ranks its grids

        with api(live_server, "community_staff") as staff:
            answer = staff.get(
                "/api/assessment/",
                params={"period": period, "level": "grid", "area": COMMUNITY},
            ).json()
        units = {u["code"]: u for u in answer["units"]}
        unit = units[DEMO_GRID_CODE]
        assert unit["figures"]["task_items"] > 0  # the broadcast counts in the grid's figures
        assert unit["figures"]["accepted"] > 0  # so does the accepted case

        rows = page.get_by_test_id("rank-row")
        await expect(rows).to_have_count(min(len(units), 10))
        assert await rows.first.get_attribute("data-code") == answer["units"][0]["code"]
        await page.locator(f"[data-testid=rank-row][data-code='{DEMO_GRID_CODE}']").click()
        await expect(page.get_by_test_id("figures")).to_have_attribute("data-unit", DEMO_GRID_CODE)
        await expect(page.get_by_text(f"{unit['name']} · 各项指标")).to_be_visible()
        task_items = page.get_by_test_id("figure-task_items")
        await expect(task_items).to_have_text(str(unit["figures"]["task_items"]))
        await expect(page.get_by_test_id("figure-tasks_done")).to_have_text(
            str(unit["figures"]["tasks_done"])
        )
        await expect(page.get_by_test_id("figure-accepted")).to_have_text(
            str(unit["figures"]["accepted"])
        )
        rate = unit["figures"]["accurate_accept_rate"]
        await expect(page.get_by_test_id("figure-accurate_accept_rate")).to_have_text(
            f"{js_fixed(rate * 100, 1)}%"
        )
        score = unit["score"]
        await expect(page.get_by_test_id(f"score-{DEMO_GRID_CODE}")).to_have_text(
            "—" if score is None else js_fixed(score, 1)
        )
        await expect(page.get_by_test_id("sparkline").first).to_be_visible(timeout=20_000)
        await screenshot(page, "app-dashboard")

        # The figure drills down to the rows it was counted from.
        await task_items.click()
        await expect(page.get_by_test_id("drill-row")).to_have_count(
            min(unit["figures"]["task_items"], 200), timeout=15_000
        )
        await page.get_by_test_id("drill-sheet").locator(".van-popup__close-icon").click()

        # The export goes out with the bearer token and holds the same figures.
        async with page.expect_download() as got:
            await page.get_by_test_id("export-csv").click()
        download = await got.value
        assert download.suggested_filename == f"assessment-{period}-grid.csv"
        text = (await download.path()).read_text(encoding="utf-8-sig")
        table = list(csv.reader(io.StringIO(text)))
        assert any(unit["name"] in row for row in table)
    finally:
        await ctx.close()


async def test_a_party_member_registers_claims_a_need_and_reports_hours(
    browser, live_server, demo_city
):
    now = datetime.now(UTC)
    spot = shapely.point_on_surface(demo_city.grids.set_index("code").loc[DEMO_GRID_CODE].geometry)
    with api(live_server, "community_staff") as staff:
        need = staff.post(
            "/api/party/needs",
            json={
                "client_id": str(uuid.uuid4()),
                "community_code": COMMUNITY,
                "kind": "volunteer",
                "title": "陪伴独居老人就医",
                "place": "团结社区党群服务中心",
                "lon": spot.x,
                "lat": spot.y,
                "starts_at": (now - timedelta(hours=1)).isoformat(),
                "ends_at": (now + timedelta(hours=2)).isoformat(),
                "capacity": 3,
            },
        )
        assert need.status_code in (200, 201), need.text
        need = need.json()
    ctx = await phone(browser)
    page = await ctx.new_page()
    try:
        await sign_in(page, live_server, "resident")
        await page.goto(f"{live_server}/app/party")
        form = page.get_by_test_id("party-register")
        await form.locator("input[name=work_unit]").fill("乌海市第一中学")
        # The resident's own community is offered as the home community.
        await expect(form.locator("input[name=home_community]")).to_have_value(COMMUNITY)
        await form.get_by_role("button", name="报到").click()

        await page.get_by_test_id(f"claim-{need['id']}").click()
        await expect(page.get_by_test_id(f"need-{need['id']}")).to_contain_text("已认领")
        with api(live_server, "resident") as me:
            mine = me.get("/api/party/me/claims").json()
        [claim] = [c for c in mine if c["need_id"] == need["id"]]
        await page.get_by_test_id(f"report-{claim['id']}").click()
        await page.locator("input[name=hours]").fill("1.5")
        await page.locator("textarea[name=note]").fill("陪同老人到医院复查")
        await page.get_by_test_id("report-submit").click()
        row = page.get_by_test_id(f"claim-row-{claim['id']}")
        await expect(row).to_have_attribute("data-status", "reported", timeout=15_000)
        await expect(row).to_contain_text("1.5 小时")

        with api(live_server, "community_staff") as staff:
            confirmed = staff.post(f"/api/party/claims/{claim['id']}/confirm")
            assert confirmed.status_code == 200, confirmed.text
        await page.reload()
        await expect(page.get_by_test_id("party-hours")).to_contain_text("1.5 小时")
        await screenshot(page, "app-party")
    finally:
        await ctx.close()
