"""Benchmark GridRouter against a bare shapely STRtree measured in the same run.

Twice: on 100,000 synthetic Voronoi polygons, and on the demo city's grids (the real
district outlines, whose large countryside grids have long borders), with points drawn over
the city's box. Run from the repository root: `.venv/bin/python bench/route.py`. Prints a
table per run, writes bench/results/route.json and always exits 0; PASS/FAIL is printed per
target.
"""

import gc
import json
import sys
import time
from pathlib import Path

import numpy as np
import shapely

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from geo.demo import build_demo_city  # noqa: E402
from geo.router import GridRouter  # noqa: E402

BOX = (106.6, 39.3, 107.1, 39.9)  # lon/lat around Wuhai
POLYGONS = 100_000
SINGLE_POINTS = 20_000
WARMUP_POINTS = 2_000
BULK_POINTS = 200_000
BULK_REPEATS = 3
SEED = 20240601
TARGETS = {"single_p99": "<= 1.5", "bulk": ">= 0.7"}


def random_points(
    rng: np.random.Generator, n: int, box: tuple[float, ...] = BOX
) -> tuple[np.ndarray, np.ndarray]:
    return rng.uniform(box[0], box[2], n), rng.uniform(box[1], box[3], n)


def build_grid(rng: np.random.Generator) -> np.ndarray:
    """Voronoi cells of random seeds clipped to BOX: irregular, gap-free, ~6 vertices each."""
    box = shapely.box(*BOX)
    seeds = shapely.multipoints(np.column_stack(random_points(rng, POLYGONS)))
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=box))
    return shapely.intersection(cells, box)


def time_single(
    router: GridRouter, tree: shapely.STRtree, lon: np.ndarray, lat: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-point latencies in µs, interleaved and alternating who goes first so noise and
    cache warmth hit both alike."""
    locate, query, point = router.locate, tree.query, shapely.Point
    clock = time.perf_counter_ns
    ours = np.empty(len(lon))
    bare = np.empty(len(lon))
    for i, (x, y) in enumerate(zip(lon.tolist(), lat.tolist(), strict=True)):
        if i % 2:
            t0 = clock()
            locate(x, y)
            t1 = clock()
            query(point(x, y), predicate="intersects")
            t2 = clock()
            ours[i], bare[i] = t1 - t0, t2 - t1
        else:
            t0 = clock()
            query(point(x, y), predicate="intersects")
            t1 = clock()
            locate(x, y)
            t2 = clock()
            ours[i], bare[i] = t2 - t1, t1 - t0
    return ours / 1000.0, bare / 1000.0


def time_bulk(
    router: GridRouter, tree: shapely.STRtree, lon: np.ndarray, lat: np.ndarray
) -> tuple[float, float]:
    """Best-of-N points per second, the two contenders alternating within each repeat."""
    xy = np.column_stack([lon, lat])
    ours, bare = [], []
    for _ in range(BULK_REPEATS):
        t0 = time.perf_counter()
        router.locate_many(lon, lat)
        t1 = time.perf_counter()
        tree.query(shapely.points(xy), predicate="intersects")
        t2 = time.perf_counter()
        ours.append(t1 - t0)
        bare.append(t2 - t1)
    return len(lon) / min(ours), len(lon) / min(bare)


def figures(single_us: np.ndarray, bulk_per_s: float, polygons: int) -> dict[str, float]:
    return {
        "single_p50_us": round(float(np.percentile(single_us, 50)), 2),
        "single_p99_us": round(float(np.percentile(single_us, 99)), 2),
        "bulk_points_per_s": round(bulk_per_s),
        "polygons": polygons,
    }


def meets(ratio: float, target: str) -> bool:
    op, bound = target.split()
    return ratio <= float(bound) if op == "<=" else ratio >= float(bound)


def print_table(result: dict) -> None:
    ours, bare, ratios = result["figures"], result["reference"], result["ratios"]
    rows = [
        ("single p50 (µs)", "single_p50_us", None, ",.2f"),
        ("single p99 (µs)", "single_p99_us", "single_p99", ",.2f"),
        ("bulk (points/s)", "bulk_points_per_s", "bulk", ",.0f"),
        ("polygons", "polygons", None, ",.0f"),
    ]
    print(f"{'metric':<16} | {'wangge':>10} | {'bare STRtree':>12} | {'ratio':>5} | target")
    print("-" * 67)
    for label, key, ratio_key, fmt in rows:
        ratio = ratios[ratio_key] if ratio_key else ours[key] / bare[key]
        target = ""
        if ratio_key:
            verdict = "PASS" if meets(ratio, TARGETS[ratio_key]) else "FAIL"
            target = f"{TARGETS[ratio_key]} {verdict}"
        print(
            f"{label:<16} | {ours[key]:>10{fmt}} | {bare[key]:>12{fmt}} | {ratio:>5.2f} | {target}"
        )


def measure(grid: np.ndarray, rng: np.random.Generator, box: tuple[float, ...]) -> dict:
    router = GridRouter(grid)
    tree = shapely.STRtree(grid)
    gc.disable()  # a collection landing inside one timed call would only add noise
    time_single(router, tree, *random_points(rng, WARMUP_POINTS, box))
    single_ours, single_bare = time_single(router, tree, *random_points(rng, SINGLE_POINTS, box))
    bulk_ours, bulk_bare = time_bulk(router, tree, *random_points(rng, BULK_POINTS, box))
    gc.enable()

    ours = figures(single_ours, bulk_ours, len(grid))
    bare = figures(single_bare, bulk_bare, len(grid))
    return {
        "figures": ours,
        "reference": bare,
        "ratios": {
            "single_p99": round(ours["single_p99_us"] / bare["single_p99_us"], 3),
            "bulk": round(ours["bulk_points_per_s"] / bare["bulk_points_per_s"], 3),
        },
    }


def main() -> None:
    rng = np.random.default_rng(SEED)
    started = time.perf_counter()
    grid = build_grid(rng)
    print(f"built {len(grid):,} polygons in {time.perf_counter() - started:.1f} s")
    result = {"name": "route", **measure(grid, rng, BOX), "targets": TARGETS}
    print_table(result)
    demo = build_demo_city().grids.geometry.to_numpy()
    demo_box = tuple(shapely.total_bounds(demo).tolist())
    print(f"\nthe demo city: {len(demo):,} grids, points over {demo_box}")
    result["demo_city"] = measure(demo, rng, demo_box)
    print_table(result["demo_city"])
    out = REPO / "bench" / "results" / "route.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
