"""Nearby duplicates: the same trouble reported twice by neighbours, and "me too" (附议)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
from piccolo.query.functions.aggregate import Count

from backend.cases.states import OPEN
from backend.cases.tables import Case
from backend.events.log import NewEvent, append
from backend.events.tables import Event
from backend.spatial import point_in_bbox
from geo.distance import degree_box, haversine_m

RADIUS_M = 50.0
WINDOW = timedelta(hours=24)


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
    """Open cases of ``category`` within 50 m, reported in the last 24 hours, nearest first."""
    now = now or datetime.now(UTC)
    rows = await Case.select(
        Case.id, Case.category, Case.status, Case.description, Case.lon, Case.lat, Case.created_at
    ).where(
        point_in_bbox(Case.lon, Case.lat, degree_box(lon, lat, RADIUS_M)),
        Case.category == category,
        Case.status.is_in([str(s) for s in OPEN]),
        Case.created_at > now - WINDOW,
    )
    rows = [r for r in rows if r["id"] != exclude]
    if not rows:
        return []
    distances = haversine_m(lon, lat, [r["lon"] for r in rows], [r["lat"] for r in rows])
    counts = await supporter_counts([r["id"] for r in rows])
    found = [
        Similar(
            r["id"],
            r["category"],
            r["status"],
            r["description"],
            round(float(d), 1),
            r["created_at"].isoformat(),
            counts.get(r["id"], 0),
        )
        for r, d in zip(rows, distances, strict=True)
        if d <= RADIUS_M
    ]
    return sorted(found, key=lambda s: s.distance_m)


async def supporter_counts(case_ids: list[int]) -> dict[int, int]:
    rows = (
        await Event.select(Event.subject, Count(Event.id, alias="n"))
        .where(Event.subject.is_in([f"case:{i}" for i in case_ids]), Event.type == "case.support")
        .group_by(Event.subject)
    )
    return {int(r["subject"].split(":")[1]): r["n"] for r in rows}


async def support(case_id: int, owner_code: str, person_id: int) -> bool:
    """Add ``person_id``'s "me too" to the case; False if they had already (nothing written).

    Supporters are events, not a table: the timeline shows who joined, and counting them is
    a query on the log. Call inside a write transaction.
    """
    already = await Event.count().where(
        Event.subject == f"case:{case_id}",
        Event.type == "case.support",
        Event.actor == person_id,
    )
    if already:
        return False
    await append([NewEvent("case.support", f"case:{case_id}", owner_code, {}, person_id)])
    return True
