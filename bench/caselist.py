"""Benchmark: the case list (backend/cases/listing.py) at 1,000,000 cases on SQLite and
PostgreSQL, against a hand-written indexed SQL query for the same page in the same run.

Run from the repository root: `.venv/bin/python bench/caselist.py [--cases N] [--db KIND]`.
The demo city is migrated and loaded, then N cases spread over its 397 grids are bulk-inserted
(executemany / COPY, with the list indexes and the text index dropped meanwhile and rebuilt by
the migration's own statements, then ANALYZE). The database is kept (bench/.cache/ for SQLite,
database `wangge_bench_caselist_N` on PostgreSQL) so that a rerun measures at once.

Each scenario reads one page of 50 through the listing service (`listing.page`: the handler's
work but for HTTP, its query plumbing, row conversion and phone masking included) and through
its hand-written SQL (the page and the capped count, run by the same engine), checks that both
give the same ids, then times each alternately; p50/p99 in ms. `today` is the query this change
replaced (visibility as one OR, the inbox order as CASE expressions, a full count), timed a few
times on the grid leader's inbox.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import shapely

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("PICCOLO_CONF", "backend.piccolo_conf")

from backend.cases import listing  # noqa: E402
from backend.cases.categories import seed_categories  # noqa: E402
from backend.cases.listing import Filters  # noqa: E402
from backend.cases.piccolo_migrations import (  # noqa: E402
    cases_2026_12_07t16_35_00_000000 as list_migration,
)
from backend.cases.piccolo_migrations import (  # noqa: E402
    cases_2026_12_08t02_30_00_000000 as open_migration,
)
from backend.cases.tables import Case  # noqa: E402
from backend.core.db import close_pool, make_engine, migrate, open_pool, raw  # noqa: E402
from backend.core.principal import Principal  # noqa: E402
from backend.core.territory import Territory  # noqa: E402
from backend.demo import load_city  # noqa: E402
from geo.demo import build_demo_city  # noqa: E402

CACHE = REPO / "bench" / ".cache"
POSTGRES = os.environ.get("WANGGE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
RUNS, WARMUP, LIMIT = 40, 3, 50
TARGETS = {"p99_ratio": "<= 3"}
OPEN = listing._OPEN  # the open statuses, as the product reads them
PHRASES = [
    "路灯不亮",
    "垃圾桶满了",
    "井盖丢失",
    "占道经营",
    "噪音扰民",
    "违章停车",
    "楼道堆物",
    "下水道堵塞",
    "绿化带损坏",
    "小区漏水",
    "广告乱贴",
    "道路破损",
]
ROADS = ["团结路", "人民路", "新华街", "滨河大道", "海北街", "乌达路", "育才路", "胜利街"]
LIST_INDEXES = [
    "case_record_list_owner",
    "case_record_list_grid",
    "case_record_list_reporter",
    "case_record_list_assignee",
    "case_record_list_department",
    "case_record_list_status",
    "case_record_lonlat",
    *(f"case_record_running_{n}" for n, _ in open_migration.COLUMNS),
]


# --- building ---------------------------------------------------------------------------


def _rows(
    n: int,
    start: int,
    grids: list[tuple[str, float, float]],
    people: list[int],
    categories: list[str],
    seed: int,
) -> list[tuple[Any, ...]]:
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    g = rng.integers(0, len(grids), n)
    is_open = rng.random(n) < 0.12
    status = np.where(is_open, rng.choice(OPEN, n), "closed")
    # Closed cases over two years; open ones in the last ten days, about half of them overdue.
    age_h = np.where(is_open, rng.random(n) * 240, rng.random(n) * 17_520)
    undated = rng.random(n) < 0.04
    limit_h = rng.choice([24, 72, 120, 240], n)
    escalated = rng.random(n) < 0.05
    assigned = rng.random(n) < 0.6
    department = rng.random(n) < 0.03
    rows = []
    for i in range(n):
        code, lon, lat = grids[g[i]]
        created = now - timedelta(hours=float(age_h[i]))
        due = None if undated[i] else created + timedelta(hours=int(limit_h[i]))
        text = f"{PHRASES[(start + i) % len(PHRASES)]}，{(start + i) % 37 + 1}号楼附近，请尽快处理"
        rows.append(
            (
                start + i + 1,
                uuid.UUID(int=start + i + 1),
                "request",
                "app",
                categories[(start + i) % len(categories)],
                text,
                lon + float(rng.normal(0, 0.002)),
                lat + float(rng.normal(0, 0.002)),
                "wgs84",
                f"{ROADS[(start + i) % len(ROADS)]}{(start + i) % 997 + 1}号",
                code,
                f"{code[:12]},{code[:9]},{code[:6]}",
                code[:12] if escalated[i] else code,
                people[int(rng.integers(0, len(people)))],
                "13812345678",
                "normal",
                str(status[i]),
                people[int(rng.integers(0, len(people)))] if assigned[i] else None,
                "cg" if department[i] else None,
                due,
                created if status[i] == "closed" else None,
                created,
                created,
            )
        )
    return rows


COLUMNS = [
    "id",
    "client_id",
    "kind",
    "source",
    "category",
    "description",
    "lon",
    "lat",
    "crs",
    "address",
    "grid_code",
    "area_codes",
    "owner_code",
    "reporter",
    "contact_phone",
    "priority",
    "status",
    "assignee",
    "department",
    "due_at",
    "closed_at",
    "created_at",
    "updated_at",
]


async def _prepare(kind: str, n: int) -> tuple[Any, str]:
    """The engine of a database holding the demo city and ``n`` cases, built if need be."""
    if kind == "sqlite":
        CACHE.mkdir(parents=True, exist_ok=True)
        path = CACHE / f"caselist-{n}.sqlite"
        url = f"sqlite:///{path}"
    else:
        import asyncpg

        name = f"wangge_bench_caselist_{n}"
        admin = await asyncpg.connect(f"{POSTGRES}/postgres")
        try:
            exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        url = f"{POSTGRES}/{name}"
    engine = make_engine(url)
    await migrate(engine)
    await open_pool(engine)
    [row] = await Case.raw("SELECT count(*) AS n FROM case_record")
    listed = (
        "SELECT name FROM sqlite_master WHERE type = 'index'"
        if kind == "sqlite"
        else "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'case_record'"
    )
    indexes = {r["name"] for r in await Case.raw(listed)}
    # A build cut off after its rows went in (its indexes not made again) is built anew.
    if row["n"] != n or not indexes >= set(LIST_INDEXES):
        started = time.perf_counter()
        await _build(kind, engine, url, n)
        print(f"{kind}: built {n} cases in {time.perf_counter() - started:.0f} s", flush=True)
    return engine, url


async def _build(kind: str, engine: Any, url: str, n: int) -> None:
    await Case.raw("DELETE FROM case_record")
    [people] = await Case.raw("SELECT count(*) AS n FROM person")
    if people["n"] == 0:
        await seed_categories()
        await load_city(build_demo_city())
    city = build_demo_city()
    grids = [
        (code, p.x, p.y)
        for code, geometry in zip(city.grids.code, city.grids.geometry, strict=True)
        for p in [shapely.point_on_surface(geometry)]
    ]
    people_ids = [r["id"] for r in await Case.raw("SELECT id FROM person")]
    categories = [
        r["code"] for r in await Case.raw("SELECT code FROM category WHERE parent IS NOT NULL")
    ]
    for index in LIST_INDEXES:
        await Case.raw(f"DROP INDEX IF EXISTS {index}")
    chunk = 100_000
    if kind == "sqlite":
        for trigger in ("insert", "update", "delete"):
            await Case.raw(f"DROP TRIGGER IF EXISTS case_search_{trigger}")
        await close_pool(engine)
        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        db.execute("PRAGMA synchronous = OFF")
        marks = ", ".join("?" for _ in COLUMNS)
        for start in range(0, n, chunk):
            rows = _rows(min(chunk, n - start), start, grids, people_ids, categories, start)
            db.executemany(
                f"INSERT INTO case_record ({', '.join(COLUMNS)}) VALUES ({marks})",
                [(*r[:1], str(r[1]), *r[2:]) for r in rows],
            )
            db.commit()
            print(f"  {start + len(rows)} rows", flush=True)
        db.close()
    else:
        import asyncpg

        for index in ("case_record_search_description", "case_record_search_address"):
            await Case.raw(f"DROP INDEX IF EXISTS {index}")
        connection = await asyncpg.connect(url)
        try:
            for start in range(0, n, chunk):
                rows = _rows(min(chunk, n - start), start, grids, people_ids, categories, start)
                await connection.copy_records_to_table("case_record", records=rows, columns=COLUMNS)
                print(f"  {start + len(rows)} rows", flush=True)
            await connection.execute(
                "SELECT setval(pg_get_serial_sequence('case_record', 'id'), $1)", n
            )
        finally:
            await connection.close()
    # The migration's own statements: the indexes, the text index filled, ANALYZE.
    statements = (
        list_migration.INDEXES
        + open_migration.INDEXES
        + (list_migration.SQLITE_SEARCH if kind == "sqlite" else list_migration.POSTGRES_SEARCH)
    )
    for statement in [*statements, "ANALYZE case_record"]:
        await Case.raw(statement)


# --- measuring --------------------------------------------------------------------------


async def _timed(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _reference(pieces: list[str], now: datetime | None) -> list[int]:
    """The hand-written page: run after run until a page and one more, then the count."""
    now = now or datetime.now(UTC)
    ids: list[int] = []
    for template in pieces:
        args = (now,) * template.count("{}")
        if template.startswith("SELECT count"):
            await raw(Case, template, *args)
        elif len(ids) <= LIMIT:
            ids += [r["id"] for r in await raw(Case, template, *args)]
    return ids[:LIMIT]


def _run(selects: list[str], segment: str, extra: str = "") -> str:
    """A hand-written run: each branch's first rows from its index, unioned, read by id."""
    parts = " UNION ".join(
        f"SELECT id FROM (SELECT id FROM case_record WHERE {s} AND {segment}{extra}"
        f" ORDER BY due_at, id LIMIT {LIMIT + 1}) AS b{i}"
        for i, s in enumerate(selects)
    )
    return f"SELECT * FROM case_record WHERE id IN ({parts}) ORDER BY due_at, id LIMIT {LIMIT + 1}"


