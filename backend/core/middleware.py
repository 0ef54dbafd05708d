"""ASGI middleware that applies to every request."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

import msgspec
from litestar.types import ASGIApp, Receive, Scope, Send

from backend.core.errors import error_body


def reject_nul(app: ASGIApp) -> ASGIApp:
    """Answer 400 to a URL carrying a NUL character.

    No code, name or filter of ours contains one; PostgreSQL refuses it while SQLite stores
    it, so without this the two databases would answer the same request differently.
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and (
            b"\x00" in unquote_to_bytes(scope.get("raw_path") or scope["path"].encode())
            or b"\x00" in unquote_to_bytes(scope.get("query_string", b""))
        ):
            if scope["type"] == "http":
                await _send_json(send, 400, error_body(400, "invalid_value", "NUL in the URL"))
            return
        await app(scope, receive, send)

    return middleware


async def _send_json(send: Send, status: int, body: dict) -> None:
    payload = msgspec.json.encode(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload, "more_body": False})
