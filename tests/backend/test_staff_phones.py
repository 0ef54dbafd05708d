"""Grid staff's phones (which are also their sign-in names) on the grid page open to all:
masked for people who are not signed in, unless the city publishes them."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.core.phones import masked_phone
from backend.core.settings import Settings
from backend.demo import DEMO_PASSWORD
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def red_property_grid(demo_city) -> str:
    """A grid served by a 红色物业, whose property company's party secretary holds a post."""
    points = demo_city.service_points
    return points[points["kind"] == "red_property"].iloc[0]["area_code"]


def holders(demo_city, grid: str) -> set[str]:
    posts = demo_city.posts
    return set(posts[posts["grid_code"] == grid]["phone"])


@pytest.fixture
def grids(demo_city) -> list[str]:
    return [DEMO_GRID_CODE, red_property_grid(demo_city)]


async def test_a_visitor_reads_names_and_posts_but_no_phone(client, demo_city, grids):
    for grid in grids:
        r = await client.get(f"/api/grids/{grid}")
        assert r.status_code == 200, r.text
        assert MOBILE.findall(r.text) == []
        phones = holders(demo_city, grid)
        assert len(phones) >= 4
        posts = r.json()["posts"]
        assert {p["person"]["phone"] for p in posts} == {masked_phone(p) for p in phones}
        assert all(p["person"]["name"] and p["post_label"] for p in posts)


async def test_signed_in_staff_read_the_phones_whole(client, demo_city, grids):
    r = await client.post(
        "/api/auth/sign-in",
        json={"phone": DEMO_ACCOUNTS["grid_worker"], "password": DEMO_PASSWORD},
    )
    assert r.status_code == 200, r.text
    signed_in = {"Authorization": f"Bearer {r.json()['token']}"}
    for grid in grids:
        page = await client.get(f"/api/grids/{grid}", headers=signed_in)
        assert set(MOBILE.findall(page.text)) == holders(demo_city, grid)


async def test_a_resident_reads_what_a_visitor_reads(client):
    # Anybody can have a resident's account: it must not open the staff's sign-in names.
    r = await client.post(
        "/api/auth/sign-in",
        json={"phone": DEMO_ACCOUNTS["resident"], "password": DEMO_PASSWORD},
    )
    resident = {"Authorization": f"Bearer {r.json()['token']}"}
    page = await client.get(f"/api/grids/{DEMO_GRID_CODE}", headers=resident)
    assert page.status_code == 200
    assert MOBILE.findall(page.text) == []


async def test_a_token_that_is_no_good_reads_what_a_visitor_reads(client):
    r = await client.get(
        f"/api/grids/{DEMO_GRID_CODE}", headers={"Authorization": "Bearer not-a-token"}
    )
    assert r.status_code == 200
    assert MOBILE.findall(r.text) == []


async def test_a_city_that_publishes_staff_phones_shows_them_to_all(database, demo_city, grids):
    settings = replace(database.settings, publish_staff_phones=True)
    async with AsyncTestClient(app=create_app(settings)) as visitor:
        for grid in grids:
            page = await visitor.get(f"/api/grids/{grid}")
            assert page.status_code == 200, page.text
            assert set(MOBILE.findall(page.text)) == holders(demo_city, grid)


@pytest.mark.parametrize(
    ("value", "published"),
    [(None, False), ("", False), ("0", False), ("1", True), ("true", True), (" YES ", True)],
)
def test_the_setting_is_read_from_the_environment(value, published):
    env = {} if value is None else {"WANGGE_PUBLISH_STAFF_PHONES": value}
    assert Settings.from_env(env).publish_staff_phones is published