def _count(where: str) -> str:
    return (
        f"SELECT count(*) AS n FROM (SELECT id FROM case_record WHERE {where}"
        f" LIMIT {listing.COUNT_CAP + 1}) AS capped"
    )


_OPEN_SQL = ", ".join(f"'{s}'" for s in OPEN)
# Overdue as the product has it: open, past due, and its clock running (not paused, 挂起).
OVERDUE = f"due_at < {{}} AND status IN ({_OPEN_SQL}) AND paused_at IS NULL"
DATED = f"due_at IS NOT NULL AND NOT ({OVERDUE})"
UNDATED = "due_at IS NULL"
Scenario = tuple[Principal, Filters, list[str]]


async def _scenarios(engine: Any) -> dict[str, Scenario]:
    """Each scenario: who asks, the filters, and its hand-written page (the runs, the count)."""
    [leader] = await Case.raw(
        "SELECT id FROM person WHERE role = 'grid_leader' ORDER BY id LIMIT 1"
    )
    [staff] = await Case.raw(
        "SELECT person.id, area.code AS area_code FROM person JOIN area ON area.id = person.area"
        " WHERE role = 'community_staff' ORDER BY person.id LIMIT 1"
    )
    [admin] = await Case.raw("SELECT id FROM person WHERE role = 'city_admin' LIMIT 1")
    community = staff["area_code"]
    [grid_row] = await Case.raw(
        "SELECT code FROM grid WHERE code LIKE {} ORDER BY code LIMIT 1", community + "%"
    )
    grid = grid_row["code"]
    [spot] = await Case.raw("SELECT lon, lat FROM case_record WHERE grid_code = {} LIMIT 1", grid)
    lid, sid, aid = leader["id"], staff["id"], admin["id"]

    def who(pid: int, territory: Territory) -> Principal:
        return Principal(id=pid, name="bench", phone="13800000000", territory=territory)

    following = community[:-1] + chr(ord(community[-1]) + 1)

    def city(column: str) -> str:
        return f"{column} LIKE '1503%' ESCAPE '\\'"

    grid_sel = [
        f"reporter = {lid}",
        f"assignee = {lid}",
        f"owner_code = '{grid}'",
        f"grid_code = '{grid}'",
    ]
    # A community's codes in use, found once: its range as one branch per code.
    codes = {
        column: [
            r["code"]
            for r in await Case.raw(
                f"SELECT DISTINCT {column} AS code FROM case_record"
                f" WHERE {column} >= {{}} AND {column} < {{}}",
                community,
                following,
            )
        ]
        for column in ("owner_code", "grid_code")
    }
    staff_sel = [
        f"reporter = {sid}",
        f"assignee = {sid}",
        *(f"{column} = '{code}'" for column, found in codes.items() for code in found),
    ]
    admin_sel = [f"reporter = {aid}", f"assignee = {aid}", city("owner_code"), city("grid_code")]

    def anyof(selects: list[str]) -> str:
        return "(" + " OR ".join(f"({s})" for s in selects) + ")"

    x, y = spot["lon"], spot["lat"]
    box = (x - 0.005, y - 0.005, x + 0.005, y + 0.005)
    in_box = f" AND lon >= {box[0]} AND lon <= {box[2]} AND lat >= {box[1]} AND lat <= {box[3]}"
    # Addresses 51, 510–519 on one road of 8 (of 997 numbers): about 1,400 cases of 10⁶.
    rare = f"{ROADS[3]}51"
    text = (
        f" AND (lower(description) LIKE lower('%{rare}%') ESCAPE '\\'"
        f" OR lower(address) LIKE lower('%{rare}%') ESCAPE '\\')"
    )
    sqlite = engine.engine_type == "sqlite"
    match = " AND id IN (SELECT rowid FROM case_search WHERE case_search MATCH '\"{}\"')"
    if sqlite:
        text += match.format(rare)
    one = f"{ROADS[3]}517号"  # one address of 997 on one road of 8: about 125 cases of 10⁶
    city_text = (
        f" AND (lower(description) LIKE lower('%{one}%') ESCAPE '\\'"
        f" OR lower(address) LIKE lower('%{one}%') ESCAPE '\\')"
    )
    if sqlite:
        city_text += match.format(one)
    # SQLite: the unary + keeps it from reading every closed case through the status index.
    closed = f" AND {'+' if sqlite else ''}status = 'closed'"
    return {
        "grid leader inbox": (
            who(lid, Territory(lid, "grid_leader", grid_codes={grid})),
            Filters(),
            [_run(grid_sel, OVERDUE), _run(grid_sel, DATED), _count(anyof(grid_sel))],
        ),
        "community inbox": (
            who(sid, Territory(sid, "community_staff", area_code=community)),
            Filters(),
            [_run(staff_sel, OVERDUE), _run(staff_sel, DATED), _count(anyof(staff_sel))],
        ),
        "community list, closed": (
            who(sid, Territory(sid, "community_staff", area_code=community)),
            Filters(statuses=("closed",)),
            [
                _run(staff_sel, OVERDUE, closed),
                _run(staff_sel, DATED, closed),
                _count(anyof(staff_sel) + closed),
            ],
        ),
        "bbox, city admin": (
            who(aid, Territory(aid, "city_admin", area_code="150300")),
            Filters(bbox=box),
            [
                _run(admin_sel, OVERDUE, in_box),
                _run(admin_sel, DATED, in_box),
                _count(anyof(admin_sel) + in_box),
            ],
        ),
        "text search, city admin": (
            who(aid, Territory(aid, "city_admin", area_code="150300")),
            Filters(q=one),
            [
                _run(admin_sel, OVERDUE, city_text),
                _run(admin_sel, DATED, city_text),
                _run(admin_sel, UNDATED, city_text),
                _count(anyof(admin_sel) + city_text),
            ],
        ),
        "text search, community": (
            who(sid, Territory(sid, "community_staff", area_code=community)),
            Filters(q=rare),
            [
                _run(staff_sel, OVERDUE, text),
                _run(staff_sel, DATED, text),
                _run(staff_sel, UNDATED, text),
                _count(anyof(staff_sel) + text),
            ],
        ),
    }


