"""A server started as the README starts it (``wangge serve``), on a database of the tests."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from backend.core.settings import Settings
from tests.live.conftest import free_port

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Served:
    base: str
    proc: subprocess.Popen
    log: Path


def serve(settings: Settings, data_dir: Path, *args: str, **env: str) -> Served:
    """``wangge serve ARGS`` with ``env`` added to the test's settings."""
    port = free_port()
    log = data_dir / f"serve-{port}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "serve", *args],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": settings.database_url,
            "WANGGE_DATA_DIR": str(data_dir),
            "WANGGE_SECRET_KEY": settings.secret_key,
            "WANGGE_ESCALATION_INTERVAL_S": "0",
            "WANGGE_PORT": str(port),
            **env,
        },
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    return Served(f"http://127.0.0.1:{port}", proc, log)


async def wait_up(served: Served) -> None:
    async with httpx.AsyncClient(timeout=2) as client:
        for _ in range(300):
            try:
                if (await client.get(f"{served.base}/api/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if served.proc.poll() is not None:
                raise AssertionError(f"wangge serve exited:\n{served.log.read_text()[-3000:]}")
            await asyncio.sleep(0.3)
    raise AssertionError("wangge serve did not start")


def stop(*servers: Served) -> None:
    for s in servers:
        s.proc.terminate()
    for s in servers:
        try:
            s.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            s.proc.kill()


@asynccontextmanager
async def served(
    settings: Settings, data_dir: Path, *args: str, **env: str
) -> AsyncIterator[Served]:
    server = serve(settings, data_dir, *args, **env)
    try:
        await wait_up(server)
        yield server
    finally:
        stop(server)
