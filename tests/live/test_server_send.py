"""The live socket sends on the server's own ``send``, not through Litestar's wrappers (they
would cost a tenth of the fan-out): the app hands its WebSockets to the handler before
Litestar's stack, and everything else, ``/api/live`` over HTTP too, to Litestar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from backend.app import create_app
from backend.core.settings import Settings
from backend.live import socket as live_socket


def _scope(kind: str, path: str, query: bytes = b"") -> dict[str, Any]:
    return {
        "type": kind,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": [],
        "root_path": "",
        "method": "GET",
        "scheme": "http",
        "http_version": "1.1",
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 80),
    }


async def test_the_socket_gets_the_servers_own_send(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/db.sqlite"))
    seen: list[Any] = []

    async def serve(app_: Any, scope: Any, receive: Any, send: Any) -> None:
        seen.append((app_, send))

    monkeypatch.setattr(live_socket, "serve", serve)

    async def receive() -> dict:
        return {"type": "websocket.connect"}

    sent: list[dict] = []

    async def server(message: dict) -> None:
        sent.append(message)

    await app(_scope("websocket", "/api/live"), receive, server)
    assert seen == [(app, server)]
    # A NUL in the URL: refused before the handler, as Litestar's middleware would.
    await app(_scope("websocket", "/api/live", b"token=%00"), receive, server)
    assert len(seen) == 1

    async def http_receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    await app(_scope("http", "/api/live"), http_receive, server)
    assert len(seen) == 1
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 426
