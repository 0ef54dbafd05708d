"""An area switched to emergency is news for everyone inside it: a grid worker, subscribed to
their grid only, hears the street's mode.changed live and again when resuming after it."""

from __future__ import annotations

import asyncio
import json

import httpx
from websockets.asyncio.client import connect

from geo.demo import DEMO_GRID_CODE
from tests.live.conftest import Deployment, sign_in

STREET = DEMO_GRID_CODE[:9]


async def next_event(ws, kind: str) -> dict:
    async with asyncio.timeout(10):
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == "event" and message["event"] == kind:
                return message


async def test_a_grid_worker_hears_the_emergency_of_the_street_around_their_grid(
    deployment: Deployment,
):
    admin_server, worker_server = deployment.servers[0], deployment.servers[-1]
    admin, _ = await sign_in(admin_server, "district_admin")
    worker, _ = await sign_in(worker_server, "grid_worker")
    headers = {"Authorization": f"Bearer {admin}"}
    async with httpx.AsyncClient(base_url=admin_server.base, headers=headers) as client:
        async with connect(worker_server.live_url(worker)) as ws:
            await ws.send(json.dumps({"type": "subscribe", "scopes": []}))
            hello = json.loads(await ws.recv())
            assert hello["scopes"] == [DEMO_GRID_CODE]
            switched = await client.post(
                "/api/emergency/modes",
                json={"area_code": STREET, "kind": "flood", "reason": "暴雨红色预警"},
            )
            assert switched.status_code == 201, switched.text
            try:
                heard = await next_event(ws, "mode.changed")
                assert heard["scope"] == STREET
            finally:
                ended = await client.post(
                    f"/api/emergency/modes/{STREET}/end", json={"reason": "预警解除"}
                )
                assert ended.status_code == 200, ended.text

        # A phone that was away resumes after the switch and hears both changes.
        async with connect(worker_server.live_url(worker)) as ws:
            await ws.send(json.dumps({"type": "subscribe", "scopes": [], "after": hello["head"]}))
            assert json.loads(await ws.recv())["type"] == "subscribed"
            on = await next_event(ws, "mode.changed")
            off = await next_event(ws, "mode.changed")
    assert on["scope"] == off["scope"] == STREET
    assert on["id"] == heard["id"] < off["id"]
