import pytest

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e


def test_root_shows_the_grids_on_a_map_at_phone_size(live_server, phone_page):
    page = phone_page
    page.goto(f"{live_server}/")
    assert page.url == f"{live_server}/app/"
    page.wait_for_function("document.documentElement.dataset.mapReady === '1'", timeout=60_000)
    drawn = page.evaluate(
        "window.__wanggeMap.queryRenderedFeatures({layers: ['grids-line']}).length"
    )
    assert drawn > 0
    assert page.get_by_text("网格").first.is_visible()
    screenshot(page, "first-page-map")
