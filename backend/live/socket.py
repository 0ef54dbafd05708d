"""``/api/live``: the WebSocket endpoint, written against ASGI directly so that the hub sends
on the server's own ``send`` with nothing in between (README, "Live", has the protocol).

The token comes in the query string (browsers cannot set headers on a WebSocket). The socket is
accepted first and then closed with a code the client can act on: 4401 sign in again, 4403 a
scope outside your role, 4408 you read too slowly, resume.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs

from litestar import Litestar, asgi
from litestar.types import Receive, Scope, Send

from backend.auth.principal import Principal, principal_from_token
from backend.errors import ApiError
from backend.live.access import personal_subjects, territory_of
from backend.live.connection import Connection
from backend.live.hub import Hub
from backend.live.messages import PONG, BadMessage, Subscribe, error, frame, read
from backend.live.scopes import BadScope, ScopeRefused, resolve

log = logging.getLogger("wangge.live")

UNAUTHENTICATED, FORBIDDEN, SERVER_ERROR = 4401, 4403, 1011
POSITION_MESSAGES = frozenset({"position", "duty"})
_LITESTAR_WRAPPER = "ExceptionHandlerMiddleware.__call__.<locals>.capture_response_started"


@asgi("/api/live", copy_scope=False)
async def live(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "websocket":
        raise ApiError(426, "websocket_required", "/api/live speaks WebSocket: connect with ws://")
    app = Litestar.from_scope(scope)
    if (await receive())["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    principal = await _principal(scope, app)
    if principal is None:
        reason = "sign in again: the token is missing, invalid or expired"
        await send({"type": "websocket.close", "code": UNAUTHENTICATED, "reason": reason})
        return
    hub: Hub = app.state.hub
    conn = hub.connection(server_send(send), principal)
    positions = getattr(app.state, "positions", None)
    try:
        while not conn.closed:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is None:
                text = (message.get("bytes") or b"").decode("utf-8", "replace")
            await _handle(hub, conn, positions, text)
    except Exception:
        log.exception("live socket of person %s failed", principal.id)
        conn.close(SERVER_ERROR, "server error")
    finally:
        hub.remove(conn)
        if positions is not None:
            try:
                await positions.on_disconnect(principal)
            except Exception:
                log.exception("positions.on_disconnect failed")
    await conn.finish()


def server_send(send: Send) -> Send:
    """The server's own ``send`` under Litestar's exception middleware, which wraps it (twice
    on this route) in a closure that only looks out for ``http.response.start``: on a
    WebSocket it passes every message on unchanged, and at thousands of subscribers per event
    the extra calls cost a tenth of the fan-out. Anything not of that shape is kept as is."""
    while getattr(send, "__qualname__", "").endswith(_LITESTAR_WRAPPER) and send.__closure__:
        cells = dict(zip(send.__code__.co_freevars, send.__closure__, strict=True))
        if "send" not in cells:
            break
        send = cells["send"].cell_contents
    return send


async def _principal(scope: Scope, app: Litestar) -> Principal | None:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    token = (query.get("token") or [""])[0]
    if not token:
        return None
    try:
        return await principal_from_token(token, app.state.settings)
    except ApiError:
        return None


async def _handle(hub: Hub, conn: Connection, positions: Any, text: str) -> None:
    try:
        message = read(text)
    except BadMessage as exc:
        conn.put(error("bad_message", str(exc)))
        return
    if isinstance(message, Subscribe):
        await _subscribe(hub, conn, message)
    elif message["type"] == "ping":
        conn.put(PONG)
    elif message["type"] in POSITION_MESSAGES and positions is not None:
        answer = await positions.on_message(conn.principal, message)
        if answer is not None:
            conn.put(frame(answer))
    elif message["type"] in POSITION_MESSAGES:
        conn.put(error("bad_message", "this server does not take positions"))
    else:
        conn.put(error("bad_message", f"unknown message type {message['type']!r}"))


async def _subscribe(hub: Hub, conn: Connection, message: Subscribe) -> None:
    person = conn.principal
    try:
        codes, prefixes = resolve(await territory_of(person), message.scopes)
    except ScopeRefused as exc:
        conn.close(FORBIDDEN, str(exc)[:120])
        return
    except BadScope as exc:
        conn.put(error("bad_message", str(exc)))
        return
    await hub.subscribe(conn, codes, prefixes, message.after, lambda: personal_subjects(person.id))
