"""Gzip where it pays (backend/core/compression.py), as pure ASGI: no server, no database."""

from __future__ import annotations

import asyncio
import gzip
from typing import Any

from backend.core.compression import gzip_answers


def run(
    parts: list[bytes], *, path: str = "/api/x", accept: bytes = b"gzip, deflate"
) -> tuple[dict[str, bytes], bytes]:
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        length = (
            [(b"content-length", str(sum(map(len, parts))).encode())] if len(parts) == 1 else []
        )
        await send({"type": "http.response.start", "status": 200, "headers": length})
        for i, part in enumerate(parts):
            more = i < len(parts) - 1
            await send({"type": "http.response.body", "body": part, "more_body": more})

    async def collect(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "path": path, "headers": [(b"accept-encoding", accept)]}
    asyncio.run(
        gzip_answers(app, minimum_size=1400, exclude=("/api/photos",))(scope, None, collect)
    )
    headers = dict(sent[0]["headers"])
    return headers, b"".join(m["body"] for m in sent[1:])


def test_only_answers_worth_it_are_gzipped_and_they_unpack_to_the_same_bytes() -> None:
    small = b'{"id": 1}' * 100  # 900 bytes: one TCP segment either way
    headers, body = run([small])
    assert b"content-encoding" not in headers and body == small
    large = b'{"id": 1, "name": "x"}' * 200
    headers, body = run([large])
    assert headers[b"content-encoding"] == b"gzip" and headers[b"vary"] == b"Accept-Encoding"
    assert int(headers[b"content-length"]) == len(body) < len(large)
    assert gzip.decompress(body) == large
    # Streamed (a file of the app, an export): one compressor through every part.
    headers, body = run([b"a" * 10, b"b" * 5000, b"c" * 3])
    assert headers[b"content-encoding"] == b"gzip" and b"content-length" not in headers
    assert gzip.decompress(body) == b"a" * 10 + b"b" * 5000 + b"c" * 3


def test_no_gzip_for_photos_or_clients_that_do_not_accept_it() -> None:
    large = b"z" * 5000
    assert run([large], path="/api/photos/ab12")[1] == large
    assert run([large], accept=b"br")[1] == large
