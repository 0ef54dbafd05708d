"""The app in English: every screen, as each role that has it, shows no Chinese of its own.

Chinese that came from the server as data stays (names of people, grids and areas, case
text, category names): the test keeps every string the API answered on the phone (but labels,
which the app names itself) and takes those out of the page's text before looking for Chinese.
The language switches (the app's and the big screen's), whose job is to say 中文, are the one
element of the app let through.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterable
from typing import Any

import pytest
import shapely
from playwright.async_api import Browser, BrowserContext, Page, Response, expect
from playwright.async_api import TimeoutError as PlaywrightTimeout

from geo.demo import DEMO_GRID_CODE
from tests.e2e.conftest import InApp, screenshot
from tests.e2e.test_field_screens import map_ready, phone_as, post, signed_in

pytestmark = pytest.mark.e2e

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")

# The visible text nodes and the visible placeholders, labels and titles of the page.
TEXTS = """() => {
  const skip = (el) =>
    el.closest("[data-testid=language], [data-testid=screen-language], script, style, noscript");
  const visible = (el) => {
    if (!el.getClientRects().length) return false;
    const s = getComputedStyle(el);
    return s.visibility !== "hidden" && s.display !== "none" && Number(s.opacity) > 0;
  };
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    const text = n.textContent.trim();
    if (text && el && !skip(el) && visible(el)) out.push(text);
  }
  for (const el of document.querySelectorAll("[placeholder], [aria-label], [title]")) {
    if (skip(el) || !visible(el)) continue;
    for (const name of ["placeholder", "aria-label", "title"]) {
      const value = el.getAttribute(name);
      if (value) out.push(value);
    }
  }
  return out;
}"""


class ServerData:
    """Every string with Chinese in it that the API answered in a browser context: the data
    the page may show as it came. Fields named ``*label`` are the server's names for codes,
    which the app must name in its own language, so they do not count as data."""

    def __init__(self) -> None:
        self.strings: set[str] = set()
        self.by_char: dict[str, list[str]] = {}

    def watch(self, context: BrowserContext) -> None:
        context.on("response", self._seen)

    async def _seen(self, response: Response) -> None:
        if "/api/" not in response.url or "json" not in response.headers.get("content-type", ""):
            return
        try:
            body = await response.json()
        except Exception:  # a body gone with its page, or not JSON after all
            return
        self._walk(body)

    def _walk(self, value: Any, key: str = "") -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                self._walk(v, k)
        elif isinstance(value, list):
            for v in value:
                self._walk(v, key)
        elif (
            isinstance(value, str)
            and not key.endswith("label")
            and (m := CJK.search(value))
            and value not in self.strings
        ):
            self.strings.add(value)
            self.by_char.setdefault(m.group(), []).append(value)

    def without_data(self, text: str) -> str:
        """``text`` with every data string in it taken out, longest first."""
        candidates = {s for c in set(CJK.findall(text)) for s in self.by_char.get(c, ())}
        for s in sorted(candidates, key=len, reverse=True):
            text = text.replace(s, "")
        return text


async def settle(page: Page) -> None:
    # The live stream's socket does not count against network idle; polling screens might.
    with contextlib.suppress(PlaywrightTimeout):
        await page.wait_for_load_state("networkidle", timeout=15_000)


async def chinese_on(page: Page, data: ServerData) -> list[str]:
    await settle(page)
    return await texts_in_chinese(page, data)


async def texts_in_chinese(page: Page, data: ServerData) -> list[str]:
    """The screen's texts with Chinese in them besides the server's data."""
    texts: list[str] = await page.evaluate(TEXTS)
    return sorted({t for t in texts if CJK.search(data.without_data(t))})


async def visit(
    page: Page, data: ServerData, base: str, who: str, paths: Iterable[str], found: dict
) -> None:
    for path in paths:
        await page.goto(f"{base}/app{path}")
        found[f"{who} {path}"] = await chinese_on(page, data)
        await screenshot(page, f"en-{who}-{path.strip('/').replace('/', '-') or 'home'}")


async def tap_at(page: Page, lonlat: tuple[float, float]) -> None:
    x, y = await page.evaluate(
        "([lon, lat]) => { const p = window.__wanggeMap.project([lon, lat]); return [p.x, p.y]; }",
        list(lonlat),
    )
    box = await page.locator(".map").bounding_box()
    assert box is not None
    await page.touchscreen.tap(box["x"] + x, box["y"] + y)


async def test_every_screen_in_english_shows_no_chinese_but_data(
    browser: Browser, live_server: str, demo_city
):
    base = live_server
    found: dict[str, list[str]] = {}
    resident = signed_in(base, "resident")
    spot = shapely.point_on_surface(demo_city.grids.set_index("code").loc[DEMO_GRID_CODE].geometry)
    case = post(
        base,
        "/api/cases",
        {
            "client_id": str(uuid.uuid4()),
            "kind": "request",
            # Not 1501 (路灯不亮): the field and hotline tests report that here, and an open
            # case of it within 50 m would be offered to them as the same problem.
            "category": "B0101",
            "description": "井盖 English check",
            "lon": spot.x,
            "lat": spot.y,
        },
        resident,
    )
    leader = signed_in(base, "grid_leader")
    post(
        base,
        f"/api/cases/{case['id']}/transitions",
        {"version": case["version"], "action": "accept"},
        leader,
    )

    # A visitor switches the language on the sign-in screen; it stays for the others.
    data = ServerData()
    context = await phone_as(browser, None)
    data.watch(context)
    page = await context.new_page()
    try:
        await page.goto(f"{base}/app/sign-in")
        await page.get_by_test_id("language").click()
        await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        found["visitor /sign-in"] = await chinese_on(page, data)
        await screenshot(page, "en-visitor-sign-in")
        await visit(
            page, data, base, "visitor", ["/report", "/codes", "/track", "/outbox", "/map"], found
        )
        await map_ready(page)
        grid = demo_city.grids.set_index("code").loc[DEMO_GRID_CODE]
        await page.evaluate(
            "(box) => window.__wanggeMap.fitBounds(box, { duration: 0 })",
            [list(grid.geometry.bounds[:2]), list(grid.geometry.bounds[2:])],
        )
        await tap_at(page, (spot.x, spot.y))
        await expect(page.get_by_test_id("post-holder").first).to_be_visible()
        found["visitor grid sheet"] = await chinese_on(page, data)
        await screenshot(page, "en-visitor-grid-sheet")
        await page.locator(".sheet .van-popup__close-icon").click()
        await expect(page.locator(".sheet")).to_be_hidden()
        point = demo_city.service_points.iloc[0]
        await page.evaluate(
            "([lon, lat]) => window.__wanggeMap.jumpTo({ center: [lon, lat], zoom: 16 })",
            [point.geometry.x, point.geometry.y],
        )
        await page.wait_for_function("() => window.__wanggeMap.loaded()")
        await tap_at(page, (point.geometry.x, point.geometry.y))
        await expect(page.locator(".sheet .title")).to_have_text(point["name"])
        found["visitor point sheet"] = await chinese_on(page, data)
        await screenshot(page, "en-visitor-point-sheet")
    finally:
        await context.close()

    screens = {
        "resident": ["/mine", "/report", f"/cases/{case['id']}", "/notices", "/party"],
        "grid_worker": ["/inbox", "/tasks", "/patrol", "/map"],
        "grid_leader": ["/inbox", f"/cases/{case['id']}"],
        "community_staff": ["/screen", "/dashboard", "/broadcasts", "/people", "/party"],
        "city_admin": ["/categories", "/calendar"],
        "hotline_operator": ["/hotline"],
    }
    # Each role's screens one after the other inside the app (its router), each judged once no
    # request is in flight: a page load and network idle per screen took twice as long.
    for role, paths in screens.items():
        data = ServerData()
        context = await phone_as(browser, signed_in(base, role), locale="en")
        data.watch(context)
        walk = InApp(await context.new_page(), base)
        try:
            for path in paths:
                await walk.go(path)
                found[f"{role} {path}"] = await texts_in_chinese(walk.page, data)
                await screenshot(walk.page, f"en-{role}-{path.strip('/').replace('/', '-')}")
        finally:
            await context.close()

    chinese = {screen: texts for screen, texts in found.items() if texts}
    assert chinese == {}, "\n".join(f"{s}: {t}" for s, t in chinese.items())
