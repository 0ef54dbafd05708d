"""The positions service's part of the app's life: made at startup as ``app.state.positions``,
closed at shutdown (duties ended, buffered track points and store writes flushed)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from zoneinfo import ZoneInfo

from litestar import Litestar

from backend.core import metrics
from backend.core.settings import Settings
from backend.positions.redis_store import RedisStore
from backend.positions.service import Positions
from backend.positions.store import MemoryStore, Store
from backend.positions.tracks import TrackWriter


def positions_lifespan(
    settings: Settings,
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """Give it to the app after the lifespan that opens the database: it runs inside that one,
    so its shutdown writes before the pool closes."""
    ZoneInfo(settings.timezone)  # a wrong WANGGE_TIMEZONE fails the start, not a request

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        store: Store = (
            RedisStore(settings.redis_url, f"{settings.redis_prefix}positions:")
            if settings.redis_url
            else MemoryStore()
        )
        tracks = TrackWriter()
        app.state.positions = Positions(
            store,
            tracks,
            hub=lambda: getattr(app.state, "hub", None),
            grid_index=lambda: getattr(app.state, "grid_index", None),
        )
        try:
            with metrics.sampled(lambda: metrics.TRACK_BACKLOG.set(tracks.buffered)):
                yield
        finally:
            await app.state.positions.close()

    return lifespan
