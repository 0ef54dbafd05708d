"""``/api/live``: the WebSocket endpoint, written against ASGI directly and served before
Litestar's stack (backend/app.py), so that the hub sends on the server's own ``send`` with
nothing in between (docs/api.md, "Live", has the protocol).

The bearer token never travels in the URL, which servers and proxies write to their logs.
Browsers cannot set headers on a WebSocket, so a client gives it in one of two ways:

- its first message, ``{"type": "auth", "token": TOKEN}``, within ``AUTH_DEADLINE_S`` seconds
  of the connection and before anything else (what the field app does);
- the subprotocols it offers: ``["wangge", "bearer.TOKEN"]``; the server answers ``wangge``,
  never the token. A token is made of characters a subprotocol name may hold.

``?token=TOKEN`` still works for old clients (the access log shows it as ``[redacted]``).

The socket is accepted first and then closed with a code the client can act on: 4401 sign in
again (also when its token is revoked while the socket is open: a sign-out, a new password, a
deactivation), 4403 a scope outside your role, 4408 you read too slowly, resume; 1013 the
database did not answer (overload): back off, then resume.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, cast
from urllib.parse import parse_qs

from litestar import Litestar, asgi
from litestar.enums import ScopeType
from litestar.types import Receive, Scope, Send
from litestar.types.asgi_types import WebSocketAcceptEvent

from backend.auth.service import TokenClaims, authenticate, forgets, principal_for
from backend.core.errors import ApiError
from backend.core.principal import Principal
from backend.core.storage import storage_fault
from backend.live.access import personal_subjects
from backend.live.connection import UNAUTHENTICATED, Connection, FrameSend
from backend.live.hub import Hub
from backend.live.messages import PONG, BadMessage, Subscribe, error, frame, read
from backend.live.scopes import BadScope, ScopeRefused, resolve

log = logging.getLogger("wangge.live")

FORBIDDEN, SERVER_ERROR, TRY_AGAIN_LATER = 4403, 1011, 1013
AUTH_DEADLINE_S = 5.0
SUBPROTOCOL = "wangge"
BEARER = "bearer."
POSITION_MESSAGES = frozenset({"position", "duty"})
PATHS = frozenset({"/api/live", "/api/live/"})


def is_live(scope: Scope) -> bool:
    """A WebSocket for this endpoint: the app (backend/app.py) hands it to :func:`serve`
    before Litestar's own stack, whose exception middleware wraps ``send`` in a closure that
    only looks out for ``http.response.start``; at thousands of subscribers per event the extra
    call on every frame costs a tenth of the fan-out (bench/fanout.py)."""
    return scope["type"] == ScopeType.WEBSOCKET and scope["path"] in PATHS


@asgi("/api/live", copy_scope=False)
async def live(scope: Scope, receive: Receive, send: Send) -> None:
    """The route as Litestar sees it: over HTTP, 426 (WebSockets never come here)."""
    raise ApiError(426, "websocket_required", "/api/live speaks WebSocket: connect with ws://")


async def serve(app: Litestar, scope: Scope, receive: Receive, send: Send) -> None:
    """One live socket, on the server's own ``send``: the hub sends plain-dict frames, which
    Litestar's ``Send`` (typed with TypedDicts) takes too."""
    if scope["type"] != ScopeType.WEBSOCKET or (await receive())["type"] != "websocket.connect":
        return
    offered = list(scope.get("subprotocols") or ())
    accept: WebSocketAcceptEvent = {
        "type": "websocket.accept",
        "subprotocol": SUBPROTOCOL if SUBPROTOCOL in offered else None,
        "headers": [],
    }
    await send(accept)
    hub: Hub = app.state.hub
    try:
        token = _offered_token(offered) or _query_token(scope)
        if token is None:
            token = await _first_message_token(receive)
            if token is None:
                return  # gone before saying anything
        conn = await _connect(hub, app, cast(FrameSend, send), token)
    except _Refused as refused:
        reason = refused.reason.encode()[:120].decode(errors="ignore")
        await send({"type": "websocket.close", "code": UNAUTHENTICATED, "reason": reason})
        return
    except Exception as exc:
        code, reason = _failed(exc, "connecting")
        await send({"type": "websocket.close", "code": code, "reason": reason})
        return
    principal = conn.principal
    positions = getattr(app.state, "positions", None)
    try:
        while not conn.closed:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                break
            await _handle(hub, conn, positions, _text_of(message))
    except Exception as exc:
        conn.close(*_failed(exc, f"the socket of person {principal.id}"))
    finally:
        hub.disconnect(conn)
        if positions is not None:
            try:
                await positions.on_disconnect(principal)
            except Exception:
                log.exception("positions.on_disconnect failed")
    await conn.finish()


