"""Backlogs the database holds, for /metrics: what every process sees the same, so whichever
process is asked reads them (backend/core/metrics.py runs this every few seconds and before a
scrape).

Read through the engine of the app that samples, not through the tables' bound engine: the
sampler runs in the background, and the tables may meanwhile be bound to another engine
(a test reading its database directly), whose connections belong to another event loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from piccolo.engine.base import Engine
from piccolo.querystring import QueryString

from backend.core import metrics
from backend.events.tables import EventClock
from backend.notify.tables import NotifyCursor, Outbox


def backlog_sampler(engine: Engine) -> Callable[[], Awaitable[None]]:
    """The sampler of the backlogs in ``engine``'s database."""

    async def sample_backlogs() -> None:
        # Served by the index on status; pending rows are few unless sending is stuck.
        pending = await engine.run_querystring(
            QueryString(
                f"SELECT COUNT(*) AS n FROM {Outbox._meta.tablename} WHERE status = {{}}",
                "pending",
            )
        )
        metrics.NOTIFY_PENDING.set(pending[0]["n"])
        cursor = await engine.run_querystring(
            QueryString(f"SELECT last FROM {NotifyCursor._meta.tablename} LIMIT 1")
        )
        head = await engine.run_querystring(
            QueryString(f"SELECT last FROM {EventClock._meta.tablename} LIMIT 1")
        )
        # No cursor yet: the sender has not run, and starts at the head when it does.
        behind = head[0]["last"] - cursor[0]["last"] if cursor and head else 0
        metrics.NOTIFY_BEHIND.set(max(0, behind))

    return sample_backlogs
