"""One real server process and one headless Chromium, shared by every browser test.

The server is uvicorn running the app factory on a free port, on an SQLite file that holds the
demo city. Chromium is Debian's (/usr/bin/chromium): Playwright's own browser download cannot
work on these machines.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from backend.db import make_engine, migrate, use_engine
from backend.demo import load_city

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _seed(url: str, city) -> None:
    engine = make_engine(url)
    await migrate(engine)
    use_engine(engine)
    await load_city(city)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, demo_city) -> Iterator[str]:
    if not (ROOT / "pwa" / "dist" / "index.html").exists():
        pytest.fail(
            "the PWA is not built: `make test` builds it (cd pwa && npm ci && npm run build)"
        )
    data_dir = tmp_path_factory.mktemp("e2e-data")
    url = f"sqlite:///{data_dir / 'wangge.sqlite'}"
    asyncio.run(_seed(url, demo_city))
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "WANGGE_DATA_DIR": str(data_dir),
        "WANGGE_PORT": str(port),
        "WANGGE_SECRET_KEY": "e2e-secret-0123456789abcdef0123456789",
    }
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
        env=env,
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
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        yield b
        b.close()


@pytest.fixture
def phone_page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
