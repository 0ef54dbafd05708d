"""Address search over HTTP: ``GET /api/geocode``."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from backend.core.principal import Principal
from backend.geocode.index import KIND_RANK
from backend.geocode.schemas import FoundPlace


class GeocodeController(Controller):
    path = "/api/geocode"
    tags = ["geocode"]

    @get(
        "/",
        summary="Address search over the city's own places, best first",
        description=(
            "Area and grid names, building names and addresses, service points and house "
            "numbers. Each space-separated part of `q` (and each run of digits with what "
            "follows: 团结小区3号楼 is 团结小区 + 3号楼) must occur in a place's name or "
            "address; 3号楼 does not match 13号楼. Kinds: " + ", ".join(KIND_RANK) + "."
        ),
    )
    async def search(
        self,
        principal: NamedDependency[Principal],  # signed in: the city's data is for its people
        state: State,
        q: Annotated[str, QueryParameter(min_length=1, max_length=100)],
        limit: Annotated[int, QueryParameter(ge=1, le=50)] = 10,
    ) -> list[FoundPlace]:
        places = await state.geocoder.search(q, limit)
        return [FoundPlace(p.kind, p.code, p.name, p.address, p.lon, p.lat) for p in places]
