"""Load shedding through ``wangge serve``: writes held up by a lock on the database fill a
process's places for writes; the requests past them are answered 503 ``overloaded`` with
``Retry-After`` at once, reads are still answered meanwhile (health checks, held up too, take
no place), and the held writes finish when the lock goes (backend/core/shedding.py)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import httpx
from prometheus_client.parser import text_string_to_metric_families

from backend.core.shedding import write_limit
from backend.demo import DEMO_PASSWORD
from geo.demo import DEMO_ACCOUNTS
from tests.conftest import _database_copy
from tests.live.conftest import case_body, community_spots, writes_held  # noqa: F401 (a fixture)
from tests.served import served

LIMIT = 8
EXCESS = 12


def metric(text: str, name: str) -> float:
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    )


async def in_flight(http: httpx.AsyncClient, n: int) -> None:
    """Wait until ``n`` requests are in flight (the scrape asking is one more)."""
    for _ in range(200):
        scrape = (await http.get("/metrics")).text
        if metric(scrape, "wangge_http_requests_in_flight") >= n + 1:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{n} requests never got in flight")


async def test_past_its_places_a_process_sheds_writes_at_once_and_still_reads(
    city_template,
    tmp_path,
    community_spots,  # noqa: F811
):
    kind, template = city_template
    data = tmp_path / "data"
    async with (
        _database_copy(kind, template, data) as db,
        served(db.settings, data, WANGGE_MAX_IN_FLIGHT=str(LIMIT)) as server,
        httpx.AsyncClient(base_url=server.base, timeout=60) as http,
    ):
        r = await http.post(
            "/api/auth/sign-in",
            json={"phone": DEMO_ACCOUNTS["resident"], "password": DEMO_PASSWORD},
        )
        auth = {"Authorization": f"Bearer {r.json()['token']}"}

        async def submit() -> tuple[httpx.Response, float]:
            start = time.monotonic()
            r = await http.post("/api/cases", json=case_body(next(community_spots)), headers=auth)
            return r, time.monotonic() - start

        writes = write_limit(LIMIT)
        async with writes_held(db):
            held = [asyncio.create_task(submit()) for _ in range(writes)]
            await in_flight(http, writes)
            # Health checks (each writes a row) wait too, but take no place: the reads still
            # find theirs.
            health = [asyncio.create_task(http.get("/api/health")) for _ in range(LIMIT)]
            await in_flight(http, writes + LIMIT)
            # One after another: timed alone, each is the server's answer, not the client's
            # queue of new connections on a busy machine.
            shed = [await submit() for _ in range(EXCESS)]
            reads = await asyncio.gather(
                *(http.get("/api/case-list", headers=auth) for _ in range(LIMIT - writes))
            )
            assert not any(t.done() for t in [*held, *health])
        done = await asyncio.gather(*held)
        await asyncio.gather(*health)

        for r, took in shed:
            assert r.status_code == 503, r.text
            assert r.json()["code"] == "overloaded"
            assert r.headers["Retry-After"] == "2"
            assert took < 0.1, took
        assert [r.status_code for r in reads] == [200] * len(reads)
        assert [r.status_code for r, _ in done] == [201] * writes, [r.text for r, _ in done]
        after = (await http.get("/metrics")).text
        assert metric(after, "wangge_http_requests_shed_total") == EXCESS
        # Places come back: once the held writes are done a write is taken again.
        assert (await submit())[0].status_code == 201

        async def trickled() -> httpx.Response:
            body = json.dumps(case_body(next(community_spots))).encode()

            async def chunks() -> AsyncIterator[bytes]:
                for i in range(0, len(body), 40):
                    yield body[i : i + 40]
                    await asyncio.sleep(0.3)

            headers = {**auth, "Content-Type": "application/json"}
            return await http.post("/api/cases", content=chunks(), headers=headers)

        # Bodies trickling in take no place while the process waits for their bytes.
        slow = [asyncio.create_task(trickled()) for _ in range(LIMIT)]
        await in_flight(http, LIMIT)
        assert (await submit())[0].status_code == 201
        assert [r.status_code for r in await asyncio.gather(*slow)] == [201] * LIMIT
