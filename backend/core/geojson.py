"""GeoJSON as the API speaks it: features, their collections and links, encoded with msgspec
(stored GeoJSON geometry is passed through as is); and how a table is served as a collection
of features (``Collection``: each layer's ``collection.py`` declares one, backend/collections
serves them as OGC API – Features).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec
from piccolo.columns import Column
from piccolo.table import Table

from backend.core.principal import Principal


class Link(msgspec.Struct, omit_defaults=True):
    href: str
    rel: str
    type: str
    title: str | None = None


class Feature(msgspec.Struct, kw_only=True):
    type: str = "Feature"
    id: str
    geometry: msgspec.Raw
    properties: dict[str, Any]


class LinkedFeature(Feature, kw_only=True):
    """A feature served on its own, with links to itself and its collection."""

    links: list[Link]


class FeatureCollection(msgspec.Struct, kw_only=True):
    type: str = "FeatureCollection"
    features: list[Feature]
    numberMatched: int
    numberReturned: int
    links: list[Link]
    timeStamp: str


def point_geometry(lon: float, lat: float) -> msgspec.Raw:
    return msgspec.Raw(msgspec.json.encode({"type": "Point", "coordinates": [lon, lat]}))


def row_feature(row: dict[str, Any], id_key: str, geometry: str) -> Feature:
    """A feature from a selected row: ``geom`` (GeoJSON text) or ``lon``/``lat`` columns."""
    if geometry == "footprint":
        geom = msgspec.Raw(row.pop("geom").encode())
    else:
        geom = point_geometry(row.pop("lon"), row.pop("lat"))
    return Feature(id=str(row[id_key]), geometry=geom, properties=row)


encode = msgspec.json.Encoder().encode


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
    # The rows the asker (None: anonymous) may see, as conditions that all hold; None: all.
    scope: Callable[[Principal | None], list[Any]] | None = None
    # The column OGC API's ``datetime`` parameter filters by; None: the parameter is ignored.
    time_column: Column | None = None
    # What a selected row's properties become when served, e.g. phone numbers masked.
    present: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def column(self, name: str) -> Column:
        """The table's column ``name``: the geometry ones differ by ``geometry``."""
        return self.table._meta.get_column_by_name(name)
