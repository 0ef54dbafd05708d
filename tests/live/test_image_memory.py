"""The memory of a real server process under picture uploads sent at once.

Measured by an attacker before the limits: a resident sending four 281 KB PNGs of
10,000 × 8,900 pixels to their own case at once took a server from 615 MB to 4.9 GB. Here the
peak resident memory of the server process (VmHWM, from /proc) must stay under 1 GB, both for
four such bombs and for four pictures just under the pixel limit, which are decoded.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.conftest import _database_copy
from tests.live.conftest import Server, case_body, sign_in, start, stop, wait_up

MB = 2**20
LIMIT_BYTES = 1024 * MB
BOMB = (10_000, 8_900)  # 89 MP
JUST_UNDER = (7_000, 7_000)  # 49 MP: under the default limit of 50 MP, so decoded


def png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, "PNG", compress_level=9)
    return out.getvalue()


@pytest.fixture(scope="module")
def bomb_png() -> bytes:
    return png(BOMB)


@pytest.fixture(scope="module")
def big_png() -> bytes:
    return png(JUST_UNDER)


def memory(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (the peak so far) of a process, in bytes."""
    status = Path(f"/proc/{pid}/status").read_text()
    found = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB$", status, re.MULTILINE))
    return {name: int(kb) * 1024 for name, kb in found.items()}


@pytest.fixture
def serve(city_template, tmp_path) -> Iterator[Callable]:
    """Start a server of this test's own on a copy of the demo city, with extra settings."""

    @asynccontextmanager
    async def served(**env: str) -> AsyncIterator[Server]:
        kind, template = city_template
        data = tmp_path / f"data-{len(list(tmp_path.iterdir()))}"
        async with _database_copy(kind, template, data) as db:
            server = start(db, data, "server", **env)
            try:
                await asyncio.to_thread(wait_up, [server])
                yield server
            finally:
                stop([server])

    yield served


async def resident_case(client: httpx.AsyncClient, server: Server, spots) -> tuple[dict, int]:
    token, _ = await sign_in(server, "resident")
    headers = {"Authorization": f"Bearer {token}"}
    r = await client.post(f"{server.base}/api/cases", json=case_body(next(spots)), headers=headers)
    assert r.status_code == 201, r.text
    return headers, r.json()["id"]


async def send_at_once(
    client: httpx.AsyncClient, server: Server, case: int, headers: dict, content: bytes, n: int
) -> list[httpx.Response]:
    async def one(i: int) -> httpx.Response:
        return await client.post(
            f"{server.base}/api/cases/{case}/photos",
            files={"file": (f"{i}.png", content, "image/png")},
            headers=headers,
        )

    return await asyncio.gather(*(one(i) for i in range(n)))


def photo_files(server: Server) -> list[Path]:
    folder = server.log.parent / "photos"
    return list(folder.iterdir()) if folder.exists() else []


async def test_four_bombs_at_once_leave_the_server_under_1_gb(serve, community_spots, bomb_png):
    assert len(bomb_png) < 500_000
    async with serve() as server, httpx.AsyncClient(timeout=120) as client:
        headers, case = await resident_case(client, server, community_spots)
        before = memory(server.proc.pid)
        answers = await send_at_once(client, server, case, headers, bomb_png, 4)
        after = memory(server.proc.pid)
        print(
            f"\nfour bombs: RSS {before['VmRSS'] / MB:.0f} MB before, "
            f"peak {after['VmHWM'] / MB:.0f} MB"
        )
        assert [(r.status_code, r.json()["code"]) for r in answers] == [
            (413, "image_too_large")
        ] * 4
        assert after["VmHWM"] < LIMIT_BYTES
        # Refused from the header: the server grew by no picture's worth (267 MB each).
        assert after["VmHWM"] - before["VmHWM"] < 100 * MB
        assert photo_files(server) == []


async def test_four_large_pictures_at_once_are_decoded_in_turn_under_1_gb(
    serve, community_spots, big_png
):
    # Time enough to wait for a turn on a busy test machine: this test wants every one stored.
    async with serve(WANGGE_IMAGE_WAIT_S="120") as server, httpx.AsyncClient(timeout=180) as client:
        headers, case = await resident_case(client, server, community_spots)
        before = memory(server.proc.pid)
        answers = await send_at_once(client, server, case, headers, big_png, 4)
        after = memory(server.proc.pid)
        print(
            f"\nfour 49 MP pictures: RSS {before['VmRSS'] / MB:.0f} MB before, "
            f"peak {after['VmHWM'] / MB:.0f} MB"
        )
        assert [r.status_code for r in answers] == [201] * 4, [r.text for r in answers]
        assert {(r.json()["width"], r.json()["height"]) for r in answers} == {(1600, 1600)}
        assert after["VmHWM"] < LIMIT_BYTES
        assert len(photo_files(server)) == 8  # each photo and its thumbnail


async def test_uploads_beyond_the_decodes_get_503_busy_with_retry_after(
    serve, community_spots, big_png
):
    async with (
        serve(WANGGE_IMAGE_DECODES="1", WANGGE_IMAGE_WAIT_S="0") as server,
        httpx.AsyncClient(timeout=180) as client,
    ):
        headers, case = await resident_case(client, server, community_spots)
        answers = await send_at_once(client, server, case, headers, big_png, 4)
        stored = [r for r in answers if r.status_code == 201]
        busy = [r for r in answers if r.status_code == 503]
        assert len(stored) + len(busy) == 4, [r.text for r in answers]
        assert stored and busy
        for r in busy:
            assert r.json()["code"] == "busy"
            assert int(r.headers["retry-after"]) > 0
        assert len(photo_files(server)) == 2 * len(stored)
