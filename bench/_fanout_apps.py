"""The two servers of bench/fanout.py.

``create_bench_app``: Wangge itself plus one bench-only route that writes an event the way
every feature does (a write transaction, ``append`` last); the commit wakes the hub, which
reads it back from the log and fans it out. ``raw_app``: the reference, a bare ASGI app that
keeps every socket's ``send`` and, for each publish, awaits one send per socket in a loop.
Both answer a socket's first message with a "subscribed" message, and send events of the same
shape and size.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

SCOPE = "15030200100101"


def _seq(scope: dict[str, Any]) -> int:
    return int(parse_qs(scope["query_string"].decode())["seq"][0])


def create_bench_app() -> Any:
    from litestar import post
    from litestar.datastructures import State

    from backend.app import create_app_from_env
    from backend.core.db import write_transaction
    from backend.events.service import NewEvent, append

    @post("/bench/publish", status_code=200)
    async def publish(state: State, seq: int) -> dict[str, int]:
        async with write_transaction(state.engine):
            [event_id] = await append([NewEvent("bench.tick", "bench", SCOPE, {"seq": seq})])
        return {"id": event_id}

    app = create_app_from_env()
    app.register(publish)
    return app


_sockets: list[Any] = []
_last_id = 0


async def raw_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global _last_id
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await send({"type": "lifespan.shutdown.complete"})
    elif scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        await receive()  # the subscribe message
        await send({"type": "websocket.send", "text": json.dumps({"type": "subscribed"})})
        _sockets.append(send)
        try:
            while (await receive())["type"] != "websocket.disconnect":
                pass
        finally:
            _sockets.remove(send)
    else:
        _last_id += 1
        event = {
            "type": "event",
            "id": _last_id,
            "at": datetime.now(UTC).isoformat(),
            "event": "bench.tick",
            "subject": "bench",
            "scope": SCOPE,
            "actor": None,
            "payload": {"seq": _seq(scope)},
        }
        message = {"type": "websocket.send", "text": json.dumps(event, separators=(",", ":"))}
        for socket_send in list(_sockets):
            await socket_send(message)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})
