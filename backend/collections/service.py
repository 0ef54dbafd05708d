from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from piccolo.columns import Column, Integer, Serial
from piccolo.query.functions.aggregate import Max, Min

from backend.core.errors import NotFound
from backend.core.geojson import Collection, Feature, row_feature
from backend.core.principal import Principal
from backend.core.spatial import bbox_overlaps, point_in_bbox

Bbox = tuple[float, float, float, float]
# Either end may be open (None), as in OGC API's ``datetime=../2026-01-01T00:00:00Z``.
Interval = tuple[datetime | None, datetime | None]


@dataclass
class Query:
    """What an items request narrows a collection to."""

    asker: Principal | None = None
    bbox: Bbox | None = None
    interval: Interval | None = None
    filters: dict[str, str] = field(default_factory=dict)


@dataclass
class Page:
    features: list[Feature]
    matched: int


@dataclass
class Extent:
    bbox: Bbox | None
    interval: tuple[datetime, datetime] | None


def _scope(spec: Collection, asker: Principal | None) -> list[Any]:
    return [] if spec.scope is None else spec.scope(asker)


def _where(spec: Collection, q: Query) -> list[Any]:
    where = _scope(spec, q.asker)
    if q.bbox is not None:
        where.append(
            bbox_overlaps(spec.table, q.bbox)
            if spec.geometry == "footprint"
            else point_in_bbox(spec.column("lon"), spec.column("lat"), q.bbox)
        )
    if q.interval is not None and spec.time_column is not None:
        start, end = q.interval
        if start is not None:
            where.append(spec.time_column >= start)
        if end is not None:
            where.append(spec.time_column <= end)
    where.extend(spec.filters[k] == v for k, v in q.filters.items())
    return where


def _geometry_columns(spec: Collection) -> tuple[Column, ...]:
    if spec.geometry == "footprint":
        return (spec.column("geom"),)
    return spec.column("lon"), spec.column("lat")


def _feature(spec: Collection, row: dict[str, Any]) -> Feature:
    feature = row_feature(row, spec.id_column._meta.name, spec.geometry)
    if spec.present is not None:
        feature.properties = spec.present(feature.properties)
    return feature


async def items(spec: Collection, q: Query, *, limit: int, offset: int) -> Page:
    """One page of features, ordered by row id so that paging is stable."""
    t = spec.table
    where = _where(spec, q)
    query = (
        t.select(*spec.properties, *_geometry_columns(spec))
        .order_by(t._meta.primary_key)
        .limit(limit)
        .offset(offset)
    )
    count = t.count()
    if where:
        query = query.where(*where)
        count = count.where(*where)
    rows = await query
    return Page([_feature(spec, r) for r in rows], await count)


def _key(spec: Collection, feature_id: str) -> str | int | None:
    """The id column's value ``feature_id`` names, or None if it can name none (a word for a
    numeric id: PostgreSQL would refuse to compare them)."""
    if not isinstance(spec.id_column, Integer | Serial):
        return feature_id
    if not (feature_id.isascii() and feature_id.isdigit()) or len(feature_id) > 10:
        return None
    value = int(feature_id)
    return value if value < 2**31 else None


async def item(spec: Collection, feature_id: str, asker: Principal | None) -> Feature:
    key = _key(spec, feature_id)
    row = None
    if key is not None:
        row = (
            await spec.table.select(*spec.properties, *_geometry_columns(spec))
            .where(spec.id_column == key, *_scope(spec, asker))
            .first()
        )
    if row is None:
        raise NotFound(spec.name.rstrip("s"), feature_id)
    return _feature(spec, row)


async def extent(spec: Collection, asker: Principal | None) -> Extent:
    """The bounding box (and the time span, if the collection has a time) of what the asker
    may see of the collection; None parts when it is empty."""
    col = spec.column
    if spec.geometry == "footprint":
        cols = [Min(col("min_lon")), Min(col("min_lat")), Max(col("max_lon")), Max(col("max_lat"))]
    else:
        cols = [Min(col("lon")), Min(col("lat")), Max(col("lon")), Max(col("lat"))]
    if spec.time_column is not None:
        cols += [Min(spec.time_column), Max(spec.time_column)]
    query = spec.table.select(*(c.as_alias(f"v{i}") for i, c in enumerate(cols)))
    where = _scope(spec, asker)
    row = await (query.where(*where) if where else query).first()
    values: list[Any] = [None if row is None else row[f"v{i}"] for i in range(len(cols))]
    bbox: Bbox | None = None if None in values[:4] else (values[0], values[1], values[2], values[3])
    interval = None
    if spec.time_column is not None and values[4] is not None:
        interval = (_when(values[4]), _when(values[5]))
    return Extent(bbox, interval)


def _when(value: Any) -> datetime:
    """A time aggregate's value: SQLite answers the stored text, PostgreSQL a datetime."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
