from __future__ import annotations

from dataclasses import dataclass

from piccolo.columns import Column
from piccolo.custom_types import Combinable
from piccolo.query.functions.aggregate import Max, Min

from backend.core.errors import NotFound
from backend.core.geojson import Collection, Feature, row_feature
from backend.core.spatial import bbox_overlaps, point_in_bbox

Bbox = tuple[float, float, float, float]


@dataclass
class Page:
    features: list[Feature]
    matched: int


def _where(spec: Collection, bbox: Bbox | None, filters: dict[str, str]) -> list[Combinable]:
    where: list[Combinable] = []
    if bbox is not None:
        where.append(
            bbox_overlaps(spec.table, bbox)
            if spec.geometry == "footprint"
            else point_in_bbox(spec.column("lon"), spec.column("lat"), bbox)
        )
    where.extend(spec.filters[k] == v for k, v in filters.items())
    return where


def _geometry_columns(spec: Collection) -> tuple[Column, ...]:
    if spec.geometry == "footprint":
        return (spec.column("geom"),)
    return spec.column("lon"), spec.column("lat")


async def items(
    spec: Collection, *, bbox: Bbox | None, limit: int, offset: int, filters: dict[str, str]
) -> Page:
    """One page of features, ordered by row id so that paging is stable."""
    t = spec.table
    where = _where(spec, bbox, filters)
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
    col = spec.column
    if spec.geometry == "footprint":
        cols = (Min(col("min_lon")), Min(col("min_lat")), Max(col("max_lon")), Max(col("max_lat")))
    else:
        cols = (Min(col("lon")), Min(col("lat")), Max(col("lon")), Max(col("lat")))
    row = await spec.table.select(*(c.as_alias(f"v{i}") for i, c in enumerate(cols))).first()
    if row is None or any(row[f"v{i}"] is None for i in range(4)):
        return None
    return row["v0"], row["v1"], row["v2"], row["v3"]
