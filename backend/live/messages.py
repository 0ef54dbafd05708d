"""The live protocol's messages (docs/api.md, "Live"): the client's decoded and checked, the
server's encoded once for every subscriber that gets them.

>>> read('{"type": "subscribe", "scopes": ["150302"], "after": 12}')
Subscribe(type='subscribe', scopes=['150302'], after=12)
>>> read('{"type": "subscribe", "after": -1}')
Traceback (most recent call last):
...
backend.live.messages.BadMessage: Expected `int` >= 0 - at `$.after`
>>> read('[1]')
Traceback (most recent call last):
...
backend.live.messages.BadMessage: a message is a JSON object with a "type"
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from backend.events.service import StoredEvent

# An ASGI message, built once and handed to every socket's send.
Frame = dict[str, Any]


class BadMessage(ValueError):
    pass


class Subscribe(msgspec.Struct):
    type: str
    scopes: list[str] = msgspec.field(default_factory=list)
    # The last event id the client saw; None: only what happens from now on.
    after: Annotated[int, msgspec.Meta(ge=0)] | None = None


class _Event(msgspec.Struct):
    type: str
    id: int
    at: datetime
    event: str
    subject: str
    scope: str
    actor: int | None
    payload: msgspec.Raw


_encode = msgspec.json.Encoder().encode


def read(text: str | bytes) -> dict[str, Any] | Subscribe:
    """A client message: a Subscribe, or any other message as a dict with a string "type"."""
    try:
        message = msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        raise BadMessage(f"not JSON: {exc}") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise BadMessage('a message is a JSON object with a "type"')
    if message["type"] != "subscribe":
        return message
    try:
        return msgspec.convert(message, Subscribe)
    except msgspec.ValidationError as exc:
        raise BadMessage(str(exc)) from None


def frame(message: dict[str, Any]) -> Frame:
    """A server message as the ASGI send takes it (a text frame)."""
    return {"type": "websocket.send", "text": _encode(message).decode()}


def event_frame(e: StoredEvent) -> Frame:
    body = _Event("event", e.id, e.at, e.type, e.subject, e.scope, e.actor, e.payload)
    return {"type": "websocket.send", "text": _encode(body).decode()}


def error(code: str, reason: str) -> Frame:
    return frame({"type": "error", "code": code, "reason": reason})


PONG = frame({"type": "pong"})
