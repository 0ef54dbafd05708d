import pytest

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e


async def test_root_shows_the_grids_on_a_map_at_phone_size(live_server, phone_page):
    page = phone_page
    await page.goto(f"{live_server}/")
    assert page.url == f"{live_server}/app/"
    await page.wait_for_function(
        "document.documentElement.dataset.mapReady === '1'", timeout=60_000
    )
    drawn = await page.evaluate(
        "window.__wanggeMap.queryRenderedFeatures({layers: ['grids-line']}).length"
    )
    assert drawn > 0
    assert await page.get_by_text("网格").first.is_visible()
    await screenshot(page, f"first-page-map-{live_server.rsplit(':', 1)[1]}")
