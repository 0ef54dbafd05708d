from litestar import get
from litestar.datastructures import State
from msgspec import Struct

from backend.areas.tables import Area


class Health(Struct):
    status: str
    database: str
    grids_indexed: int


@get("/api/health", tags=["health"], summary="Liveness and the database it reads")
async def health(state: State) -> Health:
    await Area.count()  # fails loudly (500 → internal_error) if the database is unreachable
    return Health(
        "ok", "sqlite" if state.settings.is_sqlite else "postgresql", len(state.grid_index)
    )
