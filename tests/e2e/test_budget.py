"""The first screen's weight: what a phone on a slow link downloads before it can work.

Every JavaScript and CSS file the browser fetched for a screen is gzipped here from the build,
as the server sends it, and summed; the map library must not be among them.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.async_api import Page

from tests.e2e.conftest import ROOT
from tests.e2e.test_field_app import sign_in

pytestmark = pytest.mark.e2e

BUDGET_BYTES = 300 * 1024
DIST = ROOT / "pwa" / "dist"


def gzipped_size(url: str) -> int:
    path = urlparse(url).path.removeprefix("/app/")
    return len(gzip.compress((DIST / path).read_bytes(), compresslevel=6))


async def first_screen_assets(page: Page, url: str) -> list[str]:
    fetched: list[str] = []
    page.on(
        "request",
        lambda r: fetched.append(r.url) if r.resource_type in {"script", "stylesheet"} else None,
    )
    await page.goto(url)
    await page.wait_for_load_state("networkidle")
    return [u for u in fetched if urlparse(u).path.startswith("/app/assets/")]


@pytest.mark.parametrize("role", [None, "resident", "grid_worker"])
async def test_the_first_screen_is_under_300_kb_and_leaves_the_map_for_later(
    browser, live_server, role
):
    ctx = await browser.new_context(viewport={"width": 390, "height": 844})
    page = await ctx.new_page()
    try:
        if role:
            await sign_in(page, live_server, role)
        assets = await first_screen_assets(page, f"{live_server}/app/")
        assert assets, "no scripts fetched: the measurement is broken"
        assert not [a for a in assets if "maplibre" in Path(a).name]
        total = sum(gzipped_size(a) for a in set(assets))
        assert total <= BUDGET_BYTES, f"{total / 1024:.0f} KB gzipped: {sorted(set(assets))}"
    finally:
        await ctx.close()
