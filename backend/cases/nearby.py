"""Nearby duplicates: the same trouble reported twice by neighbours, and "me too" (附议).

Every new case asks for its nearby duplicates, so that is one query on indexes of its own
(migrations cases_2026_11_25t22_00_00 and cases_2026_12_07t16_30_00): cases of the category
in the lattice cells (geo/cells.py) that a box around the point touches, recent and open, all
read from the index on (category, cell, created_at, status); each with its count of
supporters, then the exact distance here. The type of a supporter's event is written into the
SQL as a literal, the same as the partial index's, or SQLite would not use it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import msgspec
from piccolo.columns.combination import WhereRaw
from piccolo.query.functions.aggregate import Count

from backend.cases.states import OPEN
from backend.cases.tables import Case
from backend.core.db import raw
from backend.core.events import EventType
from backend.events.service import NewEvent, append
from backend.events.tables import Event
from geo.cells import cells_in
from geo.distance import degree_box, haversine_m

RADIUS_M = 50.0
WINDOW = timedelta(hours=24)
NEAREST = 10  # a case offers at most this many to join: a crowded spot is one screen, not fifty

_IS_SUPPORT = f"type = '{EventType.case_support}'"
_OPEN = ", ".join(f"'{s}'" for s in sorted(OPEN))
# The candidates in the box, nearest first by a flat-earth distance (exact enough to rank
# points 50 m apart), cut to NEAREST before their supporters are counted.
# By the number of cells in the box (one statement per count, each compiled once).
_SIMILAR = (
    "SELECT s.*, (SELECT COUNT(*) FROM event e WHERE e.subject = 'case:' || s.id"
    f" AND e.{_IS_SUPPORT}) AS supporters FROM ("
    " SELECT c.id, c.category, c.status, c.description, c.lon, c.lat, c.created_at,"
    " (c.lon - {{}}) * (c.lon - {{}}) * {{}} + (c.lat - {{}}) * (c.lat - {{}}) AS flat"
    " FROM case_record c"
    " WHERE c.category = {{}} AND c.cell IN ({cells}) AND c.created_at > {{}}"
    f" AND c.status IN ({_OPEN})"
    " AND c.lon BETWEEN {{}} AND {{}} AND c.lat BETWEEN {{}} AND {{}} AND c.id <> {{}}"
    " ORDER BY flat, c.id LIMIT {{}}) s"
)


@lru_cache(maxsize=16)
def _similar_sql(cells: int) -> str:
    return _SIMILAR.format(cells=", ".join(["{}"] * cells))


class Similar(msgspec.Struct):
    id: int
    category: str
    status: str
    description: str
    distance_m: float
    created_at: str
    supporters: int


async def similar_cases(
    lon: float,
    lat: float,
    category: str,
    *,
    now: datetime | None = None,
    exclude: int | None = None,
) -> list[Similar]:
    """The nearest ``NEAREST`` open cases of ``category`` within 50 m, reported in the last
    24 hours, nearest first (then oldest)."""
    now = now or datetime.now(UTC)
    west, south, east, north = degree_box(lon, lat, RADIUS_M)
    # A degree of longitude is shorter than one of latitude, by the cosine of the latitude.
    shrink = math.cos(math.radians(lat)) ** 2
    cells = cells_in(west, south, east, north)
    rows = await raw(
        Case,
        _similar_sql(len(cells)),
        *(lon, lon, shrink, lat, lat, category, *cells, now - WINDOW),
        *(west, east, south, north, exclude or 0, NEAREST),
    )
    if not rows:
        return []
    distances = haversine_m(lon, lat, [r["lon"] for r in rows], [r["lat"] for r in rows])
    found = sorted(
        (round(float(d), 1), r["id"], r)
        for r, d in zip(rows, distances, strict=True)
        if d <= RADIUS_M
    )
    return [
        Similar(
            r["id"],
            r["category"],
            r["status"],
            r["description"],
            d,
            r["created_at"].isoformat(),
            r["supporters"],
        )
        for d, _, r in found
    ]


async def supporter_counts(case_ids: list[int]) -> dict[int, int]:
    rows = (
        await Event.select(Event.subject, Count(Event.id, alias="n"))
        .where(Event.subject.is_in([f"case:{i}" for i in case_ids]), WhereRaw(_IS_SUPPORT))
        .group_by(Event.subject)
    )
    return {int(r["subject"].split(":")[1]): r["n"] for r in rows}


def offered(row: dict[str, Any], lon: float, lat: float, *, now: datetime | None = None) -> bool:
    """Whether :func:`similar_cases` at (lon, lat) could list the case ``row``: reported in
    the last 24 hours, within 50 m (whether it is still open is the caller's check)."""
    recent = row["created_at"] >= (now or datetime.now(UTC)) - WINDOW
    return recent and float(haversine_m(lon, lat, row["lon"], row["lat"])) <= RADIUS_M


async def support(case_id: int, owner_code: str, person_id: int) -> bool:
    """Add ``person_id``'s "me too" to the case; False if they had already (nothing written).

    Supporters are events, not a table: the timeline shows who joined, and counting them is
    a query on the log. Call inside a write transaction.
    """
    already = await Event.count().where(
        Event.subject == f"case:{case_id}", WhereRaw(_IS_SUPPORT), Event.actor == person_id
    )
    if already:
        return False
    await append([NewEvent(EventType.case_support, f"case:{case_id}", owner_code, {}, person_id)])
    return True
