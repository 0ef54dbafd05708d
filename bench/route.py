"""Benchmark: the product's point → grid routing, ``place()`` (backend/cases/placement.py, what
every case create and import row goes through), against a bare shapely STRtree query over the
same polygons, measured in the same run.

``place()`` runs as the product runs it: awaited on an event loop, over the process's
``GridIndex`` (backend/grids/locator.py: the STRtree router, the grid's row, its chain of areas,
the ``Place`` answer). The reference is the least a lookup needs: one ``STRtree.query`` of the
point with the ``intersects`` predicate. Points are drawn where a grid lies (a point in a gap
goes to the database, ``smallest_area_at``, which is not routing). Bulk: the product's
``GridRouter.locate_many`` (imports route whole layers with it) against one bulk query.

Twice: on 100,000 synthetic Voronoi polygons (hung under the demo city's communities, so that
every answer carries a real chain of areas), and on the demo city's own grids, whose
countryside grids have long borders. Run from the repository root: `.venv/bin/python
bench/route.py`. Prints a table per run, writes bench/results/route.json; PASS/FAIL per target.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import shapely

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from backend.cases.placement import place  # noqa: E402
from backend.grids.locator import GridIndex  # noqa: E402
from geo.demo import build_demo_city  # noqa: E402

BOX = (106.6, 39.3, 107.1, 39.9)  # lon/lat around Wuhai
POLYGONS = 100_000
SINGLE_POINTS = 20_000
WARMUP_POINTS = 2_000
BULK_POINTS = 200_000
BULK_REPEATS = 3
SEED = 20240601
TARGETS = {"single_p99": "<= 1.5", "single_rate": ">= 0.7", "bulk": ">= 0.7"}


def random_points(
    rng: np.random.Generator, n: int, box: tuple[float, ...]
) -> tuple[np.ndarray, np.ndarray]:
    return rng.uniform(box[0], box[2], n), rng.uniform(box[1], box[3], n)


def covered_points(
    rng: np.random.Generator, tree: shapely.STRtree, n: int, box: tuple[float, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random points of ``box`` that some polygon covers."""
    lon, lat = np.empty(0), np.empty(0)
    while len(lon) < n:
        x, y = random_points(rng, 2 * n, box)
        hit = np.unique(tree.query(shapely.points(x, y), predicate="intersects")[0])
        lon, lat = np.concatenate([lon, x[hit]]), np.concatenate([lat, y[hit]])
    return lon[:n], lat[:n]


def voronoi(rng: np.random.Generator) -> np.ndarray:
    """Voronoi cells of random seeds clipped to BOX: irregular, gap-free, ~6 vertices each."""
    box = shapely.box(*BOX)
    seeds = shapely.multipoints(np.column_stack(random_points(rng, POLYGONS, BOX)))
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=box))
    return shapely.intersection(cells, box)


def synthetic_rows(geometries: np.ndarray, communities: list[str]) -> list[dict[str, Any]]:
    """Grid rows as ``load_grid_index`` reads them, the i-th polygon hung under the i-th
    community (round robin)."""
    return [
        {
            "code": f"{communities[i % len(communities)]}{i:06d}",
            "name": f"grid {i}",
            "kind": "community",
            "parent_code": communities[i % len(communities)],
            "geom": g,
        }
        for i, g in enumerate(shapely.to_geojson(geometries))
    ]