async def _today(principal: Principal, now: datetime) -> None:
    """The query this change replaced: visibility as one OR, the order by CASE, a full count."""
    actor = principal.territory
    where = listing.matching(Filters(), principal, actor, now)
    await Case.select().where(*where).order_by(*listing._inbox_order(now)).limit(LIMIT)
    await Case.count().where(*where)


async def _measure(kind: str, n: int) -> dict[str, Any]:
    engine, _ = await _prepare(kind, n)
    try:
        results: dict[str, Any] = {}
        for name, (principal, filters, pieces) in (await _scenarios(engine)).items():
            now = datetime.now(UTC)
            page = await listing.page(filters, principal, limit=LIMIT)
            mine = [c.id for c in page.items]
            theirs = await _reference(pieces, now)
            assert mine == theirs, (name, mine[:5], theirs[:5])
            product: list[float] = []
            reference: list[float] = []
            for i in range(WARMUP + RUNS):
                a = await _timed(partial(listing.page, filters, principal, limit=LIMIT))
                b = await _timed(partial(_reference, pieces, None))
                if i >= WARMUP:
                    product.append(a)
                    reference.append(b)
            results[name] = {
                "rows": len(mine),
                "matched": f"{page.matched}{'+' if page.capped else ''}",
                "product_p50_ms": round(statistics.median(product), 2),
                "product_p99_ms": round(_p(product, 0.99), 2),
                "reference_p50_ms": round(statistics.median(reference), 2),
                "reference_p99_ms": round(_p(reference, 0.99), 2),
            }
            results[name]["p99_ratio"] = round(
                results[name]["product_p99_ms"] / results[name]["reference_p99_ms"], 2
            )
            print(f"{kind:8} {name:26} {results[name]}", flush=True)
        leader = (await _scenarios(engine))["grid leader inbox"][0]
        today = [await _timed(lambda: _today(leader, datetime.now(UTC))) for _ in range(3)]
        results["today's query, grid leader inbox"] = {
            "median_ms": round(statistics.median(today), 1)
        }
        print(f"{kind:8} today's query, grid leader inbox: {statistics.median(today):.1f} ms")
        return results
    finally:
        await close_pool(engine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    load = Path("/proc/loadavg").read_text().split()[:3]
    figures = {kind: asyncio.run(_measure(kind, args.cases)) for kind in kinds}
    end = Path("/proc/loadavg").read_text().split()[:3]
    print(f"\nload average {' '.join(load)} at the start, {' '.join(end)} at the end")
    print(
        f"{'db':9}{'scenario':28}{'product p50/p99 ms':>22}{'reference p50/p99 ms':>24}{'ratio':>7}"
    )
    ratios = {}
    for kind, scenarios in figures.items():
        for name, f in scenarios.items():
            if "p99_ratio" not in f:
                continue
            ratios[f"{kind}: {name}"] = f["p99_ratio"]
            print(
                f"{kind:9}{name:28}{f['product_p50_ms']:>10} / {f['product_p99_ms']:<9}"
                f"{f['reference_p50_ms']:>12} / {f['reference_p99_ms']:<9}{f['p99_ratio']:>7}"
            )
    size = "" if args.cases == 1_000_000 else f"-{args.cases}"
    out = REPO / "bench" / "results" / f"caselist{size}.json"
    if out.exists():  # a run of one database keeps the other's figures
        before = json.loads(out.read_text())
        figures = {**before.get("figures", {}), **figures}
        ratios = {**before.get("ratios", {}), **ratios}
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "name": "caselist",
        "cases": args.cases,
        "load_average": load,
        "figures": figures,
        "reference": "hand-written SQL for the same page: each visibility branch's first rows "
        "from its index, unioned, per run of the inbox order, and the capped count",
        "ratios": ratios,
        "targets": TARGETS,
    }
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
