import pytest
from playwright.async_api import expect

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e


async def test_root_shows_the_grids_on_a_map_at_phone_size(live_server, phone_page):
    page = phone_page
    await page.goto(f"{live_server}/")
    await expect(page).to_have_url(f"{live_server}/app/sign-in")
    await page.get_by_test_id("visit-map").click()
    await expect(page).to_have_url(f"{live_server}/app/map")
    await page.wait_for_function(
        "() => document.documentElement.dataset.mapReady === '1'", timeout=60_000
    )
    drawn = await page.evaluate(
        "window.__wanggeMap.queryRenderedFeatures({layers: ['grids-line']}).length"
    )
    assert drawn > 0
    assert await page.get_by_text("网格").first.is_visible()
    await screenshot(page, f"first-page-map-{live_server.rsplit(':', 1)[1]}")
