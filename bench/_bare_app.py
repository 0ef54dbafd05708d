"""The reference of bench/cases.py: an endpoint that does a case create's durable work by hand.

Per request, on a copy of the product's migrated demo database (so the same tables and the same
indexes): the point placed in its grid (the product's in-memory router), one write transaction
that inserts the same case row (client id unique, ``ON CONFLICT DO NOTHING``), moves the event
clock and inserts the submit event; then the nearby-duplicates query on the lattice cells with
each candidate's supporters; the answer, the case with its similar ones, encoded once with
msgspec. Raw sqlite3 on the event loop, as the product's writer runs (WAL,
``synchronous=NORMAL``, backend/core/sqlite_engine.py), under the same uvicorn settings as
``wangge serve`` (backend/cli.py).

What it leaves out is what the product adds: authentication, the category's limits and the
workflow's state, validation into 4xx answers, the policy's actions, metrics and shedding.
"""

from __future__ import annotations

import math
import os
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta

import msgspec
import shapely
import uvicorn
from litestar import Litestar, Request, post
from litestar.response import Response

from geo.cells import cell_of, cells_in
from geo.distance import degree_box, haversine_m
from geo.router import GridRouter

DB = os.environ["BARE_DB"]
OPEN = ("accepted", "dispatched", "handled", "handling", "submitted", "verified")


class CaseIn(msgspec.Struct):
    client_id: uuid.UUID
    kind: str
    category: str
    description: str
    lon: float
    lat: float
    crs: str = "wgs84"
    address: str = ""
    contact_phone: str | None = None
    priority: str = "normal"


def _connect() -> sqlite3.Connection:
    db = sqlite3.connect(DB, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=1")
    return db


DATABASE = _connect()
_GRIDS = DATABASE.execute(
    "SELECT g.code, g.geom, a.code FROM grid g JOIN area a ON a.id = g.community ORDER BY g.code"
).fetchall()
ROUTER = GridRouter(shapely.from_geojson([g[1] for g in _GRIDS]))
CODES = [(g[0], f"{g[2][:6]},{g[2][:9]},{g[2]}") for g in _GRIDS]

INSERT = (
    "INSERT INTO case_record (client_id, kind, source, category, description, lon, lat, cell,"
    " crs, address, grid_code, area_codes, owner_code, reporter, contact_phone, priority,"
    " status, due_at, version, created_at, updated_at)"
    " VALUES (?, ?, 'app', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, 'submitted', ?, 1, ?, ?)"
    " ON CONFLICT (client_id) DO NOTHING RETURNING id"
)
EVENT = (
    "INSERT INTO event (id, at, type, subject, scope, actor, payload)"
    " VALUES (?, ?, 'case.submit', ?, ?, NULL, ?)"
)
SIMILAR = (
    "SELECT s.*, (SELECT COUNT(*) FROM event e WHERE e.subject = 'case:' || s.id"
    " AND e.type = 'case.support') AS supporters FROM ("
    " SELECT c.id, c.category, c.status, c.description, c.lon, c.lat, c.created_at,"
    " (c.lon - ?) * (c.lon - ?) * ? + (c.lat - ?) * (c.lat - ?) AS flat FROM case_record c"
    " WHERE c.category = ? AND c.cell IN ({}) AND c.created_at > ?"
    f" AND c.status IN ({', '.join(repr(s) for s in OPEN)})"
    " AND c.lon BETWEEN ? AND ? AND c.lat BETWEEN ? AND ? AND c.id <> ?"
    " ORDER BY flat, c.id LIMIT 10) s"
)


def similar(case_id: int, d: CaseIn, now: datetime) -> list[dict]:
    west, south, east, north = degree_box(d.lon, d.lat, 50.0)
    cells = cells_in(west, south, east, north)
    shrink = math.cos(math.radians(d.lat)) ** 2
    rows = DATABASE.execute(
        SIMILAR.format(", ".join("?" * len(cells))),
        (
            d.lon,
            d.lon,
            shrink,
            d.lat,
            d.lat,
            d.category,
            *cells,
            str(now - timedelta(days=1)),
            west,
            east,
            south,
            north,
            case_id,
        ),
    ).fetchall()
    if not rows:
        return []
    metres = haversine_m(d.lon, d.lat, [r[4] for r in rows], [r[5] for r in rows])
    return [
        {
            "id": r[0],
            "category": r[1],
            "status": r[2],
            "description": r[3],
            "distance_m": round(float(m), 1),
            "created_at": r[6],
            "supporters": r[8],
        }
        for r, m in zip(rows, metres, strict=True)
        if m <= 50.0
    ]


@post("/cases")
async def create(request: Request) -> Response[bytes]:
    d = msgspec.json.decode(await request.body(), type=CaseIn)
    i = ROUTER.locate(d.lon, d.lat)
    if i is None:
        return Response(b'{"code":"outside_all_grids"}', status_code=422)
    grid, areas = CODES[i]
    now = datetime.now(UTC)
    stamp, due = str(now), str(now + timedelta(hours=2))
    DATABASE.execute("BEGIN IMMEDIATE")
    try:
        made = DATABASE.execute(
            INSERT,
            (
                str(d.client_id),
                d.kind,
                d.category,
                d.description,
                d.lon,
                d.lat,
                cell_of(d.lon, d.lat),
                d.crs,
                d.address,
                grid,
                areas,
                grid,
                d.contact_phone,
                d.priority,
                due,
                stamp,
                stamp,
            ),
        ).fetchone()
        if made is not None:
            (last,) = DATABASE.execute(
                "UPDATE event_clock SET last = last + 1 RETURNING last"
            ).fetchone()
            payload = msgspec.json.encode({"type": "submit", "status": "submitted", "due_at": due})
            DATABASE.execute(EVENT, (last, stamp, f"case:{made[0]}", grid, payload.decode()))
        DATABASE.execute("COMMIT")
    except BaseException:
        DATABASE.execute("ROLLBACK")
        raise
    if made is None:
        return Response(b'{"made":false}', status_code=200)
    answer = {
        "id": made[0],
        "client_id": str(d.client_id),
        "kind": d.kind,
        "source": "app",
        "source_system": None,
        "category": d.category,
        "description": d.description,
        "lon": d.lon,
        "lat": d.lat,
        "address": d.address,
        "grid_code": grid,
        "owner_code": grid,
        "level": "grid",
        "status": "submitted",
        "priority": d.priority,
        "reporter_id": None,
        "contact_phone": d.contact_phone,
        "assignee_id": None,
        "department": None,
        "due_at": due,
        "rework_count": 0,
        "rating": None,
        "version": 1,
        "created_at": stamp,
        "actions": ["withdraw"],
        "similar": similar(made[0], d, now),
        "owner_name": None,
        "pending": None,
        "supervise_due_at": None,
    }
    return Response(msgspec.json.encode(answer), status_code=201, media_type="application/json")


app = Litestar([create])

if __name__ == "__main__":
    # As cmd_serve runs the product: one process, info logging (access log on).
    uvicorn.run(
        "bench._bare_app:app",
        host="127.0.0.1",
        port=int(os.environ["BARE_PORT"]),
        proxy_headers=False,
        log_level="info",
    )
