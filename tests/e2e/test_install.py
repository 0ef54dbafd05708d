"""The app installs, and after one visit it starts with the server out of reach.

The page is opened through a small TCP relay in front of the shared server; closing the relay
makes the origin truly unreachable, which Playwright's offline mode alone does not do for the
service worker's own requests.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import async_playwright

from tests.e2e.conftest import CHROMIUM_ARGS, PHONE, screenshot

pytestmark = pytest.mark.e2e


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, asyncio.CancelledError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


@contextlib.asynccontextmanager
async def relay(target_port: int) -> AsyncIterator[tuple[int, asyncio.Server]]:
    tasks: set[asyncio.Task] = set()

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", target_port)
        for pair in ((client_r, server_w), (server_r, client_w)):
            task = asyncio.create_task(_pipe(*pair))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], server
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()


async def test_the_app_installs_and_starts_with_the_server_gone(live_server, tmp_path):
    async with (
        relay(int(live_server.rsplit(":", 1)[1])) as (port, server),
        async_playwright() as p,
    ):
        base = f"http://127.0.0.1:{port}"
        # A profile on disk: Chromium reports every incognito context as not installable.
        ctx = await p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path="/usr/bin/chromium",
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=PHONE,
            device_scale_factor=2,
            is_mobile=True,
            locale="zh-CN",
        )
        page = await ctx.new_page()
        try:
            await page.goto(f"{base}/app/map")
            assert await page.evaluate(
                "navigator.serviceWorker.ready.then((r) => r.active.state)"
            ) in {"activating", "activated"}
            cdp = await ctx.new_cdp_session(page)
            errors = await cdp.send("Page.getInstallabilityErrors")
            assert errors["installabilityErrors"] == []
            manifest = await cdp.send("Page.getAppManifest")
            assert manifest["url"].endswith("/app/manifest.webmanifest")
            # The first visit's map requests go through the worker once it controls the page.
            await page.wait_for_function(
                "() => document.documentElement.dataset.mapReady === '1'", timeout=60_000
            )
            await page.reload()
            await page.wait_for_function(
                "() => document.documentElement.dataset.mapReady === '1'", timeout=60_000
            )

            server.close()
            await server.wait_closed()
            for task in asyncio.all_tasks():
                if task.get_coro().__name__ == "_pipe":
                    task.cancel()
            await page.reload()
            await page.wait_for_function(
                "() => document.documentElement.dataset.mapReady === '1'", timeout=60_000
            )
            drawn = await page.evaluate(
                "window.__wanggeMap.queryRenderedFeatures({layers: ['grids-line']}).length"
            )
            assert drawn > 0
            await screenshot(page, "app-offline-start")
        finally:
            await ctx.close()
