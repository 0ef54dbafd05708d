"""An import from a normalised layer to the database: check, compare, write (or not)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import geopandas as gpd
import numpy as np
import pandas as pd
from anyio import to_thread

from backend.areas.tables import Area
from backend.core.db import lock_imports, write_transaction
from backend.core.errors import Conflict
from backend.grids.tables import Grid
from backend.imports import writer
from backend.imports.checks import (
    blocking,
    check_areas,
    check_buildings,
    check_grids,
    check_points,
)
from backend.imports.reach import check_reach, require_kind
from backend.imports.rows import Diff, Incoming, diff, incoming_rows, stored_frame, stored_rows
from backend.imports.scope import consequences, removal_scope, still_inside
from backend.points.service import link_red_properties
from geo.assign import assign_buildings
from geo.layers import Layer
from geo.report import with_rows
from geo.validate import SNAP_M, Problem

Progress = Callable[[str], None]
STEPS = ("checking", "comparing", "writing", "done")


@dataclass
class ImportResult:
    kind: str
    source: dict[str, Any]
    problems: list[Problem]
    diff: Diff
    applied: bool
    dry_run: bool
    reassigned: int = 0
    # The file's rows by code, kept between comparing and writing.
    incoming: Incoming | None = field(default=None, repr=False)

    @property
    def blocking(self) -> list[Problem]:
        return blocking(self.problems)

    def summary(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "applied": self.applied,
            "dry_run": self.dry_run,
            "features": self.source.get("features", 0),
            "empty_rows_skipped": self.source.get("empty_rows_skipped", 0),
            "added": len(self.diff.added),
            "changed": len(self.diff.changed),
            "removed": len(self.diff.removed),
            "unchanged": self.diff.unchanged,
            "buildings_reassigned": self.reassigned,
            "blocking_problems": len(self.blocking),
            "problem_count": len(self.problems),
        }


def _source(layer: Layer) -> dict[str, Any]:
    return {
        "format": layer.format,
        "layer": layer.layer,
        "crs": layer.source_crs,
        "columns": layer.columns,
        "features": len(layer.frame),
        "empty_rows_skipped": layer.skipped,
    }


async def run_import(
    layer: Layer,
    *,
    dry_run: bool = False,
    keep_missing: bool = False,
    district: str | None = None,
    snap_m: float = SNAP_M,
    progress: Progress = lambda step: None,
) -> ImportResult:
    """Check ``layer``, compare it with the stored layer of its kind, and write it all or nothing.

    Nothing is written when any problem is blocking, or on a dry run. A real import holds the
    write lock from its first read to its commit, so two imports cannot interleave. With a
    ``district`` (a district admin's), the file may only touch that district's features
    (`backend.imports.reach`): 403 otherwise. Areas and grids reaching less than ``snap_m``
    outside their parent are cut to it (`geo.validate.snap_layer`), as the dry run shows.
    """
    if district is not None:
        require_kind(layer.kind, district)
    if dry_run:
        result = await _plan(layer, keep_missing, dry_run, district, snap_m, progress)
    else:
        async with write_transaction(Area._meta.db):
            await lock_imports(Area._meta.db)
            result = await _plan(layer, keep_missing, dry_run, district, snap_m, progress)
            if not result.blocking:
                progress("writing")
                try:
                    await _write(layer, result)
                except (sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError) as exc:
                    # The checks should have found it: say so rather than answer a 500.
                    raise Conflict(
                        "import_refused_by_database",
                        f"the database refused the import ({exc}); nothing was written",
                    ) from None
                result.applied = True
    progress("done")
    return result


async def _plan(
    layer: Layer,
    keep_missing: bool,
    dry_run: bool,
    district: str | None,
    snap_m: float,
    progress: Progress,
) -> ImportResult:
    kind = layer.kind
    progress("checking")
    assignment, problems, frame = await _check(kind, layer.frame, snap_m)

    progress("comparing")
    incoming = incoming_rows(kind, frame, assignment)
    stored = await stored_rows(kind)
    changes = diff(incoming, stored, kind=kind, keep_missing=keep_missing)
    # A file speaks for the part of the layer it covers: the communities its grids name,
    # the grids its buildings fall in, the kinds of its points, the areas under its areas.
    may_remove = removal_scope(kind, incoming)
    if district is not None:
        ours = check_reach(kind, district, incoming, stored, await _grid_parents())
        changes.removed = [c for c in changes.removed if ours(stored[c])]
    changes.removed = [c for c in changes.removed if may_remove(stored[c])]
    problems += await consequences(kind, changes.removed)
    problems += await still_inside(kind, incoming, changes)
    features = layer.features if layer.features is not None else np.arange(len(frame))
    codes = frame["code"].astype(str).tolist()
    problems = with_rows([*layer.warnings, *problems], codes, features, layer.lines)
    result = ImportResult(kind, _source(layer), problems, changes, False, dry_run)
    result.incoming = incoming
    return result


async def _check(
    kind: str, frame: gpd.GeoDataFrame, snap_m: float
) -> tuple[pd.Series | None, list[Problem], gpd.GeoDataFrame]:
    """The file's problems, for buildings the grid each one lies in, and the layer to write
    (areas and grids with rounding's slivers cut off).

    The checks are seconds of CPU for a city's buildings: they run off the event loop, so
    the server keeps answering while an admin's upload is checked.
    """
    if kind == "areas":
        stored = await stored_frame("areas")
        areas, problems = await to_thread.run_sync(check_areas, frame, stored, snap_m)
        return None, problems, areas
    if kind == "grids":
        communities = await stored_frame("areas", level="community")
        grids, problems = await to_thread.run_sync(check_grids, frame, communities, snap_m)
        return None, problems, grids
    if kind == "buildings":
        grids = await stored_frame("grids")
        return (*await to_thread.run_sync(check_buildings, frame, grids), frame)
    area_codes = {r["code"] for r in await Area.select(Area.code)}
    grid_codes = {r["code"] for r in await Grid.select(Grid.code)}
    return None, await to_thread.run_sync(check_points, frame, area_codes, grid_codes), frame


async def _grid_parents() -> dict[str, str]:
    """Each stored grid's community code."""
    rows = await Grid.select(Grid.code, Grid.community.code.as_alias("parent"))
    return {r["code"]: r["parent"] for r in rows}


async def _write(layer: Layer, result: ImportResult) -> None:
    changes, rows = result.diff, result.incoming
    assert rows is not None  # set by _plan
    if layer.kind == "areas":
        await writer.write_areas(rows, changes)
        await writer.announce("areas", changes)
    elif layer.kind == "grids":
        before = await writer.building_grids()
        await writer.write_grids(rows, changes)
        result.reassigned = await _reassign(before, result)
        await link_red_properties()
        await writer.announce("grids", changes)
    elif layer.kind == "buildings":
        await writer.write_buildings(rows, changes)
        await writer.announce("buildings", changes)
    else:
        await writer.write_points(rows, changes)
        await link_red_properties()
        await writer.announce("points", changes)


async def _reassign(before: dict[str, str | None], result: ImportResult) -> int:
    """Every building follows the grids as they now are (those imported and those kept)."""
    buildings = await stored_frame("buildings")
    if not len(buildings):
        return 0
    assigned, problems = assign_buildings(buildings, await stored_frame("grids"))
    result.problems += problems
    after = dict(zip(buildings["code"].astype(str), assigned.tolist(), strict=True))
    await writer.reassign_buildings(after)
    return sum(before.get(code) != grid for code, grid in after.items())
