"""Load shedding: a process answers at most ``Settings.max_in_flight`` HTTP requests at once;
past that, a request is answered 503 ``overloaded`` with ``Retry-After`` before anything of it
is read, so an overload costs the client a short wait instead of a queue measured in seconds.

One event loop serves a process: every request admitted shares it, so past a point admitting
more only makes each one slower (at 4× a city's peak, p50 went to 15–28 s with nothing shed).
Writes may take only three quarters of the places: the last quarter is kept for reads, so a
burst of submissions never starves the screens that read. The health check and ``/metrics``
are never shed: a balancer or Prometheus must see an overloaded process as up. A request
holds its place while the process works on it, not while it waits for the client's bytes.

Live sockets are not counted here: they are long-lived, and a live socket that falls behind is
closed with 4408 by its connection (backend/live/connection.py).
"""

from __future__ import annotations

import json

from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    ReceiveMessage,
    Scope,
    Send,
)

from backend.core import metrics
from backend.core.errors import error_body

RETRY_AFTER_S = 2
READS = frozenset({"GET", "HEAD", "OPTIONS"})
EXEMPT = frozenset({"/api/health", "/metrics"})

_BODY = json.dumps(
    error_body(
        503,
        "overloaded",
        f"the server has too much work in hand: try again in {RETRY_AFTER_S} s",
        retry_after=RETRY_AFTER_S,
    )
).encode()
_HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(_BODY)).encode()),
    (b"retry-after", str(RETRY_AFTER_S).encode()),
    (b"cache-control", b"no-store"),
]
_START: HTTPResponseStartEvent = {"type": "http.response.start", "status": 503, "headers": _HEADERS}
_END: HTTPResponseBodyEvent = {"type": "http.response.body", "body": _BODY, "more_body": False}


def write_limit(limit: int) -> int:
    """How many of ``limit`` places writes may hold at once: all but a quarter kept for reads."""
    return max(1, limit - max(1, limit // 4))


def shedding(app: ASGIApp, limit: int) -> ASGIApp:
    """``app`` with at most ``limit`` HTTP requests in hand (writes at most
    :func:`write_limit`); the rest answered 503 ``overloaded`` at once."""
    writes = write_limit(limit)
    in_flight = 0

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal in_flight
        if scope["path"] in EXEMPT:
            await app(scope, receive, send)
            return
        if in_flight >= (limit if scope.get("method") in READS else writes):
            metrics.SHED.inc()
            await send(_START)
            await send(_END)
            return

        async def receiving() -> ReceiveMessage:
            # Waiting for the client's bytes is no work of the process: a photo trickling in
            # over a phone's network for half a minute must not hold a place meanwhile.
            nonlocal in_flight
            in_flight -= 1
            try:
                return await receive()
            finally:
                in_flight += 1

        in_flight += 1
        try:
            await app(scope, receiving, send)
        finally:
            in_flight -= 1

    return middleware
