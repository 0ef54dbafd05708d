"""Gzip for the answers where it pays: a whole body of ``minimum_size`` bytes or more, or a
streamed one (files of the app, exports), to a client that accepts it.

Litestar's compression middleware makes a gzip stream (zlib's state, a GzipFile) for every
request whose client accepts gzip, before it knows the answer, and closes it even when the
answer is too small to compress: measured here at about 0.2 ms per request, most of what a
small JSON answer costs to send (bench/cases.py). Here nothing is made until an answer is
known to be compressed: a whole body is compressed in one call, a streamed one through one
compressor.

>>> import asyncio
>>> sent = []
>>> async def answer(scope, receive, send):
...     await send({"type": "http.response.start", "status": 200, "headers": []})
...     await send({"type": "http.response.body", "body": b"x" * 2000})
>>> async def collect(message):
...     sent.append(message)
>>> scope = {"type": "http", "path": "/api/x", "headers": [(b"accept-encoding", b"gzip")]}
>>> asyncio.run(gzip_answers(answer, minimum_size=1024)(scope, None, collect))
>>> sorted(sent[0]["headers"]), len(sent[1]["body"]) < 100
([(b'content-encoding', b'gzip'), (b'content-length', b'35'), (b'vary', b'Accept-Encoding')], True)
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Sequence

from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, Scope, Send


def _accepts_gzip(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"accept-encoding":
            return b"gzip" in value
    return False


def _zipped_headers(
    headers: Sequence[tuple[bytes, bytes]], length: int | None
) -> list[tuple[bytes, bytes]]:
    out = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"vary")]
    vary = [v for k, v in headers if k.lower() == b"vary" and v]
    out.append((b"content-encoding", b"gzip"))
    if length is not None:
        out.append((b"content-length", str(length).encode()))
    out.append((b"vary", b", ".join([*vary, b"Accept-Encoding"])))
    return out


def _with_headers(
    start: HTTPResponseStartEvent, headers: list[tuple[bytes, bytes]]
) -> HTTPResponseStartEvent:
    return {"type": "http.response.start", "status": start["status"], "headers": headers}


def gzip_answers(
    app: ASGIApp, *, minimum_size: int, level: int = 6, exclude: Sequence[str] = ()
) -> ASGIApp:
    """``app`` with its answers gzipped where it pays; paths starting with one of ``exclude``
    (photos: compressed already) never are."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"].startswith(tuple(exclude))
            or not _accepts_gzip(scope)
        ):
            await app(scope, receive, send)
            return
        start: HTTPResponseStartEvent | None = None
        compressor: zlib._Compress | None = None

        async def sending(message: Message) -> None:
            nonlocal start, compressor
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body, more = message.get("body", b""), message.get("more_body", False)
            if compressor is not None:
                out = compressor.compress(body)
                if not more:
                    out += compressor.flush()
                await send({"type": "http.response.body", "body": out, "more_body": more})
                return
            if start is None:  # passed through from its first part on
                await send(message)
                return
            head, start = start, None
            headers = list(head["headers"])
            encoded = any(k.lower() == b"content-encoding" for k, _ in headers)
            if encoded or (not more and len(body) < minimum_size):
                await send(head)
                await send(message)
                return
            if not more:
                zipped = gzip.compress(body, level, mtime=0)
                await send(_with_headers(head, _zipped_headers(headers, len(zipped))))
                await send({"type": "http.response.body", "body": zipped, "more_body": False})
                return
            compressor = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            await send(_with_headers(head, _zipped_headers(headers, None)))
            out = compressor.compress(body)
            await send({"type": "http.response.body", "body": out, "more_body": True})

        await app(scope, receive, sending)

    return middleware
