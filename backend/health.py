import logging

from litestar import get
from litestar.datastructures import State
from msgspec import Struct

from backend.areas.tables import Area
from backend.errors import ApiError

log = logging.getLogger("wangge")


class Health(Struct):
    status: str
    database: str
    grids_indexed: int


@get("/api/health", tags=["health"], summary="Liveness and the database it reads")
async def health(state: State) -> Health:
    try:
        await Area.count()
    except Exception as exc:  # any driver's failure means the same to a probe
        log.warning("health: database unreachable: %s", exc)
        raise ApiError(503, "database_unavailable", "the database does not answer") from None
    return Health(
        "ok", "sqlite" if state.settings.is_sqlite else "postgresql", len(state.grid_index)
    )


class ClientConfig(Struct):
    basemap_url: str | None  # raster tiles under the map's own layers; None: no basemap


@get("/api/config", tags=["health"], summary="What the app needs to know of the server's settings")
async def client_config(state: State) -> ClientConfig:
    return ClientConfig(state.settings.basemap_url)
