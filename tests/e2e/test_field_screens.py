"""The map, the patrol screen and the case timeline at a phone's size, against one server.

The map opens on my grid, has a legend and moves to me on locate-me; the patrol screen draws
today's track and says how far in Chinese units; the case page says who took each step, the
names masked for a resident.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
import shapely
from playwright.async_api import Browser, BrowserContext, Page, expect

from backend.demo import DEMO_PASSWORD
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE
from tests.e2e.conftest import PHONE, screenshot

pytestmark = pytest.mark.e2e
SHANGHAI = ZoneInfo("Asia/Shanghai")


def signed_in(base: str, role: str) -> dict:
    """The sign-in answer for ``role``: token, expiry and the person."""
    r = httpx.post(
        f"{base}/api/auth/sign-in",
        json={"phone": DEMO_ACCOUNTS[role], "password": DEMO_PASSWORD},
    )
    assert r.status_code == 200, r.text
    return r.json()


def post(base: str, path: str, body: dict, answer: dict) -> dict:
    """POST ``body`` as the person of ``answer``; the answer's JSON (2xx expected)."""
    r = httpx.post(
        f"{base}{path}", json=body, headers={"Authorization": f"Bearer {answer['token']}"}
    )
    assert r.is_success, r.text
    return r.json()


async def phone_as(
    browser: Browser,
    answer: dict | None,
    *,
    locale: str = "zh-CN",
    geolocation: dict[str, float] | None = None,
) -> BrowserContext:
    """A phone whose app is signed in with ``answer`` (None: a visitor), in ``locale``."""
    context = await browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        permissions=["geolocation"],
        geolocation=geolocation,
    )
    session = (
        None
        if answer is None
        else {
            "token": answer["token"],
            "expiresAt": answer["expires_at"],
            "me": answer["person"],
            "mustChangePassword": False,
        }
    )
    # Set before the app's first script, as a signed-in phone would have it.
    await context.add_init_script(
        f"""
        if (!sessionStorage.getItem("e2e.seeded")) {{
          sessionStorage.setItem("e2e.seeded", "1");
          localStorage.setItem("wangge.locale", {json.dumps(locale)});
          const session = {json.dumps(session)};
          if (session) localStorage.setItem("wangge.session", JSON.stringify(session));
        }}
        """
    )
    return context


async def map_ready(page: Page) -> None:
    await page.wait_for_function(
        "() => document.documentElement.dataset.mapReady === '1'", timeout=60_000
    )


async def centre(page: Page) -> tuple[float, float]:
    c = await page.evaluate(
        "(() => { const c = window.__wanggeMap.getCenter(); return [c.lng, c.lat]; })()"
    )
    return c[0], c[1]


async def test_the_map_opens_on_my_grid_with_a_legend_and_moves_to_me(
    browser: Browser, live_server: str, demo_city
):
    worker = signed_in(live_server, "grid_worker")
    grids = demo_city.grids.set_index("code")
    mine = sorted({p["grid_code"] for p in worker["person"]["posts"]})
    assert DEMO_GRID_CODE in mine
    west, south, east, north = grids.loc[mine].total_bounds
    # Somewhere else in the city: a grid of another district.
    elsewhere = grids[~grids.index.str.startswith(DEMO_GRID_CODE[:6])].iloc[0]
    here = shapely.point_on_surface(elsewhere.geometry)
    context = await phone_as(
        browser, worker, geolocation={"longitude": here.x, "latitude": here.y, "accuracy": 10}
    )
    page = await context.new_page()
    try:
        await page.goto(f"{live_server}/app/map")
        await map_ready(page)
        x, y = await centre(page)
        assert west <= x <= east and south <= y <= north, ((x, y), (west, south, east, north))
        legend = page.get_by_test_id("map-legend")
        await expect(legend).to_be_visible()
        await expect(legend).to_contain_text("社区网格")
        await expect(legend).to_contain_text("司机之家")
        await expect(legend).to_contain_text("超期案件")  # staff see their cases and workers
        assert await page.evaluate("!!window.__wanggeMap.getLayer('cases-circle')")
        await screenshot(page, "map-my-grid")

        await page.get_by_test_id("locate-me").click()
        await expect(page.locator(".sheet .title")).to_have_text(elsewhere["name"])
        x, y = await centre(page)
        assert abs(x - here.x) < 1e-4 and abs(y - here.y) < 1e-4
        await screenshot(page, "map-located")
    finally:
        await context.close()


