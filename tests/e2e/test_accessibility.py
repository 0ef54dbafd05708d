"""axe-core on every screen of the app, as the role that uses it, in Chinese and in English.

No violation of impact "serious" or "critical" may remain: contrast under WCAG AA's 4.5:1, an
input without a label, a button without a name. One walk per language; each role's context is
signed in by putting its session into storage, so the walk costs no sign-in screens.
"""

from __future__ import annotations

import json
import re
import uuid

import httpx
import pytest
import shapely
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, BrowserContext

from backend.demo import DEMO_PASSWORD
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE
from tests.e2e.conftest import PHONE, InApp

pytestmark = pytest.mark.e2e

SEVERE = {"serious", "critical"}
AXE = Axe()

# (role, or None for a visitor; path; what to tap there first, by test id, to judge a dialog or
# a popup too). "{case}" is a case of the demo grid made for the walk.
SCREENS: list[tuple[str | None, str] | tuple[str | None, str, str]] = [
    (None, "/sign-in"),
    (None, "/sign-up"),
    (None, "/report"),
    (None, "/codes"),
    (None, "/track"),
    (None, "/outbox"),
    ("grid_leader", "/inbox"),
    ("grid_leader", "/cases/{case}"),
    ("grid_leader", "/cases/{case}", "action-accept"),  # the confirmation dialog
    ("grid_leader", f"/grids/{DEMO_GRID_CODE}"),
    ("grid_worker", "/report"),
    ("grid_worker", "/tasks"),
    ("grid_worker", "/patrol"),
    ("grid_worker", "/map"),
    ("grid_worker", "/notices"),
    ("resident", "/mine"),
    ("resident", "/party"),
    ("community_staff", "/party"),
    ("street_staff", "/broadcasts"),
    ("street_staff", "/people"),
    ("street_staff", "/people", "add-person"),  # a closeable popup with a form
    ("district_admin", "/dashboard"),
    ("district_admin", "/emergency"),
    ("community_staff", "/party-needs"),
    ("city_admin", "/screen"),
    ("city_admin", "/categories"),
    ("city_admin", "/calendar"),
    ("hotline_operator", "/hotline"),
]


# Two emergencies, answered by the test for the field roles' screens (not switched on the shared
# server: that would shorten every other test's time limits), so the banner is judged too.
MODES = [
    {
        "id": 9001,
        "area_code": "150302",
        "area_name": "海勃湾区",
        "kind": "flood",
        "kind_label": "防汛",
        "factor": 0.5,
        "reason": "黄河凌汛，沿河社区逐户排查",
        "started_at": "2026-12-07T08:00:00+08:00",
    },
    {
        "id": 9002,
        "area_code": "150302001",
        "area_name": "新华街道",
        "kind": "fire",
        "kind_label": "消防",
        "factor": 0.5,
        "reason": "供暖季消防隐患排查",
        "started_at": "2026-12-07T09:00:00+08:00",
    },
]


def signed_in(base: str, role: str) -> dict:
    """What the app keeps in localStorage after a sign-in (stores/session.js)."""
    answer = httpx.post(
        f"{base}/api/auth/sign-in",
        json={"phone": DEMO_ACCOUNTS[role], "password": DEMO_PASSWORD},
    ).json()
    return {
        "token": answer["token"],
        "expiresAt": answer["expires_at"],
        "me": answer["person"],
        "mustChangePassword": False,
    }


def a_case(base: str, demo_city) -> int:
    spot = shapely.point_on_surface(demo_city.grids.set_index("code").loc[DEMO_GRID_CODE].geometry)
    token = signed_in(base, "resident")["token"]
    r = httpx.post(
        f"{base}/api/cases/",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "client_id": str(uuid.uuid4()),
            "kind": "request",
            "category": "0101",
            "description": "无障碍检查用的案件",
            "lon": spot.x,
            "lat": spot.y,
        },
    )
    assert r.status_code in (200, 201), r.text
    return r.json()["id"]


async def context_for(browser: Browser, base: str, role: str | None, locale: str) -> BrowserContext:
    context = await browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale=locale
    )
    storage = {"wangge.locale": "en" if locale == "en" else "zh-CN"}
    if role:
        storage["wangge.session"] = json.dumps(signed_in(base, role))
    if role in ("grid_leader", "grid_worker"):
        await context.route(
            re.compile(r".*/api/emergency/modes.*"),
            lambda route: route.fulfill(json={"modes": MODES}),
        )
    await context.add_init_script(
        f"for (const [k, v] of Object.entries({json.dumps(storage)})) localStorage.setItem(k, v);"
    )
    return context


def readable(where: str, violations: list[dict]) -> list[str]:
    lines = []
    for v in violations:
        if v["impact"] not in SEVERE:
            continue
        lines.append(f"{where}: {v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:6]:
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    {' '.join(map(str, node['target']))}  {node['html'][:160]}")
            lines.append(f"        {summary[:220]}")
    return lines


class Walker(InApp):
    """One role's page, moved from screen to screen inside the app (its router), so the app's
    code and axe-core load once per role, not once per screen."""

    async def check(self, path: str, tap: str | None = None) -> list[str]:
        await self.go(path)
        if tap:
            await self.page.get_by_test_id(tap).click()
            # Vant's dialogs and popups take 0.3 s to come in: judge the settled screen.
            await self.page.wait_for_timeout(400)
            path = f"{path} after tapping {tap}"
        # Colours are judged as they end: not half-way through a fade (a toast, a tag, a
        # button's tap feedback), which axe once caught as white on light grey.
        await self.page.wait_for_function(
            "() => document.getAnimations().every(a => a.playState !== 'running'"
            " || a.effect?.getTiming().iterations === Infinity)",
            timeout=5_000,
        )
        if not await self.page.evaluate("() => 'axe' in window"):
            await self.page.evaluate(AXE.axe_script)
        results = await self.page.evaluate("axe.run({resultTypes: ['violations']})")
        return readable(path, results["violations"])


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
async def test_no_screen_has_a_serious_accessibility_violation(
    browser: Browser, live_server: str, demo_city, locale: str
):
    case = a_case(live_server, demo_city)
    found: list[str] = []
    walkers: dict[str | None, Walker] = {}
    try:
        for role, path, *tap in SCREENS:
            if role not in walkers:
                context = await context_for(browser, live_server, role, locale)
                walkers[role] = Walker(await context.new_page(), live_server)
            lines = await walkers[role].check(path.format(case=case), *tap)
            found += [f"[{role or 'visitor'}] {line}" for line in lines]
    finally:
        for walker in walkers.values():
            await walker.page.context.close()
    assert not found, "axe found serious or critical violations:\n" + "\n".join(found)
