"""The reference of bench/city.py: a bare ASGI app answering the city's requests with fixed
bytes, and telling its screens of each new case, as the floor of what this machine, the load
generator and the HTTP stack allow. Run by uvicorn as `bench._city_bare:app`."""

from __future__ import annotations

import itertools
import json
from typing import Any

_ids = itertools.count(1)
_screens: set[Any] = set()
_OK = [(b"content-type", b"application/json")]


async def app(scope: dict, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
    elif scope["type"] == "websocket":
        await _socket(receive, send)
    else:
        await _http(scope, receive, send)


async def _socket(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif message["type"] == "websocket.disconnect":
            _screens.discard(send)
            return
        elif '"subscribe"' in (message.get("text") or ""):
            _screens.add(send)


async def _http(scope: dict, receive: Any, send: Any) -> None:
    while (await receive()).get("more_body"):
        pass
    status, body = 200, b'{"items":[]}'
    if scope["method"] == "POST" and scope["path"] == "/api/cases/":
        case = next(_ids)
        status, body = 201, json.dumps({"id": case, "version": 1}).encode()
        event = {"type": "event", "id": case, "event": "case.submit", "subject": f"case:{case}"}
        text = json.dumps(event, separators=(",", ":"))
        frame = {"type": "websocket.send", "text": text}
        for screen in list(_screens):
            try:
                await screen(frame)
            except Exception:  # a screen that went away
                _screens.discard(screen)
    elif scope["method"] == "POST":
        body = b'{"version":2}'
    await send({"type": "http.response.start", "status": status, "headers": _OK})
    await send({"type": "http.response.body", "body": body})
