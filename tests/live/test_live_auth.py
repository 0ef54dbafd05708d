"""/api/live authenticated without the token in the URL, closed when its token is revoked, and
no token in what the server processes log. On PostgreSQL the socket listens on one process
and the revocation goes through the other: what closes it came through Redis and the log."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
import pytest
import pytest_asyncio
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from backend.auth.tokens import TokenClaims, issue_token, new_token_id, read_token
from backend.demo import DEMO_PASSWORD
from backend.live.socket import AUTH_DEADLINE_S
from tests.live.conftest import Deployment, Server, sign_in

ROLE = "grid_police"  # whose password the revocation test changes, and sets back
# A token parameter in a log line whose value is not hidden.
SHOWN = re.compile(r"(?i)(token|tok%65n)=(?!\[redacted\])")


@pytest_asyncio.fixture(scope="module")
async def staff(deployment: Deployment) -> str:
    """One sign-in for the tests that only need a valid token (sign-ins are rate limited)."""
    return (await sign_in(deployment.servers[0], "community_staff"))[0]


def live(server: Server) -> str:
    return f"ws://127.0.0.1:{server.port}/api/live"


def bearer_protocols(token: str) -> list[Subprotocol]:
    return [Subprotocol("wangge"), Subprotocol(f"bearer.{token}")]


async def subscribed(ws: ClientConnection) -> dict:
    await ws.send(json.dumps({"type": "subscribe", "scopes": []}))
    async with asyncio.timeout(10):
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == "subscribed":
                return message


async def closed(ws: ClientConnection, within: float = 10.0) -> tuple[int, str]:
    """Read until the server closes the socket: its code and reason."""
    with pytest.raises(ConnectionClosed) as done:
        async with asyncio.timeout(within):
            while True:
                await ws.recv()
    assert done.value.rcvd is not None, "the server did not close the socket"
    return done.value.rcvd.code, done.value.rcvd.reason


async def still_open(ws: ClientConnection) -> None:
    await ws.send(json.dumps({"type": "ping"}))
    async with asyncio.timeout(5):
        while json.loads(await ws.recv())["type"] != "pong":
            pass


async def test_the_token_in_the_first_message(deployment: Deployment, staff: str):
    server, token = deployment.servers[-1], staff
    async with connect(live(server)) as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        hello = await subscribed(ws)
        assert hello["head"] >= 0
        # A second auth on the same socket is a mistake the client hears about; it stays open.
        await ws.send(json.dumps({"type": "auth", "token": token}))
        assert json.loads(await ws.recv())["code"] == "bad_message"
        await still_open(ws)


async def test_the_token_in_the_offered_subprotocols_is_never_echoed(
    deployment: Deployment, staff: str
):
    server, token = deployment.servers[-1], staff
    async with connect(live(server), subprotocols=bearer_protocols(token)) as ws:
        assert ws.subprotocol == "wangge"
        assert ws.response.headers["Sec-WebSocket-Protocol"] == "wangge"
        assert token not in str(ws.response.headers)
        await subscribed(ws)


async def test_the_old_query_string_still_works(deployment: Deployment, staff: str):
    async with connect(deployment.servers[-1].live_url(staff)) as ws:
        await subscribed(ws)


@pytest.mark.parametrize("token", ["not-a-token", "eyJzdWIiOjF9.forged"])
async def test_a_bad_token_is_closed_with_4401_either_way(deployment: Deployment, token):
    server = deployment.servers[-1]
    async with connect(live(server)) as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        code, reason = await closed(ws)
        assert code == 4401, reason
    async with connect(live(server), subprotocols=bearer_protocols(token)) as ws:
        assert ws.subprotocol == "wangge"
        code, reason = await closed(ws)
        assert code == 4401, reason


async def test_anything_before_auth_or_nothing_at_all_is_closed_with_4401(
    deployment: Deployment,
):
    server = deployment.servers[-1]
    async with connect(live(server)) as ws:
        await ws.send(json.dumps({"type": "subscribe", "scopes": []}))
        code, reason = await closed(ws)
        assert (code, '"auth"' in reason) == (4401, True)
    async with connect(live(server)) as ws:
        started = asyncio.get_running_loop().time()
        code, reason = await closed(ws, within=AUTH_DEADLINE_S + 5)
        waited = asyncio.get_running_loop().time() - started
        assert code == 4401, reason
        assert AUTH_DEADLINE_S - 0.5 <= waited <= AUTH_DEADLINE_S + 3


async def me(server: Server, token: str) -> int:
    async with httpx.AsyncClient(timeout=30) as client:
        r = await client.get(f"{server.base}/api/me", headers={"Authorization": f"Bearer {token}"})
    return r.status_code


async def post(server: Server, path: str, token: str, body: dict | None = None) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(
            f"{server.base}{path}", json=body, headers={"Authorization": f"Bearer {token}"}
        )


async def test_revoked_tokens_close_their_open_sockets_with_4401(deployment: Deployment):
    acting, listening = deployment.servers[0], deployment.servers[-1]
    phone_token, _ = await sign_in(acting, ROLE)
    # What a second sign-in would give, without spending the address's sign-in budget.
    secret = deployment.db.settings.secret_key
    claims = read_token(phone_token, secret)
    desk_token = issue_token(
        TokenClaims(claims.sub, claims.exp, claims.gen, new_token_id()), secret
    )
    async with (
        connect(live(listening)) as phone,
        connect(live(listening), subprotocols=bearer_protocols(desk_token)) as desk,
    ):
        await phone.send(json.dumps({"type": "auth", "token": phone_token}))
        await subscribed(phone)
        await subscribed(desk)

        # Signing the phone out closes its socket, and only its own.
        assert (await post(acting, "/api/auth/sign-out", phone_token)).status_code == 204
        assert await me(acting, phone_token) == 401
        code, reason = await closed(phone)
        assert (code, reason) == (4401, "signed out: sign in again")
        await still_open(desk)
        assert await me(listening, desk_token) == 200

        # A new password closes every socket of the person.
        new = "another-password-2026"
        r = await post(
            acting,
            "/api/auth/password",
            desk_token,
            {"old_password": DEMO_PASSWORD, "new_password": new},
        )
        assert r.status_code == 200, r.text
        fresh = r.json()["token"]
        restored = False
        try:
            code, reason = await closed(desk)
            assert (code, reason) == (4401, "token revoked (password): sign in again")
            async with connect(live(listening), subprotocols=bearer_protocols(desk_token)) as ws:
                assert (await closed(ws))[0] == 4401
            # A socket that never subscribed is closed all the same.
            async with connect(live(listening), subprotocols=bearer_protocols(fresh)) as idle:
                await still_open(idle)
                body = {"old_password": new, "new_password": DEMO_PASSWORD}
                r = await post(acting, "/api/auth/password", fresh, body)
                assert r.status_code == 200, r.text
                restored = True
                assert (await closed(idle))[0] == 4401
        finally:
            if not restored:
                body = {"old_password": new, "new_password": DEMO_PASSWORD}
                await post(acting, "/api/auth/password", fresh, body)
    # The other process forgets the revoked tokens when it reads the revocation, within
    # the cache's own lifetime at worst.
    for _ in range(60):
        if await me(listening, phone_token) == 401:
            break
        await asyncio.sleep(0.1)
    assert await me(listening, phone_token) == 401


async def test_no_token_reaches_the_server_logs(deployment: Deployment, staff: str):
    server, token = deployment.servers[-1], staff
    async with connect(server.live_url(token)) as ws:
        await subscribed(ws)
    async with httpx.AsyncClient(timeout=30) as client:
        for query in (f"access_token={token}", f"a=1&tok%65n={token}", f"TOKEN={token}&b=2"):
            r = await client.get(f"{server.base}/api/health?{query}")
            assert r.status_code == 200
    logged = server.log.read_text()
    lines = [line for line in logged.splitlines() if "/api/live?" in line or "/api/health?" in line]
    assert any('"WebSocket /api/live?token=[redacted]" [accepted]' in line for line in lines)
    assert any("GET /api/health?access_token=[redacted] HTTP/1.1" in line for line in lines)
    assert any("a=1&tok%65n=[redacted] HTTP/1.1" in line for line in lines)
    assert any("TOKEN=[redacted]&b=2 HTTP/1.1" in line for line in lines)
    signature = token.rsplit(".", 1)[1]
    for s in deployment.servers:
        text = s.log.read_text()
        assert signature not in text
        # Nor any other test's of this session: every token parameter logged is hidden.
        assert not SHOWN.search(text), SHOWN.search(text)
