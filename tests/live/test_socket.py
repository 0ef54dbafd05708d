"""/api/live on a real server: the token, what each role may follow, the small messages."""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from geo.demo import DEMO_GRID_CODE
from tests.live.conftest import COMMUNITY, Deployment, sign_in

OTHER_COMMUNITY = "150302001002"


async def closed_with(url: str, *messages: dict) -> tuple[int, str]:
    """Send ``messages`` and read until the server closes: its code and reason."""
    async with connect(url) as ws:
        for m in messages:
            await ws.send(json.dumps(m))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await ws.recv()
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_a_socket_without_a_valid_token_is_closed_with_4401(deployment: Deployment):
    server = deployment.servers[0]
    for token in ("", "not-a-token", "eyJzdWIiOjF9.forged"):
        code, reason = await closed_with(server.live_url(token))
        assert code == 4401, reason


@pytest.mark.parametrize(
    ("role", "scopes"),
    [
        ("resident", [COMMUNITY]),
        ("grid_worker", [COMMUNITY]),
        ("grid_leader", [DEMO_GRID_CODE[:-1] + "9"]),
        ("community_staff", [COMMUNITY, OTHER_COMMUNITY]),
        ("street_staff", ["150303"]),
        ("district_admin", ["150300"]),
    ],
)
async def test_a_role_cannot_subscribe_outside_its_scope(deployment: Deployment, role, scopes):
    server = deployment.servers[0]
    token, _ = await sign_in(server, role)
    subscribe = {"type": "subscribe", "scopes": scopes}
    code, reason = await closed_with(server.live_url(token), subscribe)
    assert code == 4403
    assert reason


@pytest.mark.parametrize(
    ("role", "scopes", "follows"),
    [
        ("resident", [], []),
        ("grid_worker", [], [DEMO_GRID_CODE]),
        ("grid_leader", [DEMO_GRID_CODE], [DEMO_GRID_CODE]),
        ("community_staff", [], [COMMUNITY]),
        ("community_staff", [DEMO_GRID_CODE], [DEMO_GRID_CODE]),
        ("city_admin", ["150303", "150302001"], ["150303", "150302001"]),
    ],
)
async def test_a_role_subscribes_inside_its_scope(deployment: Deployment, role, scopes, follows):
    server = deployment.servers[0]
    token, _ = await sign_in(server, role)
    # The replay from 0 that follows the hello is the shared server's whole log by the end of a
    # run: the socket is left without waiting 10 s for the close handshake behind it.
    async with connect(server.live_url(token), close_timeout=0.5) as ws:
        await ws.send(json.dumps({"type": "subscribe", "scopes": scopes, "after": 0}))
        hello = json.loads(await ws.recv())
    assert hello["type"] == "subscribed"
    assert (hello["scopes"], hello["after"]) == (follows, 0)
    assert hello["head"] >= 0


async def test_ping_pong_and_bad_messages_get_an_answer_and_keep_the_socket(
    deployment: Deployment,
):
    server = deployment.servers[0]
    token, _ = await sign_in(server, "community_staff")
    async with connect(server.live_url(token)) as ws:
        answers = []
        for text in (
            '{"type": "ping"}',
            "not json",
            '["subscribe"]',
            '{"type": "subscribe", "after": -3}',
            '{"type": "subscribe", "scopes": ["15%"]}',
            '{"type": "shout"}',
            '{"type": "ping"}',
        ):
            await ws.send(text)
            answers.append(json.loads(await ws.recv()))
    assert answers[0] == answers[-1] == {"type": "pong"}
    assert [a.get("code") for a in answers[1:-1]] == ["bad_message"] * 5


async def test_plain_http_to_the_socket_gets_a_json_error(deployment: Deployment):
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.get(f"{deployment.servers[0].base}/api/live")
    assert r.status_code == 426
    assert r.json()["code"] == "websocket_required"
