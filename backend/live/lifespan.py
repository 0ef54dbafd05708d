"""The live core's part of the app's life: the hub, made at startup as ``app.state.hub``.

Give it to the app after the lifespan that opens the database and loads the grid index, and
before the ones that broadcast through the hub (positions): those stop first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from litestar import Litestar

from backend.core import metrics
from backend.core.settings import Settings
from backend.grids.service import load_grid_index
from backend.live.hub import Hub


def live_lifespan(settings: Settings) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async def reload_grids() -> None:
            # An import, in this process or another, changed a layer: route with the grids and
            # find addresses among the places as they are now.
            app.state.grid_index = await load_grid_index()
            await app.state.geocoder.reload()

        hub = Hub(
            app.state.engine,
            backlog=settings.live_backlog,
            poll_s=settings.live_poll_s,
            positions_s=settings.live_positions_s,
            backlog_bytes=settings.live_backlog_bytes,
            redis_url=settings.redis_url,
            channel=f"{settings.redis_prefix}live",
            on_layers_changed=reload_grids,
        )
        await hub.start()
        app.state.hub = hub

        def sample() -> None:
            metrics.LIVE_SOCKETS.set(hub.open_sockets)
            metrics.EVENT_HEAD.set(hub.head)

        try:
            with metrics.sampled(sample):
                yield
        finally:
            await hub.close()

    return lifespan
