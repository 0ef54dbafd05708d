"""Backlogs the database holds, for /metrics: what every process sees the same, so whichever
process is asked reads them (backend/core/metrics.py runs this every few seconds and before a
scrape)."""

from __future__ import annotations

from backend.core import metrics
from backend.events.tables import EventClock
from backend.notify.tables import NotifyCursor, Outbox


async def sample_backlogs() -> None:
    # Served by the index on status; pending rows are few unless sending is stuck.
    metrics.NOTIFY_PENDING.set(await Outbox.count().where(Outbox.status == "pending"))
    cursor = await NotifyCursor.select(NotifyCursor.last).first()
    head = await EventClock.select(EventClock.last).first()
    # No cursor yet: the sender has not run, and starts at the head when it does.
    behind = head["last"] - cursor["last"] if cursor and head else 0
    metrics.NOTIFY_BEHIND.set(max(0, behind))
