"""Benchmark: import 100,000 building footprints onto 2,000 grids, against a bare sjoin.

Twice: onto 2,000 synthetic Voronoi grids of one community, and onto the demo city's grids
(the real district outlines: a few hundred grids, the countryside ones large, with long
borders), the footprints scattered over the city.

Run from the repository root: `.venv/bin/python bench/import.py`. The product's figure is a
real import into a fresh SQLite database: checks (geometry, codes, numbers), assignment by
largest overlap with the straddlers listed, comparison with what is stored, and the write in
one transaction, timed from the file on disk. The reference is geopandas reading the same two
files and joining them with `sjoin` (the target's ratio); the join alone, on frames already in
memory, is printed too. Prints a table and writes bench/results/import.json.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import shapely

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from backend.core.db import make_engine, migrate, use_engine, write_transaction  # noqa: E402
from backend.imports.service import run_import  # noqa: E402
from geo.demo import build_demo_city  # noqa: E402
from geo.layers import Layer, read_layer, write_layer  # noqa: E402

GRIDS, BUILDINGS, SEED = 2_000, 100_000, 7
TARGET = 3.0  # import time ≤ 3× the bare join
BOX = (500_000, 4_380_000, 545_000, 4_425_000)  # 45 km square in UTM 48N, around Wuhai


_TO_WGS = pyproj.Transformer.from_crs(32648, 4326, always_xy=True)
_TO_UTM = pyproj.Transformer.from_crs(4326, 32648, always_xy=True)


def _project(geoms: np.ndarray, transformer: pyproj.Transformer) -> np.ndarray:
    return shapely.transform(
        geoms, lambda c: np.column_stack(transformer.transform(c[:, 0], c[:, 1]))
    )


def _footprints(rng: np.random.Generator, box: tuple[float, ...], n: int) -> gpd.GeoDataFrame:
    """n rectangles of 10–20 × 25–60 m with corners in a UTM box, in lon/lat."""
    corner = rng.uniform(box[:2], np.array(box[2:]) - 60, (n, 2))
    size = rng.uniform([10, 25], [20, 60], (n, 2))
    return gpd.GeoDataFrame(
        {
            "code": [f"B{i:06d}" for i in range(n)],
            "name": "",
            "address": "",
            "floors": rng.integers(1, 30, n),
            "households": rng.integers(1, 200, n),
        },
        geometry=_project(shapely.box(corner[:, 0], corner[:, 1], *(corner + size).T), _TO_WGS),
        crs=4326,
    )


def generate() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """One community tiled by Voronoi grids, and rectangular footprints scattered over it."""
    rng = np.random.default_rng(SEED)
    box = shapely.box(*BOX)
    seeds = shapely.multipoints(rng.uniform(BOX[:2], BOX[2:], (GRIDS, 2)))
    cells = _project(
        shapely.intersection(
            shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=box)), box
        ),
        _TO_WGS,
    )
    grids = gpd.GeoDataFrame(
        {
            "code": [f"15030200100{i:04d}" for i in range(len(cells))],
            "name": [f"第{i}网格" for i in range(len(cells))],
            "parent_code": "150302001001",
            "kind": "community",
        },
        geometry=cells,
        crs=4326,
    )
    community = gpd.GeoDataFrame(
        {
            "code": ["150302001001"],
            "name": ["基准社区"],
            "level": ["community"],
            "parent_code": [None],
        },
        geometry=[shapely.union_all(cells)],
        crs=4326,
    )
    return community, grids, _footprints(rng, BOX, BUILDINGS)


def generate_demo() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The demo city's areas and grids, and footprints scattered over the whole city."""
    rng = np.random.default_rng(SEED)
    city = build_demo_city()
    outline = _project(
        city.areas.loc[city.areas["level"] == "city", "geometry"].to_numpy(), _TO_UTM
    )
    box = tuple(shapely.total_bounds(outline).tolist())
    buildings = _footprints(rng, box, 3 * BUILDINGS)
    inside = shapely.contains(outline[0], _project(buildings.geometry.to_numpy(), _TO_UTM))
    buildings = buildings[inside].iloc[:BUILDINGS].reset_index(drop=True)
    buildings["code"] = [f"B{i:06d}" for i in range(len(buildings))]
    return city.areas, city.grids, buildings


