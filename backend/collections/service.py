from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from piccolo.columns.combination import Where
from piccolo.query.functions.aggregate import Max, Min

from backend.collections.geojson import Feature, row_feature
from backend.collections.spec import Collection
from backend.errors import NotFound
from backend.spatial import bbox_overlaps, point_in_bbox

Bbox = tuple[float, float, float, float]


@dataclass
class Page:
    features: list[Feature]
    matched: int


def _where(spec: Collection, bbox: Bbox | None, filters: dict[str, str]) -> list[Where]:
    t = spec.table
    where: list[Where] = []
    if bbox is not None:
        where.append(
            bbox_overlaps(t, bbox)
            if spec.geometry == "footprint"
            else point_in_bbox(t.lon, t.lat, bbox)
        )
    where.extend(spec.filters[k] == v for k, v in filters.items())
    return where


def _geometry_columns(spec: Collection) -> tuple[Any, ...]:
    t = spec.table
    return (t.geom,) if spec.geometry == "footprint" else (t.lon, t.lat)


async def items(
    spec: Collection, *, bbox: Bbox | None, limit: int, offset: int, filters: dict[str, str]
) -> Page:
    """One page of features, ordered by row id so that paging is stable."""
    t = spec.table
    where = _where(spec, bbox, filters)
    query = (
        t.select(*spec.properties, *_geometry_columns(spec))
        .order_by(t.id)
        .limit(limit)
        .offset(offset)
    )
    count = t.count()
    if where:
        query = query.where(*where)
        count = count.where(*where)
    rows = await query
    id_key = spec.id_column._meta.name
    return Page([row_feature(r, id_key, spec.geometry) for r in rows], await count)


async def item(spec: Collection, feature_id: str) -> Feature:
    row = (
        await spec.table.select(*spec.properties, *_geometry_columns(spec))
        .where(spec.id_column == feature_id)
        .first()
    )
    if row is None:
        raise NotFound(spec.name.rstrip("s"), feature_id)
    return row_feature(row, spec.id_column._meta.name, spec.geometry)


async def extent(spec: Collection) -> Bbox | None:
    t = spec.table
    if spec.geometry == "footprint":
        cols = (Min(t.min_lon), Min(t.min_lat), Max(t.max_lon), Max(t.max_lat))
    else:
        cols = (Min(t.lon), Min(t.lat), Max(t.lon), Max(t.lat))
    row = await t.select(*(c.as_alias(f"v{i}") for i, c in enumerate(cols))).first()
    values = [row[f"v{i}"] for i in range(4)] if row else [None]
    return None if None in values else tuple(values)  # type: ignore[return-value]
