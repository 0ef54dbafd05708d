"""``wangge import`` and ``wangge export``: the command-line side of layer exchange."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import geopandas as gpd

from backend.core.commands import column_mapping
from backend.core.db import make_engine, migrate
from backend.core.errors import ApiError
from backend.core.settings import Settings
from backend.imports.export import KINDS, layer_frame
from backend.imports.service import STEPS, ImportResult, run_import
from geo.layers import Layer, LayerError, read_layer, write_layer
from geo.report import problems_json, problems_table, write_problems_gpkg
from geo.validate import SNAP_M


class StepBar:
    """A one-line progress bar over the import's steps, redrawn in place on a terminal."""

    def __init__(self, stream=sys.stderr) -> None:
        self.stream = stream
        self.started = time.monotonic()

    def __call__(self, step: str) -> None:
        done = STEPS.index(step) + 1
        bar = "█" * (4 * done) + "░" * (4 * (len(STEPS) - done))
        line = f"[{bar}] {step:<10} {time.monotonic() - self.started:6.1f}s"
        if self.stream.isatty():
            self.stream.write("\r" + line + ("\n" if step == "done" else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


async def _run(args: argparse.Namespace, layer: Layer) -> ImportResult:
    settings = Settings.from_env()
    await migrate(make_engine(settings.database_url))
    return await run_import(
        layer,
        dry_run=args.dry_run,
        keep_missing=args.keep_missing,
        snap_m=args.snap,
        progress=StepBar(),
    )


def _report(args: argparse.Namespace, result: ImportResult) -> int:
    summary = result.summary()
    print(problems_table(result.problems))
    report = Path(args.report or f"{args.file}.report.json")
    body = problems_json(result.problems, **summary)
    report.write_text(json.dumps(body, ensure_ascii=False, indent=1))
    print(f"report: {report}")
    shapes = Path(args.problems or f"{args.file}.problems.gpkg")
    shapes.unlink(missing_ok=True)  # a clean run leaves no stale problems from an earlier one
    if result.problems:
        write_problems_gpkg(result.problems, shapes)
        print(f"problem shapes for QGIS: {shapes}")
    print(
        f"{summary['features']} features: {summary['added']} added, {summary['changed']} changed, "
        f"{summary['removed']} removed, {summary['unchanged']} unchanged"
        + (f", {result.reassigned} buildings moved to other grids" if result.reassigned else "")
        + (f"; {skipped} empty rows skipped" if (skipped := summary["empty_rows_skipped"]) else "")
    )
    if result.blocking:
        print(f"NOT imported: {len(result.blocking)} blocking problems; nothing was written")
        return 1
    print("dry run: nothing was written" if args.dry_run else "imported")
    return 0


async def _stored(kind: str) -> gpd.GeoDataFrame:
    settings = Settings.from_env()
    await migrate(make_engine(settings.database_url))
    return await layer_frame(kind)


def cmd_import(args: argparse.Namespace) -> None:
    try:
        layer = read_layer(
            args.file, args.kind, layer=args.layer, crs=args.crs, columns=column_mapping(args.map)
        )
    except LayerError as exc:
        sys.exit(f"cannot import {args.file}: {exc.reason} [{exc.code}]")
    try:
        result = asyncio.run(_run(args, layer))
    except ApiError as exc:
        sys.exit(f"cannot import {args.file}: {exc.reason} [{exc.code}]")
    sys.exit(_report(args, result))


def cmd_export(args: argparse.Namespace) -> None:
    frame = asyncio.run(_stored(args.kind))
    try:
        write_layer(frame, args.out, layer=args.kind)
    except LayerError as exc:
        sys.exit(f"cannot export to {args.out}: {exc.reason} [{exc.code}]")
    print(f"{len(frame)} {args.kind} written to {args.out}")


def add_commands(sub: argparse._SubParsersAction) -> None:
    imp = sub.add_parser(
        "import",
        help="check a layer file and write it to the database, all or nothing",
        description="Formats: GeoJSON, GeoPackage, Shapefile (.shp or .zip), CSV (WKT or lon/lat).",
    )
    imp.add_argument("kind", choices=KINDS)
    imp.add_argument("file")
    imp.add_argument("--layer", help="the layer to read from a GeoPackage or zip")
    imp.add_argument(
        "--crs", help="the file's CRS if it has none or a wrong one: EPSG:4549, gcj02, bd09"
    )
    imp.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="CANONICAL=COLUMN",
        help="which column holds code, name, parent_code, kind, … (repeatable)",
    )
    imp.add_argument("--dry-run", action="store_true", help="check and compare, write nothing")
    imp.add_argument(
        "--snap",
        type=float,
        default=SNAP_M,
        metavar="METRES",
        help=f"repair slivers from rounding narrower than this (default {SNAP_M:g} m; 0: none)",
    )
    imp.add_argument(
        "--keep-missing", action="store_true", help="keep stored features the file lacks"
    )
    imp.add_argument("--report", help="where to write the JSON report (default FILE.report.json)")
    imp.add_argument(
        "--problems", help="where to write problem shapes (default FILE.problems.gpkg)"
    )
    imp.set_defaults(func=cmd_import)

    exp = sub.add_parser("export", help="write a stored layer to .geojson or .gpkg")
    exp.add_argument("kind", choices=KINDS)
    exp.add_argument("out")
    exp.set_defaults(func=cmd_export)
