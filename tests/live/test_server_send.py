"""The live socket sends on the server's own ``send``, not through Litestar's wrappers (they
would cost a tenth of the fan-out); if a Litestar upgrade changes them, this says so."""

from __future__ import annotations

from litestar import Litestar, asgi
from litestar.config.compression import CompressionConfig
from litestar.types import Receive, Scope, Send

from backend.core.middleware import reject_nul
from backend.live.socket import server_send


async def test_the_socket_gets_the_servers_own_send_through_litestars_stack():
    seen = {}

    @asgi("/api/live", copy_scope=False)
    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        seen["send"] = send

    # The same layers as the real app: a route middleware and compression add a wrapper.
    app = Litestar(
        [handler],
        middleware=[reject_nul],
        compression_config=CompressionConfig(backend="gzip"),
    )

    async def receive() -> dict:
        return {"type": "websocket.connect"}

    async def server(message: dict) -> None:
        pass

    scope = {"type": "websocket", "path": "/api/live", "raw_path": b"/api/live"}
    await app({**scope, "query_string": b"", "headers": [], "root_path": ""}, receive, server)
    assert seen["send"] is not server  # wrapped by Litestar
    assert server_send(seen["send"]) is server