async def time_single(
    index: GridIndex, tree: shapely.STRtree, lon: np.ndarray, lat: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-point latencies in µs, interleaved and alternating who goes first so that noise and
    cache warmth hit both alike; both on the event loop, as a request runs."""
    query, points = tree.query, shapely.points
    clock = time.perf_counter_ns
    ours = np.empty(len(lon))
    bare = np.empty(len(lon))
    for i, (x, y) in enumerate(zip(lon.tolist(), lat.tolist(), strict=True)):
        if i % 2:
            t0 = clock()
            await place(index, x, y)
            t1 = clock()
            query(points((x, y)), predicate="intersects")
            t2 = clock()
            ours[i], bare[i] = t1 - t0, t2 - t1
        else:
            t0 = clock()
            query(points((x, y)), predicate="intersects")
            t1 = clock()
            await place(index, x, y)
            t2 = clock()
            ours[i], bare[i] = t2 - t1, t1 - t0
    return ours / 1000.0, bare / 1000.0


def time_bulk(
    index: GridIndex, tree: shapely.STRtree, lon: np.ndarray, lat: np.ndarray
) -> tuple[float, float]:
    """Best-of-N points per second, the two alternating within each repeat."""
    ours, bare = [], []
    for _ in range(BULK_REPEATS):
        t0 = time.perf_counter()
        index.router.locate_many(lon, lat)
        t1 = time.perf_counter()
        tree.query(shapely.points(lon, lat), predicate="intersects")
        t2 = time.perf_counter()
        ours.append(t1 - t0)
        bare.append(t2 - t1)
    return len(lon) / min(ours), len(lon) / min(bare)


def figures(single_us: np.ndarray, bulk_per_s: float, polygons: int) -> dict[str, float]:
    return {
        "single_p50_us": round(float(np.percentile(single_us, 50)), 2),
        "single_p99_us": round(float(np.percentile(single_us, 99)), 2),
        "single_per_s": round(len(single_us) / (float(single_us.sum()) / 1e6)),
        "bulk_points_per_s": round(bulk_per_s),
        "polygons": polygons,
    }


def measure(
    grids: list[dict[str, Any]],
    areas: list[dict[str, Any]],
    rng: np.random.Generator,
    box: tuple[float, ...],
) -> dict:
    index = GridIndex(grids, areas)  # as a process loads it from its tables
    geometries = shapely.from_geojson([g["geom"] for g in grids])
    tree = shapely.STRtree(geometries)
    warm = covered_points(rng, tree, WARMUP_POINTS, box)
    single = covered_points(rng, tree, SINGLE_POINTS, box)
    bulk = covered_points(rng, tree, BULK_POINTS, box)

    async def singles() -> tuple[np.ndarray, np.ndarray]:
        await time_single(index, tree, *warm)
        return await time_single(index, tree, *single)

    gc.disable()  # a collection landing inside one timed call would only add noise
    single_ours, single_bare = asyncio.run(singles())
    bulk_ours, bulk_bare = time_bulk(index, tree, *bulk)
    gc.enable()
    ours = figures(single_ours, bulk_ours, len(geometries))
    bare = figures(single_bare, bulk_bare, len(geometries))
    return {
        "figures": ours,
        "reference": bare,
        "ratios": {
            "single_p99": round(ours["single_p99_us"] / bare["single_p99_us"], 3),
            "single_rate": round(ours["single_per_s"] / bare["single_per_s"], 3),
            "bulk": round(ours["bulk_points_per_s"] / bare["bulk_points_per_s"], 3),
        },
    }


def meets(ratio: float, target: str) -> bool:
    op, bound = target.split()
    return ratio <= float(bound) if op == "<=" else ratio >= float(bound)


def print_table(result: dict) -> None:
    ours, bare, ratios = result["figures"], result["reference"], result["ratios"]
    rows = [
        ("single p50 (µs)", "single_p50_us", None, ",.2f"),
        ("single p99 (µs)", "single_p99_us", "single_p99", ",.2f"),
        ("single (points/s)", "single_per_s", "single_rate", ",.0f"),
        ("bulk (points/s)", "bulk_points_per_s", "bulk", ",.0f"),
        ("polygons", "polygons", None, ",.0f"),
    ]
    print(f"{'metric':<18} | {'place()':>10} | {'bare STRtree':>12} | {'ratio':>5} | target")
    print("-" * 69)
    for label, key, ratio_key, fmt in rows:
        ratio = ratios[ratio_key] if ratio_key else ours[key] / bare[key]
        target = ""
        if ratio_key:
            verdict = "PASS" if meets(ratio, TARGETS[ratio_key]) else "FAIL"
            target = f"{TARGETS[ratio_key]} {verdict}"
        print(
            f"{label:<18} | {ours[key]:>10{fmt}} | {bare[key]:>12{fmt}} | {ratio:>5.2f} | {target}"
        )


def main() -> None:
    load = Path("/proc/loadavg").read_text().split()[:3]
    rng = np.random.default_rng(SEED)
    city = build_demo_city()
    areas = [
        {"code": a.code, "name": a.name, "level": a.level, "parent_code": a.parent_code}
        for a in city.areas.itertuples()
    ]
    communities = [a["code"] for a in areas if a["level"] in ("community", "village")]
    started = time.perf_counter()
    cells = voronoi(rng)
    print(f"built {len(cells):,} polygons in {time.perf_counter() - started:.1f} s")
    print(f"load average {' '.join(load)}")
    grids = synthetic_rows(cells, communities)
    result = {"name": "route", **measure(grids, areas, rng, BOX), "targets": TARGETS}
    print_table(result)
    demo = city.grids.geometry.to_numpy()
    demo_box = tuple(shapely.total_bounds(demo).tolist())
    print(f"\nthe demo city: {len(demo):,} grids, points over {demo_box} that a grid covers")
    demo_rows = [
        {"code": g.code, "name": g.name, "kind": g.kind, "parent_code": g.parent_code, "geom": j}
        for g, j in zip(city.grids.itertuples(), shapely.to_geojson(demo), strict=True)
    ]
    result["demo_city"] = measure(demo_rows, areas, rng, demo_box)
    print_table(result["demo_city"])
    result["load_average"] = {
        "before": load,
        "after": Path("/proc/loadavg").read_text().split()[:3],
    }
    out = REPO / "bench" / "results" / "route.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
