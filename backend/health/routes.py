"""Health: whether this process can do its work now, for a load balancer or an operator.

"ok" means the database took a write just now and the data folder can take a photo; a full
disk, a read-only disk or database, or a database that cannot be reached answers 503
"degraded" with the reason (the same words as a refused write's ``storage_unavailable``).
"""

import asyncio
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from litestar import Response, get
from litestar.datastructures import State
from msgspec import Struct

from backend.calendar.service import calendar_warnings
from backend.core import clock
from backend.core.db import write_transaction
from backend.core.storage import DISK_FULL, READ_ONLY_DISK, storage_fault
from backend.health.tables import HealthProbe

log = logging.getLogger("wangge")

# A probe that waits longer than this (for the write lock behind a long import, or for a
# PostgreSQL that does not answer) is as bad as a failed one to whoever is asking.
PROBE_TIMEOUT_S = 5.0
# Less free space than a photo with its thumbnail and the rows around it may take.
MIN_FREE_BYTES = 16 * 2**20


class Health(Struct, omit_defaults=True):
    status: str  # "ok" or "degraded"
    database: str
    grids_indexed: int
    reason: str | None = None  # why degraded
    # What works but needs an operator soon: a year ahead the holiday calendar does not know.
    warnings: list[str] = []


@get(
    "/api/health",
    tags=["health"],
    summary="Whether the server can take writes now: 200 ok, or 503 degraded with a reason",
)
async def health(state: State) -> Response[Health]:
    reason = await _database_write() or _data_folder_problem(state.settings.data_dir)
    body = Health(
        "degraded" if reason else "ok",
        "sqlite" if state.settings.is_sqlite else "postgresql",
        len(state.grid_index),
        reason,
        calendar_warnings(clock.now().date()),
    )
    return Response(body, status_code=503 if reason else 200)


async def _database_write() -> str | None:
    """Why the database took no write, or ``None`` when it did: one row rewritten, through
    the same write path as every other write (on SQLite, the write lock and the WAL)."""
    db = HealthProbe._meta.db
    row = HealthProbe(id=1, checked_at=datetime.now(UTC))
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            async with write_transaction(db):
                await HealthProbe.insert(row).on_conflict(
                    target=HealthProbe.id, action="DO UPDATE", values=[HealthProbe.checked_at]
                )
    except TimeoutError:
        log.warning("health: the database took no write within %s s", PROBE_TIMEOUT_S)
        return f"the database took no write within {PROBE_TIMEOUT_S:g} s"
    except Exception as exc:  # any driver's failure means the same to a probe
        log.warning("health: the database took no write: %r", exc)
        return storage_fault(exc) or "the database took no write"
    return None


def _data_folder_problem(data_dir: Path) -> str | None:
    """Why photos cannot be written to the data folder's disk, or to the photos' own if it is
    another (a mount of its own), if so: a ``statvfs`` each."""
    for folder in (data_dir / "photos", data_dir):
        try:
            disk = os.statvfs(folder)
        except OSError:
            continue  # not made yet (no photo so far; a PostgreSQL deployment with its key set)
        if disk.f_flag & os.ST_RDONLY:
            return READ_ONLY_DISK
        if disk.f_bavail * disk.f_frsize < MIN_FREE_BYTES:
            return DISK_FULL
    return None


class ClientConfig(Struct):
    basemap_url: str | None  # raster tiles under the map's own layers; None: no basemap


@get("/api/config", tags=["health"], summary="What the app needs to know of the server's settings")
async def client_config(state: State) -> ClientConfig:
    return ClientConfig(state.settings.basemap_url)
