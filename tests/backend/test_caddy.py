"""deploy/Caddyfile, as shipped, in front of two ``wangge serve`` processes on one PostgreSQL
database with Redis: over TLS a resident signs in and reports a case, and the grid leader's
live socket (through Caddy too, on whichever process) hears it. HSTS is sent, /metrics stays
inside, and a client's own X-Forwarded-For does not reach the app as its address."""

from __future__ import annotations

import asyncio
import json
import shutil
import ssl
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from backend.demo import DEMO_PASSWORD
from geo.demo import DEMO_ACCOUNTS
from tests.backend.case_steps import demo_spot, report_body
from tests.conftest import _database_copy
from tests.live.conftest import free_port
from tests.served import ROOT, serve, stop, wait_up

CADDY = shutil.which("caddy")
SPOOFED = "198.51.100.7"


def start_caddy(port: int, upstreams: list[str], folder: Path) -> subprocess.Popen:
    """deploy/Caddyfile with this test's site, ports and upstreams, and Caddy's own CA."""
    home = folder / "caddy"
    return subprocess.Popen(
        [CADDY or "caddy", "run", "--config", str(ROOT / "deploy/Caddyfile")],
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "XDG_DATA_HOME": str(home),
            "XDG_CONFIG_HOME": str(home),
            "CADDY_ADMIN": "off",
            "CADDY_HTTP_PORT": str(free_port()),
            "CADDY_HTTPS_PORT": str(port),
            "CADDY_GLOBAL": "skip_install_trust",
            "WANGGE_SITE": f"https://127.0.0.1:{port}",
            "WANGGE_TLS": "internal",
            "WANGGE_UPSTREAMS": " ".join(upstreams),
        },
        stdout=(folder / "caddy.log").open("w"),
        stderr=subprocess.STDOUT,
    )


def tail(log: Path) -> str:
    return log.read_text()[-3000:]


async def caddy_up(base: str, proc: subprocess.Popen, log: Path) -> None:
    async with httpx.AsyncClient(verify=False, timeout=2) as http:
        for _ in range(100):
            try:
                if (await http.get(f"{base}/api/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                raise AssertionError(f"caddy exited:\n{tail(log)}")
            await asyncio.sleep(0.3)
    raise AssertionError(f"caddy did not proxy:\n{tail(log)}")


async def next_event(ws, kind: str) -> dict:
    async with asyncio.timeout(15):
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == "event" and message["event"] == kind:
                return message


@pytest.mark.parametrize("city_template", ["postgres"], indirect=True)
async def test_caddy_in_front_of_two_processes(city_template, demo_city, tmp_path):
    assert CADDY, "caddy is not installed (.ci/run installs Debian's)"
    kind, template = city_template
    data = tmp_path / "data"
    env = {
        "WANGGE_TRUSTED_PROXIES": "127.0.0.1",
        "WANGGE_LOG_FORMAT": "json",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "WANGGE_REDIS_PREFIX": f"test-caddy-{uuid.uuid4().hex[:8]}:",
    }
    async with _database_copy(kind, template, data) as db:
        servers = [serve(db.settings, data, **env) for _ in range(2)]
        caddy = None
        try:
            for s in servers:
                await wait_up(s)
            port = free_port()
            base = f"https://127.0.0.1:{port}"
            upstreams = [s.base.removeprefix("http://") for s in servers]
            caddy = start_caddy(port, upstreams, tmp_path)
            await caddy_up(base, caddy, tmp_path / "caddy.log")
            await through_caddy(base, demo_city)
        finally:
            if caddy is not None:
                caddy.terminate()
                caddy.wait(timeout=15)
            stop(*servers)

    logs = [json.loads(line) for s in servers for line in s.log.read_text().splitlines() if line]
    probes = [x for x in logs if x.get("path") == "/api/health?probe=xff"]
    assert probes and {x["client"] for x in probes} == {"127.0.0.1"}


async def through_caddy(base: str, demo_city) -> None:
    no_check = ssl.create_default_context()
    no_check.check_hostname = False
    no_check.verify_mode = ssl.CERT_NONE
    async with httpx.AsyncClient(base_url=base, verify=False, timeout=30) as http:
        r = await http.get(
            "/api/health", params={"probe": "xff"}, headers={"X-Forwarded-For": SPOOFED}
        )
        assert r.status_code == 200
        assert r.headers["strict-transport-security"] == "max-age=31536000"
        assert (await http.get("/metrics")).status_code == 404

        async def sign_in(role: str) -> str:
            r = await http.post(
                "/api/auth/sign-in", json={"phone": DEMO_ACCOUNTS[role], "password": DEMO_PASSWORD}
            )
            assert r.status_code == 200, r.text
            return r.json()["token"]

        leader, resident = await sign_in("grid_leader"), await sign_in("resident")
        ws_base = base.replace("https", "wss")
        async with connect(
            f"{ws_base}/api/live", ssl=no_check, subprotocols=["wangge", f"bearer.{leader}"]
        ) as ws:
            await ws.send(json.dumps({"type": "subscribe", "scopes": []}))
            await ws.recv()
            # On fresh connections, spread by Caddy: the socket's process hears what the other
            # wrote through Redis.
            made = []
            for _ in range(4):
                async with httpx.AsyncClient(base_url=base, verify=False, timeout=30) as one:
                    r = await one.post(
                        "/api/cases",
                        json=report_body(demo_spot(demo_city)),
                        headers={"Authorization": f"Bearer {resident}"},
                    )
                    assert r.status_code == 201, r.text
                    made.append(r.json()["id"])
            heard: set[int] = set()
            while not set(made) <= heard:
                event = await next_event(ws, "case.submit")
                heard.add(int(event["subject"].removeprefix("case:")))
