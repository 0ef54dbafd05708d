"""An import from a normalised layer to the database: check, compare, write (or not)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from backend.areas.tables import Area
from backend.db import write_transaction
from backend.grids.tables import Grid
from backend.imports import writer
from backend.imports.checks import (
    blocking,
    check_areas,
    check_buildings,
    check_grids,
    check_points,
)
from backend.imports.rows import Diff, diff, incoming_rows, stored_frame, stored_rows
from geo.assign import assign_buildings
from geo.layers import Layer
from geo.validate import Problem

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
    incoming: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)

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
    }


async def _areas_in_use(removed: list[str]) -> list[Problem]:
    if not removed:
        return []
    used = (
        await Grid.select(Grid.community.code.as_alias("code"))
        .where(Grid.community.code.is_in(removed))
        .distinct()
    )
    return [
        Problem(
            "area_in_use",
            (r["code"],),
            f"area {r['code']} is missing from the file but grids lie in it",
        )
        for r in used
    ]


async def run_import(
    layer: Layer,
    *,
    dry_run: bool = False,
    keep_missing: bool = False,
    progress: Progress = lambda step: None,
) -> ImportResult:
    """Check ``layer``, compare it with the stored layer of its kind, and write it all or nothing.

    Nothing is written when any problem is blocking, or on a dry run.
    """
    kind, frame = layer.kind, layer.frame
    progress("checking")
    assignment: pd.Series | None = None
    if kind == "areas":
        problems = check_areas(frame)
    elif kind == "grids":
        problems = check_grids(frame, await stored_frame("areas", level="community"))
    elif kind == "buildings":
        assignment, problems = check_buildings(frame, await stored_frame("grids"))
    else:
        areas = {r["code"] for r in await Area.select(Area.code)}
        grids = {r["code"] for r in await Grid.select(Grid.code)}
        problems = check_points(frame, areas, grids)

    if blocking(problems) or dry_run:
        result = await _compare(layer, problems, assignment, keep_missing, dry_run, progress)
        progress("done")
        return result
    # Compared inside the write transaction, so what is written is what was compared with.
    async with write_transaction(Area._meta.db):
        result = await _compare(layer, problems, assignment, keep_missing, dry_run, progress)
        if not result.blocking:
            progress("writing")
            await _write(layer, result)
            result.applied = True
    progress("done")
    return result


async def _compare(
    layer: Layer,
    problems: list[Problem],
    assignment: pd.Series | None,
    keep_missing: bool,
    dry_run: bool,
    progress: Progress,
) -> ImportResult:
    progress("comparing")
    incoming = incoming_rows(layer.kind, layer.frame, assignment) if not blocking(problems) else {}
    changes = diff(
        incoming, await stored_rows(layer.kind), kind=layer.kind, keep_missing=keep_missing
    )
    if layer.kind == "areas":
        problems = problems + await _areas_in_use(changes.removed)
    result = ImportResult(layer.kind, _source(layer), problems, changes, False, dry_run)
    result.incoming = incoming
    return result


async def _write(layer: Layer, result: ImportResult) -> None:
    changes, frame = result.diff, layer.frame
    rows = {c: result.incoming[c] for c in (*changes.added, *changes.changed)}
    if layer.kind == "areas":
        await writer.write_areas(rows, changes)
    elif layer.kind == "grids":
        await writer.write_grids(rows, changes)
        result.reassigned = await _reassign(frame, result)
    elif layer.kind == "buildings":
        await writer.write_buildings(rows, changes)
    else:
        await writer.write_points(rows, changes)


async def _reassign(grids: gpd.GeoDataFrame, result: ImportResult) -> int:
    """Buildings follow the new grids; those that no longer fit are reported."""
    buildings = await stored_frame("buildings")
    if not len(buildings):
        return 0
    assigned, problems = assign_buildings(buildings, grids)
    result.problems += problems
    return await writer.reassign_buildings(
        dict(zip(buildings["code"].astype(str), assigned.tolist(), strict=True))
    )
