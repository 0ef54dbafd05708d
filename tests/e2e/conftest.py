"""One real server process and one headless Chromium, shared by every browser test.

The server is uvicorn running the app factory on a free port, on an SQLite file that holds the
demo city. Chromium is Debian's (/usr/bin/chromium): Playwright's own browser download cannot
work on these machines.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, Request, async_playwright

from tests.conftest import admin_sql, postgres_url

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--enable-unsafe-swiftshader",
    "--use-angle=swiftshader",
]


# Each running server's data folder by its base URL: the console SMS sender writes there.
DATA_DIRS: dict[str, Path] = {}


def _in_thread(coro: Coroutine) -> None:
    """Run a coroutine to the end from sync code, even while pytest-asyncio's loop runs."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, city_template: tuple[str, str]
) -> Iterator[str]:
    """The app served by uvicorn on a copy of the demo city, on each kind of database."""
    with app_server(tmp_path_factory, city_template, "e2e") as base:
        yield base


@pytest.fixture(scope="session")
def live_data_dir(live_server: str) -> Path:
    """The data folder of ``live_server``: its photos, and the console SMS sender's sms.log."""
    return DATA_DIRS[live_server]


@contextmanager
def app_server(
    tmp_path_factory: pytest.TempPathFactory,
    city_template: tuple[str, str],
    name: str,
    **env: str,
) -> Iterator[str]:
    """uvicorn running the app factory on a free port, on its own copy of the demo city, with
    ``env`` added to its environment; its base URL while the block runs."""
    if not (ROOT / "pwa" / "dist" / "index.html").exists():
        pytest.fail(
            "the PWA is not built: `make test` builds it (cd pwa && npm ci && npm run build)"
        )
    kind, template = city_template
    data_dir = tmp_path_factory.mktemp(f"{name}-{kind}")
    pg_name = None
    if kind == "sqlite":
        shutil.copyfile(template, data_dir / "wangge.sqlite")
        url = f"sqlite:///{data_dir / 'wangge.sqlite'}"
    else:
        pg_name = f"wangge_e2e_{uuid.uuid4().hex[:10]}"
        _in_thread(admin_sql(f'CREATE DATABASE "{pg_name}" TEMPLATE "{template}"'))
        url = postgres_url(pg_name)
    port = _free_port()
    log = (data_dir / "server.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "backend.app:create_app_from_env",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": url,
            "WANGGE_DATA_DIR": str(data_dir),
            "WANGGE_PORT": str(port),
            "WANGGE_SECRET_KEY": "e2e-secret-0123456789abcdef0123456789",
            # Every browser test signs in from 127.0.0.1, dozens of times a minute: as many
            # people behind one address as a centre behind its NAT.
            "WANGGE_RATE_LIMITS": "sign_in=600/minute,password=100/minute",
            # The visitors' phones are shared by the whole walk: their tracking codes and case
            # notices would use up a real phone's daily share before a test asks for a sign-up
            # code (the cap itself: tests/backend/test_sms.py).
            "WANGGE_SMS_DAILY_CAP": "1000",
            **env,
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"server did not start:\n{(data_dir / 'server.log').read_text()}")
        time.sleep(0.2)
    DATA_DIRS[base] = Path(env.get("WANGGE_DATA_DIR", data_dir))
    try:
        yield base
    finally:
        DATA_DIRS.pop(base, None)
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        if pg_name:
            _in_thread(admin_sql(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


@pytest_asyncio.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One Chromium for every browser test, driven through Playwright's async API on
    pytest-asyncio's loop (the sync API would run a loop of its own in this thread)."""
    async with async_playwright() as p:
        b = await p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        yield b
        await b.close()


@pytest_asyncio.fixture
async def phone_page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = await context.new_page()
    yield page
    await context.close()


class InApp:
    """A page moved from screen to screen inside the app (its router), so that the app's code
    loads once, not once per screen; each screen judged once no request has been in flight
    for a moment (it has its data)."""

    def __init__(self, page: Page, base: str) -> None:
        self.page, self.base = page, base
        self.pending: set[Request] = set()
        page.on("request", lambda r: self.pending.add(r))
        page.on("requestfinished", lambda r: self.pending.discard(r))
        page.on("requestfailed", lambda r: self.pending.discard(r))

    async def go(self, path: str) -> None:
        if self.page.url.startswith(f"{self.base}/app/"):
            await self.page.evaluate(
                "p => document.querySelector('#app').__vue_app__.config.globalProperties"
                ".$router.push(p)",
                path,
            )
        else:
            await self.page.goto(f"{self.base}/app{path}")
        await self.settled()

    async def settled(self, quiet: float = 0.25, limit: float = 20) -> None:
        """Until no request has been in flight for ``quiet`` seconds: the screen has its data."""
        loop = asyncio.get_running_loop()
        deadline, since = loop.time() + limit, loop.time()
        while loop.time() < deadline:
            if self.pending:
                since = loop.time()
            elif loop.time() - since >= quiet:
                return
            await asyncio.sleep(0.05)


async def screenshot(page: Page, name: str) -> Path:
    """Saved under tests/artifacts/ for people to look at."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path))
    return path
