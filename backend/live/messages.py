"""The live protocol's messages (docs/api.md, "Live"): the client's decoded and checked, the
server's encoded once for every subscriber that gets them.

>>> read('{"type": "subscribe", "scopes": ["150302"], "after": 12}')
Subscribe(type='subscribe', scopes=['150302'], after=12, bbox=None)
>>> read('{"type": "subscribe", "bbox": [106.7, 39.5, 106.9, 39.7]}').bbox
(106.7, 39.5, 106.9, 39.7)
>>> read('{"type": "viewport", "bbox": [106.7, 39.5, 106.6, 39.7]}')
Traceback (most recent call last):
...
backend.live.messages.BadMessage: bbox is [west, south, east, north] in WGS 84 degrees
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

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

import msgspec

from backend.events.service import StoredEvent

# An ASGI message, built once and handed to every socket's send.
Frame = dict[str, Any]
Bbox = tuple[float, float, float, float]  # west, south, east, north: WGS 84 degrees


class BadMessage(ValueError):
    pass


class Subscribe(msgspec.Struct):
    type: str
    scopes: list[str] = msgspec.field(default_factory=list)
    # The last event id the client saw; None: only what happens from now on.
    after: Annotated[int, msgspec.Meta(ge=0)] | None = None
    # The viewport positions are limited to, [west, south, east, north]; None: the whole scope.
    bbox: tuple[float, float, float, float] | None = None


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
    try:
        if message["type"] == "viewport":
            return message | {"bbox": parse_bbox(message.get("bbox"))}
        if message["type"] != "subscribe":
            return message
        subscribe = msgspec.convert(message, Subscribe)
        parse_bbox(subscribe.bbox)
        return subscribe
    except (msgspec.ValidationError, ValueError) as exc:
        raise BadMessage(str(exc)) from None


def parse_bbox(value: Any) -> Bbox | None:
    """A viewport as a client gives it (``[west, south, east, north]``, or null for none).

    >>> parse_bbox([106.7, 39.5, 106.9, 39.7]), parse_bbox(None)
    ((106.7, 39.5, 106.9, 39.7), None)
    >>> parse_bbox([106.9, 39.5, 106.7, 39.7])
    Traceback (most recent call last):
    ...
    ValueError: bbox is [west, south, east, north] in WGS 84 degrees
    """
    if value is None:
        return None
    wanted = "bbox is [west, south, east, north] in WGS 84 degrees"
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 4:
        raise ValueError(wanted)
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        raise ValueError(wanted)
    west, south, east, north = (float(v) for v in value)
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise ValueError(wanted)
    return west, south, east, north


def frame(message: dict[str, Any]) -> Frame:
    """A server message as the ASGI send takes it (a text frame)."""
    return {"type": "websocket.send", "text": _encode(message).decode()}


def event_frame(e: StoredEvent) -> Frame:
    body = _Event("event", e.id, e.at, e.type, e.subject, e.scope, e.actor, e.payload)
    return {"type": "websocket.send", "text": _encode(body).decode()}


def error(code: str, reason: str) -> Frame:
    return frame({"type": "error", "code": code, "reason": reason})


PONG = frame({"type": "pong"})
