"""The names of grid and area codes, for answers that show where something is."""

from __future__ import annotations

from collections.abc import Iterable

from backend.areas.tables import Area
from backend.grids.tables import Grid


async def place_names(codes: Iterable[str]) -> dict[str, str]:
    """The name of each grid or area code among ``codes`` that exists."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    areas = await Area.select(Area.code, Area.name).where(Area.code.is_in(wanted))
    grids = await Grid.select(Grid.code, Grid.name).where(Grid.code.is_in(wanted))
    return {r["code"]: r["name"] for r in [*areas, *grids]}