def _failed(exc: Exception, what: str) -> tuple[int, str]:
    """The close code and reason for a failure: 1013 (try again later; clients back off) when
    the database or the disk did not answer, as under overload; 1011 for a fault of the code.

    >>> _failed(TimeoutError(), "a test")[0], _failed(KeyError("x"), "a test")[0]
    (1013, 1011)
    """
    fault = storage_fault(exc)
    if fault is not None:
        log.warning("live: %s failed: %s (%r)", what, fault, exc)
        return TRY_AGAIN_LATER, f"try again later: {fault}"[:120]
    log.error("live: %s failed", what, exc_info=exc)
    return SERVER_ERROR, "server error"


def _text_of(message: Mapping[str, object]) -> str:
    """A received WebSocket message's text (a binary one's bytes read as UTF-8)."""
    text = message.get("text")
    if isinstance(text, str):
        return text
    data = message.get("bytes")
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else ""


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _offered_token(offered: list[str]) -> str | None:
    for protocol in offered:
        if protocol.startswith(BEARER) and len(protocol) > len(BEARER):
            return protocol[len(BEARER) :]
    return None


def _query_token(scope: Scope) -> str | None:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return (query.get("token") or [""])[0] or None


async def _first_message_token(receive: Receive) -> str | None:
    """The token of the client's first message, which must be ``auth``; None if the client
    went away first."""
    wanted = f'send {{"type": "auth", "token": ...}} first, within {AUTH_DEADLINE_S:g} s'
    try:
        async with asyncio.timeout(AUTH_DEADLINE_S):
            message = await receive()
    except TimeoutError:
        raise _Refused(wanted) from None
    if message["type"] == "websocket.disconnect":
        return None
    try:
        body = read(_text_of(message))
    except BadMessage:
        raise _Refused(wanted) from None
    token = body.get("token") if isinstance(body, dict) and body["type"] == "auth" else None
    if not isinstance(token, str) or not token:
        raise _Refused(wanted)
    return token


async def _connect(hub: Hub, app: Litestar, send: FrameSend, token: str) -> Connection:
    """Authenticate ``token`` and hand its socket to the hub, which closes it when the token
    is revoked from then on. A revocation heard while the person was being read may have
    come too late for that reading and too early for the hub: then it is read again."""
    settings = app.state.settings
    before = forgets()
    claims, principal = await _authenticated(token, settings)
    conn = hub.connection(send, principal, claims)
    if forgets() != before:
        try:
            await _authenticated(token, settings)
        except _Refused:
            hub.disconnect(conn)
            raise
    return conn


async def _authenticated(token: str, settings: Any) -> tuple[TokenClaims, Principal]:
    try:
        return await authenticate(token, settings)
    except ApiError as exc:
        raise _Refused(f"sign in again: {exc.reason}") from None


async def _handle(hub: Hub, conn: Connection, positions: Any, text: str) -> None:
    try:
        message = read(text)
    except BadMessage as exc:
        conn.put(error("bad_message", str(exc)))
        return
    if isinstance(message, Subscribe) or message["type"] == "duty":
        try:
            await _current(conn)
        except ApiError as exc:
            conn.close(UNAUTHENTICATED, f"sign in again: {exc.reason}"[:120])
            return
    if isinstance(message, Subscribe):
        await _subscribe(hub, conn, message)
    elif message["type"] == "auth":
        conn.put(error("bad_message", "already authenticated: auth comes once, first"))
    elif message["type"] == "ping":
        conn.put(PONG)
    elif message["type"] == "viewport":
        conn.bbox = message["bbox"]  # positions from the next pass on; events are unchanged
    elif message["type"] in POSITION_MESSAGES and positions is not None:
        try:
            answer = await positions.on_message(conn.principal, message)
        except Exception as exc:
            # A duty's row not written now: the client says it again; its stream goes on.
            if (fault := storage_fault(exc)) is None:
                raise
            answer = {"type": "error", "code": "storage_unavailable", "reason": fault}
        if answer is not None:
            conn.put(frame(answer))
    elif message["type"] in POSITION_MESSAGES:
        conn.put(error("bad_message", "this server does not take positions"))
    else:
        conn.put(error("bad_message", f"unknown message type {message['type']!r}"))


async def _current(conn: Connection) -> None:
    """Read the socket's person again, as a request would (kept a few seconds): what they may
    follow and where they work are those of now, not of when the socket opened."""
    if conn.token is not None:
        conn.principal = await principal_for(conn.token)


async def _subscribe(hub: Hub, conn: Connection, message: Subscribe) -> None:
    person = conn.principal
    try:
        codes, prefixes = resolve(person.territory, message.scopes)
    except ScopeRefused as exc:
        conn.close(FORBIDDEN, str(exc)[:120])
        return
    except BadScope as exc:
        conn.put(error("bad_message", str(exc)))
        return
    await hub.subscribe(
        conn, codes, prefixes, message.after, lambda: personal_subjects(person.id), message.bbox
    )
