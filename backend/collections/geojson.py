"""GeoJSON features encoded with msgspec; stored GeoJSON geometry is passed through as is."""

from __future__ import annotations

from typing import Any

import msgspec


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


class FeatureCollection(msgspec.Struct, kw_only=True):
    type: str = "FeatureCollection"
    features: list[Feature]
    numberMatched: int
    numberReturned: int
    links: list[Link]


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