async def seed(url: str, areas: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> None:
    """A fresh database with the areas, written level by level, and the grids imported."""
    from backend.areas.tables import Area
    from backend.core.spatial import footprint_values

    engine = make_engine(url)
    await migrate(engine)
    use_engine(engine)
    async with write_transaction(engine):
        for level in ("city", "district", "street", "community"):
            ids = {r["code"]: r["id"] for r in await Area.select(Area.id, Area.code)}
            part = areas[areas["level"] == level]
            rows = zip(part.to_dict("records"), footprint_values(part.geometry.values), strict=True)
            if len(part):
                await Area.insert(
                    *(
                        Area(
                            code=r["code"],
                            name=r["name"],
                            level=level,
                            parent=ids.get(r["parent_code"]),
                            **f,
                        )
                        for r, f in rows
                    )
                )
    result = await run_import(Layer("grids", grids, "EPSG:4326", {}, None, "gpkg"))
    assert result.applied, result.blocking[:3]


async def timed_import(path: Path) -> tuple[float, dict]:
    """The whole of `wangge import buildings FILE`: read, check, assign, compare, write."""
    start = time.perf_counter()
    result = await run_import(read_layer(path, "buildings"))
    elapsed = time.perf_counter() - start
    assert result.applied, result.blocking[:3]
    return elapsed, result.summary()


def timed_sjoin(buildings_path: Path, grids_path: Path) -> tuple[float, float]:
    """The reference: geopandas reads the same two files and joins them (total, join alone)."""
    start = time.perf_counter()
    buildings = gpd.read_file(buildings_path, engine="pyogrio")
    grids = gpd.read_file(grids_path, engine="pyogrio")
    joined = time.perf_counter()
    gpd.sjoin(buildings, grids, how="left", predicate="intersects")
    end = time.perf_counter()
    return end - start, end - joined


def run(
    label: str, areas: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame
) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_layer(buildings, folder / "buildings.gpkg")
        write_layer(grids, folder / "grids.gpkg")
        sjoin_times, join_only, import_times, summary = [], [], [], {}
        for round_ in range(3):
            total, join = timed_sjoin(folder / "buildings.gpkg", folder / "grids.gpkg")
            sjoin_times.append(total)
            join_only.append(join)
            url = f"sqlite:///{folder}/bench-{round_}.sqlite"
            asyncio.run(seed(url, areas, grids))
            elapsed, summary = asyncio.run(timed_import(folder / "buildings.gpkg"))
            import_times.append(elapsed)
    ours, bare, join = min(import_times), min(sjoin_times), min(join_only)
    ratio = ours / bare
    print(f"{label}: {len(buildings):,} buildings onto {len(grids):,} grids")
    print(f"{'metric':<30}| {'wangge':>10} | {'read+sjoin':>10} | {'ratio':>6} | target")
    print("-" * 72)
    verdict = "PASS" if ratio <= TARGET else "FAIL"
    name = "import buildings (s)"
    print(f"{name:<30}| {ours:>10.3f} | {bare:>10.3f} | {ratio:>6.2f} | <= {TARGET} {verdict}")
    name = "  against the join alone"
    print(f"{name:<30}| {ours:>10.3f} | {join:>10.3f} | {ours / join:>6.2f} |")
    print(f"problems listed: {summary['problem_count']}, written: {summary['added']}\n")
    return {
        "figures": {
            "import_s": round(ours, 3),
            "buildings": len(buildings),
            "grids": len(grids),
            "added": summary["added"],
        },
        "reference": {"read_and_sjoin_s": round(bare, 3), "sjoin_in_memory_s": round(join, 3)},
        "ratios": {
            "import_vs_read_and_sjoin": round(ratio, 3),
            "import_vs_sjoin_in_memory": round(ours / join, 3),
        },
    }


def main() -> None:
    result = {"name": "import", **run("synthetic", *generate())}
    result["targets"] = {"import_vs_read_and_sjoin": f"<= {TARGET}"}
    result["demo_city"] = run("the demo city", *generate_demo())
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "import.json").write_text(json.dumps(result, indent=1))
    print("wrote bench/results/import.json")


if __name__ == "__main__":
    main()
