"""A grid import tells every process: one event in its transaction, under the smallest area
that holds what changed, and each hub that hears it reloads its grid index."""

from __future__ import annotations

import asyncio

import msgspec

from backend.core.db import close_pool, open_pool
from backend.events.service import after, head
from backend.imports.export import layer_frame
from backend.imports.service import run_import
from backend.live.hub import Hub
from geo.layers import read_layer, write_layer


async def test_an_import_that_changes_grids_appends_one_event_and_reloads_the_index(
    scratch_database, tmp_path
):
    await open_pool(scratch_database.engine)
    reloaded = asyncio.Event()

    async def reload() -> None:
        reloaded.set()

    hub = Hub(scratch_database.engine, poll_s=60, on_layers_changed=reload)
    await hub.start()
    try:
        grids = (await layer_frame("grids")).copy()
        community = grids["parent_code"].iloc[0]
        first, second = grids.loc[grids["parent_code"] == community, "code"].iloc[:2]
        merged = grids.loc[grids["code"].isin([first, second])].union_all()
        grids.loc[grids["code"] == first, "geometry"] = merged
        grids = grids[grids["code"] != second]
        write_layer(grids, tmp_path / "grids.gpkg")
        before = await head()

        dry = await run_import(read_layer(tmp_path / "grids.gpkg", "grids"), dry_run=True)
        assert await head() == before  # a dry run tells nobody
        assert dry.diff.changed == [first]
        result = await run_import(read_layer(tmp_path / "grids.gpkg", "grids"))
        assert result.applied

        [event] = await after(before)
        assert (event.type, event.subject, event.scope) == ("grids.changed", "grids", community)
        assert msgspec.json.decode(event.payload) == {"added": 0, "changed": 1, "removed": 1}
        await asyncio.wait_for(reloaded.wait(), 5)
    finally:
        await hub.close()
        await close_pool(scratch_database.engine)
