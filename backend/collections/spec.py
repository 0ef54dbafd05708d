from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from piccolo.columns import Column
from piccolo.table import Table


@dataclass(frozen=True)
class Collection:
    """How one table is served as GeoJSON features.

    ``geometry`` is ``"footprint"`` for tables with the Footprint columns (GeoJSON text and a
    bbox) or ``"point"`` for tables with ``lon``/``lat`` columns.
    """

    name: str
    title: str
    description: str
    table: type[Table]
    id_column: Column
    properties: tuple[Column, ...]
    geometry: Literal["footprint", "point"]
    # Query parameters that filter by equality, e.g. ``?level=community``.
    filters: dict[str, Column] = field(default_factory=dict)

    def column(self, name: str) -> Column:
        """The table's column ``name``: the geometry ones differ by ``geometry``."""
        return self.table._meta.get_column_by_name(name)
