"""Two server processes on one PostgreSQL and one Redis behave as one: a client on either hears
what is written through the other, events and positions alike. Neither looks at the log by
itself in these tests (WANGGE_LIVE_POLL_S is a minute): what arrives came through Redis."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.live.conftest import Deployment, case_body, sign_in

pytestmark = pytest.mark.parametrize("city_template", ["postgres"], indirect=True)


async def next_of(ws, kind: str, within: float = 5.0) -> dict:
    async with asyncio.timeout(within):
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == kind:
                return message


async def test_an_event_written_through_one_process_is_heard_on_the_other(
    deployment: Deployment, community_spots
):
    one, two = deployment.servers
    staff, _ = await sign_in(one, "community_staff")
    resident, _ = await sign_in(one, "resident")
    for listening, writing in ((one, two), (two, one)):
        async with connect(listening.live_url(staff)) as ws:
            await ws.send(json.dumps({"type": "subscribe", "scopes": []}))
            await next_of(ws, "subscribed")
            async with httpx.AsyncClient(timeout=30) as client:
                r = await client.post(
                    f"{writing.base}/api/cases",
                    json=case_body(next(community_spots)),
                    headers={"Authorization": f"Bearer {resident}"},
                )
            assert r.status_code == 201, r.text
            event = await next_of(ws, "event", within=3)
            assert (event["event"], event["subject"]) == ("case.submit", f"case:{r.json()['id']}")


async def test_a_position_sent_to_one_process_reaches_a_subscriber_on_the_other(
    deployment: Deployment,
):
    one, two = deployment.servers
    leader, _ = await sign_in(one, "grid_leader")
    worker, worker_id = await sign_in(two, "grid_worker")
    async with connect(one.live_url(leader)) as watching, connect(two.live_url(worker)) as phone:
        await watching.send(json.dumps({"type": "subscribe", "scopes": []}))
        await next_of(watching, "subscribed")
        await phone.send(json.dumps({"type": "duty", "on": True}))
        presence = await next_of(watching, "presence")
        assert (presence["person"], presence["on_duty"]) == (worker_id, True)
        grid = presence["grid"]
        at = datetime.now(UTC).isoformat()
        spot = {"lon": 106.8122, "lat": 39.7081, "accuracy": 8.0, "at": at}
        await phone.send(json.dumps({"type": "position", **spot}))
        [position] = (await next_of(watching, "positions"))["workers"]
        assert (position["person"], position["grid"]) == (worker_id, grid)
