"""The field app works under its Content-Security-Policy (backend/core/headers.py): MapLibre's
map, the service worker and its precache, a basemap from another origin, the signed-in screens
and their live stream; no page reports a violation. A visitor's grid sheet shows no phone.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO

import pytest
import shapely
from PIL import Image
from playwright.async_api import Browser, BrowserContext, Page, expect

from backend.demo import DEMO_PASSWORD
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE
from tests.e2e.conftest import PHONE, app_server

pytestmark = pytest.mark.e2e

# Each violation, as the page's own event reports it, kept where the test can read it.
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(`${e.effectiveDirective} ${e.blockedURI}`);
});
"""
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


async def watched(browser: Browser) -> tuple[BrowserContext, list[str]]:
    """A phone-sized context whose pages' violations (events and console) are collected."""
    ctx = await browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    await ctx.add_init_script(WATCH)
    console: list[str] = []
    ctx.on(
        "console",
        lambda m: console.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return ctx, console


async def violations(page: Page, console: list[str]) -> list[str]:
    return [*await page.evaluate("window.__csp"), *console]


async def map_ready(page: Page) -> None:
    await page.wait_for_function(
        "() => document.documentElement.dataset.mapReady === '1'", timeout=60_000
    )


async def test_a_visitor_uses_the_app_under_its_policy(live_server, browser, demo_city):
    ctx, console = await watched(browser)
    page = await ctx.new_page()
    try:
        shell = await page.goto(f"{live_server}/app/map")
        assert "frame-ancestors 'none'" in shell.headers["content-security-policy"]
        await map_ready(page)
        assert await violations(page, console) == []

        # The service worker ran under the policy its script was served with: it precached
        # the app (its fetches are connect-src) and controls the page.
        assert await page.evaluate("navigator.serviceWorker.ready.then((r) => r.active.state)") in {
            "activating",
            "activated",
        }
        await page.wait_for_function(
            """async () => {
                 const names = await caches.keys();
                 const precache = names.find((n) => n.startsWith("workbox-precache"));
                 return precache && (await (await caches.open(precache)).keys()).length > 10;
               }""",
            timeout=30_000,
        )

        # A visitor taps a grid: names and posts, and phones only masked.
        spot = shapely.point_on_surface(
            demo_city.grids.set_index("code").loc[DEMO_GRID_CODE].geometry
        )
        await page.evaluate(
            """([lon, lat]) => new Promise((done) => {
                 const map = window.__wanggeMap;
                 map.jumpTo({ center: [lon, lat], zoom: 17 });
                 map.once("idle", () => {
                   map.fire("click", { point: map.project([lon, lat]) });
                   done();
                 });
               })""",
            [spot.x, spot.y],
        )
        staff = page.locator(".post .phone")
        await expect(staff.first).to_be_visible(timeout=20_000)
        shown = await staff.all_inner_texts()
        assert shown and all(re.fullmatch(r"1[3-9]\d\*{4}\d{4}", p) for p in shown), shown
        assert not MOBILE.search(await page.locator(".sheet").inner_text())

        # The watch is no stub: what the policy forbids is reported.
        await page.evaluate("fetch('https://example.invalid/x').catch(() => null)")
        await page.wait_for_function("() => window.__csp.length > 0")
        assert any(v.startswith("connect-src") for v in await violations(page, console))
    finally:
        await ctx.close()


class _Tiles(BaseHTTPRequestHandler):
    hits: list[str] = []
    png = b""
    url = ""

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.png)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(self.png)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def tile_server() -> Iterator[type[_Tiles]]:
    """Raster tiles from another origin (``localhost`` against the app's ``127.0.0.1``)."""
    out = BytesIO()
    Image.new("RGB", (256, 256), (200, 220, 200)).save(out, "PNG")
    _Tiles.png, _Tiles.hits = out.getvalue(), []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Tiles.url = f"http://localhost:{server.server_port}/{{z}}/{{x}}/{{y}}.png"
    try:
        yield _Tiles
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def basemap_server(tile_server, tmp_path_factory, city_template) -> Iterator[str]:
    """The app with a basemap set, on a copy of the demo city."""
    with app_server(
        tmp_path_factory, city_template, "e2e-basemap", WANGGE_BASEMAP_URL=tile_server.url
    ) as base:
        yield base


async def test_a_basemap_and_the_signed_in_screens_under_the_policy(
    basemap_server, tile_server, browser
):
    before = len(tile_server.hits)
    ctx, console = await watched(browser)
    page = await ctx.new_page()
    try:
        await page.goto(f"{basemap_server}/app/map")
        await map_ready(page)  # after "idle": every tile in view has loaded
        assert len(tile_server.hits) > before
        assert await page.evaluate("window.__wanggeMap.isSourceLoaded('basemap')")
        assert await violations(page, console) == []

        # Signed in: the screens that load their own chunks, the live stream and the map. On
        # this server of its own: the shared one's sign-ins per minute are spent by the others.
        await page.goto(f"{basemap_server}/app/sign-in")
        await page.locator("input[name=phone]").fill(DEMO_ACCOUNTS["grid_leader"])
        await page.locator("input[name=password]").fill(DEMO_PASSWORD)
        await page.get_by_role("button", name="登录").click()
        await expect(page.get_by_test_id("who")).to_be_visible()
        for path in ("inbox", "report", "patrol", "screen", "tasks", "map"):
            await page.goto(f"{basemap_server}/app/{path}")
            await page.wait_for_load_state("networkidle")
            assert await violations(page, console) == [], path
    finally:
        await ctx.close()
