"""Benchmark the geocoder's address search against a bare SQLite FTS5 query (trigram
tokenizer) over the same 100,000 building names and addresses, measured in the same run.

The buildings are the demo city's, copied with a different estate part in each copy until
there are 100,000 (团结小区东区3号楼, 团结小区二期3号楼 …), so the names are as alike as a real
city's. The queries are what an operator types: a community and a building number
(团结社区 3号楼), an estate and a number, a street and an estate, a whole name. Every part
has 3 characters or more, since the trigram tokenizer matches nothing shorter (the geocoder
does: 团结 3号楼). FTS5 answers ``MATCH '"团结社区" AND "3号楼"' ORDER BY rank LIMIT 10``;
the geocoder its ranked ten (and it is stricter: 3号楼 does not match 13号楼).

Run from the repository root: `.venv/bin/python bench/geocode.py`. Prints a table, writes
bench/results/geocode.json and always exits 0; PASS/FAIL is printed per target.
"""

import gc
import json
import re
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np
import shapely

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from backend.geocode.index import Place, PlaceIndex  # noqa: E402
from geo.demo import build_demo_city  # noqa: E402

BUILDINGS = 100_000
QUERIES = 4_000
WARMUP = 400
LIMIT = 10
SEED = 20261207
TARGETS = {"search_p99": "<= 2.0"}
VARIANTS = [
    "",
    "东区",
    "西区",
    "南区",
    "北区",
    "二期",
    "三期",
    "四期",
    "新苑",
    "雅苑",
    "花园",
    "家园",
    "北苑",
]
_NUMBER = re.compile(r"(\d+号楼?)$")


def buildings() -> list[Place]:
    """100,000 buildings named as the demo city's are."""
    city = build_demo_city().buildings
    base = list(zip(city["code"], city["name"], city["address"], strict=True))
    box = shapely.bounds(city.geometry.to_numpy())  # a building's point: its box's centre
    xy = list(
        zip(
            ((box[:, 0] + box[:, 2]) / 2).tolist(),
            ((box[:, 1] + box[:, 3]) / 2).tolist(),
            strict=True,
        )
    )
    places: list[Place] = []
    for variant in VARIANTS:
        for (code, name, address), (x, y) in zip(base, xy, strict=True):
            places.append(
                Place(
                    "building",
                    f"{code}{variant}",
                    _NUMBER.sub(variant + r"\1", name),
                    _NUMBER.sub(variant + r"\1", address),
                    x,
                    y,
                )
            )
            if len(places) == BUILDINGS:
                return places
    raise ValueError("too few variants for that many buildings")


def queries(places: list[Place], rng: np.random.Generator) -> list[list[str]]:
    """Query parts as an operator types them, each of 3 characters or more."""
    found: list[list[str]] = []
    while len(found) < QUERIES:
        p = places[int(rng.integers(len(places)))]
        number = _NUMBER.search(p.name)
        community = re.search(r"街道(.{2,5}?社区)", p.address)
        street = re.search(r"区(.{2,5}?街道)", p.address)
        if not (number and community and street):
            continue  # a village's house: its own forms below would repeat the town's
        estate = p.name[: number.start()]
        shape = len(found) % 4
        parts = [
            [community[1], number[1]],
            [estate, number[1]],
            [street[1], estate],
            [p.name],
        ][shape]
        if all(len(s) >= 3 for s in parts):
            found.append(parts)
    return found


def fts5(places: list[Place]) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE place USING fts5(name, address, tokenize='trigram')")
    db.executemany(
        "INSERT INTO place (rowid, name, address) VALUES (?, ?, ?)",
        ((i, p.name, p.address) for i, p in enumerate(places)),
    )
    db.commit()
    return db


def time_searches(
    index: PlaceIndex, db: sqlite3.Connection, parts: list[list[str]]
) -> tuple[np.ndarray, np.ndarray, int]:
    """Per-query latencies in µs, interleaved and alternating who goes first; and how many
    queries the geocoder answered with nothing."""
    sql = "SELECT rowid, name, address FROM place WHERE place MATCH ? ORDER BY rank LIMIT ?"
    clock = time.perf_counter_ns
    ours = np.empty(len(parts))
    bare = np.empty(len(parts))
    empty = 0
    for i, q in enumerate(parts):
        text = " ".join(q)
        match = " AND ".join(f'"{s}"' for s in q)
        if i % 2:
            t0 = clock()
            got = index.search(text, LIMIT)
            t1 = clock()
            db.execute(sql, (match, LIMIT)).fetchall()
            t2 = clock()
            ours[i], bare[i] = t1 - t0, t2 - t1
        else:
            t0 = clock()
            db.execute(sql, (match, LIMIT)).fetchall()
            t1 = clock()
            got = index.search(text, LIMIT)
            t2 = clock()
            ours[i], bare[i] = t2 - t1, t1 - t0
        empty += not got
    return ours / 1000.0, bare / 1000.0, empty


def figures(us: np.ndarray, build_s: float) -> dict[str, float]:
    return {
        "search_p50_us": round(float(np.percentile(us, 50)), 1),
        "search_p99_us": round(float(np.percentile(us, 99)), 1),
        "build_s": round(build_s, 2),
        "buildings": BUILDINGS,
    }


def meets(ratio: float, target: str) -> bool:
    op, bound = target.split()
    return ratio <= float(bound) if op == "<=" else ratio >= float(bound)


def print_table(result: dict) -> None:
    ours, bare, ratios = result["figures"], result["reference"], result["ratios"]
    rows = [
        ("search p50 (µs)", "search_p50_us", None, ",.1f"),
        ("search p99 (µs)", "search_p99_us", "search_p99", ",.1f"),
        ("index build (s)", "build_s", None, ",.2f"),
        ("buildings", "buildings", None, ",.0f"),
    ]
    print(f"{'metric':<16} | {'wangge':>10} | {'bare FTS5':>10} | {'ratio':>5} | target")
    print("-" * 65)
    for label, key, ratio_key, fmt in rows:
        ratio = ratios[ratio_key] if ratio_key else ours[key] / bare[key]
        target = ""
        if ratio_key:
            verdict = "PASS" if meets(ratio, TARGETS[ratio_key]) else "FAIL"
            target = f"{TARGETS[ratio_key]} {verdict}"
        print(
            f"{label:<16} | {ours[key]:>10{fmt}} | {bare[key]:>10{fmt}} | {ratio:>5.2f} | {target}"
        )


def main() -> None:
    rng = np.random.default_rng(SEED)
    places = buildings()
    started = time.perf_counter()
    index = PlaceIndex(places)
    ours_build = time.perf_counter() - started
    started = time.perf_counter()
    db = fts5(places)
    bare_build = time.perf_counter() - started
    print(f"SQLite {sqlite3.sqlite_version}; {len(places):,} buildings")
    asked = queries(places, rng)
    gc.disable()  # a collection landing inside one timed call would only add noise
    time_searches(index, db, asked[:WARMUP])
    ours_us, bare_us, empty = time_searches(index, db, asked)
    gc.enable()
    ours, bare = figures(ours_us, ours_build), figures(bare_us, bare_build)
    result = {
        "name": "geocode",
        "figures": {**ours, "queries": len(asked), "queries_found_nothing": empty},
        "reference": bare,
        "ratios": {"search_p99": round(ours["search_p99_us"] / bare["search_p99_us"], 3)},
        "targets": TARGETS,
    }
    print_table(result)
    print(f"{empty} of {len(asked):,} queries found nothing in the geocoder")
    out = REPO / "bench" / "results" / "geocode.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