def today_walk(start: shapely.Point, n: int = 30) -> list[dict]:
    """``n`` fixes 8 s apart walking east at about 1 m/s, ending now and all of today (the
    server's local day)."""
    now = datetime.now(UTC)
    midnight = datetime.combine(now.astimezone(SHANGHAI).date(), datetime.min.time(), SHANGHAI)
    step = min(timedelta(seconds=8), (now - midnight) / (n + 1))
    return [
        {
            "lon": start.x + 0.0001 * i,
            "lat": start.y,
            "accuracy": 5,
            "at": (now - step * (n - i)).isoformat(),
        }
        for i in range(n)
    ]


async def test_the_patrol_screen_draws_todays_track_in_chinese_units(
    browser: Browser, live_server: str, demo_city
):
    worker = signed_in(live_server, "grid_police")
    grid = demo_city.grids.set_index("code").loc[worker["person"]["posts"][0]["grid_code"]]
    walk = today_walk(shapely.point_on_surface(grid.geometry))
    sent = post(live_server, "/api/positions/batch", {"positions": walk}, worker)
    assert sent["accepted"] == len(walk), sent
    context = await phone_as(browser, worker)
    page = await context.new_page()
    try:
        await page.goto(f"{live_server}/app/patrol")
        await expect(page.get_by_test_id("track-map")).to_be_visible()
        await page.wait_for_function(
            """() => { const m = window.__wanggeMap;
                       return m && m.getLayer('track-line') && m.loaded()
                         && m.queryRenderedFeatures({ layers: ['track-line'] }).length > 0; }""",
            timeout=60_000,
        )
        drawn = await page.evaluate(
            "window.__wanggeMap.getSource('track').getData().then((d) => d.geometry.coordinates)"
        )
        assert [len(w) for w in drawn] == [len(walk)]
        assert drawn[0][0] == pytest.approx([walk[0]["lon"], walk[0]["lat"]], abs=1e-6)
        await expect(page.get_by_test_id("patrol-distance")).to_contain_text(
            re.compile(r"\d+ (米|公里)")
        )
        await expect(page.get_by_test_id("patrol-time")).to_contain_text(re.compile(r"\d+ 分钟"))
        await screenshot(page, "patrol-track")
    finally:
        await context.close()


async def test_the_case_timeline_names_who_took_each_step(
    browser: Browser, live_server: str, demo_city
):
    resident = signed_in(live_server, "resident")
    leader = signed_in(live_server, "grid_leader")
    worker = signed_in(live_server, "grid_worker")
    spot = shapely.point_on_surface(demo_city.grids.set_index("code").loc[DEMO_GRID_CODE].geometry)
    case = post(
        live_server,
        "/api/cases",
        {
            "client_id": str(uuid.uuid4()),
            "kind": "request",
            "category": "1501",
            "description": f"路灯不亮 {uuid.uuid4().hex[:6]}",
            "lon": spot.x,
            "lat": spot.y,
        },
        resident,
    )
    version = case["version"]
    for body in ({"action": "accept"}, {"action": "dispatch", "assignee": worker["person"]["id"]}):
        path = f"/api/cases/{case['id']}/transitions"
        version = post(live_server, path, {"version": version, **body}, leader)["version"]
    resident_name, leader_name = resident["person"]["name"], leader["person"]["name"]
    masked = leader_name[0] + "*" * (len(leader_name) - 1)

    for who, expected, shot in (
        (
            resident,
            [f"{resident_name}（居民）", f"{masked}（网格长）", f"{masked}（网格长）"],
            "resident",
        ),
        (
            leader,
            [f"{resident_name}（居民）", f"{leader_name}（网格长）", f"{leader_name}（网格长）"],
            "leader",
        ),
    ):
        context = await phone_as(browser, who)
        page = await context.new_page()
        try:
            await page.goto(f"{live_server}/app/cases/{case['id']}")
            steps = page.get_by_test_id("timeline-step")
            await expect(steps).to_have_count(3)
            await expect(page.get_by_test_id("timeline-who")).to_have_text(expected)
            await expect(steps.nth(1)).to_contain_text("受理立案")
            await steps.nth(2).scroll_into_view_if_needed()
            await screenshot(page, f"case-timeline-{shot}")
            if shot == "leader":  # the place on a small map, drawn when asked for
                await page.get_by_test_id("case-place").click()
                await expect(page.get_by_test_id("case-map")).to_have_attribute(
                    "data-ready", "1", timeout=15_000
                )
                await expect(page.locator(".maplibregl-marker")).to_have_count(1)
                await screenshot(page, "case-place-map")
        finally:
            await context.close()
