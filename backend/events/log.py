"""Appending to the event log inside a write, and reading it back after a cursor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec

from backend.events.tables import Event, EventClock


@dataclass(frozen=True)
class NewEvent:
    type: str
    subject: str
    scope: str
    payload: dict[str, Any] = field(default_factory=dict)
    actor: int | None = None


class StoredEvent(msgspec.Struct):
    id: int
    at: datetime
    type: str
    subject: str
    scope: str
    actor: int | None
    payload: msgspec.Raw


async def append(events: Sequence[NewEvent]) -> list[int]:
    """Write ``events`` with the next ids; call it last in the caller's write transaction.

    Moving the clock locks its row until the transaction ends, so a concurrent writer gets
    later ids and commits after this one: readers never see id N+1 before id N.
    """
    if not events:
        return []
    if Event._meta.db.current_transaction.get() is None:
        raise RuntimeError("events are appended inside the write that caused them")
    rows = await EventClock.raw(
        "UPDATE event_clock SET last = last + {} RETURNING last", len(events)
    )
    last = rows[0]["last"]
    ids = list(range(last - len(events) + 1, last + 1))
    now = datetime.now(UTC)
    await Event.insert(
        *(
            Event(
                id=i,
                at=now,
                type=e.type,
                subject=e.subject,
                scope=e.scope,
                actor=e.actor,
                payload=msgspec.json.encode(e.payload).decode(),
            )
            for i, e in zip(ids, events, strict=True)
        )
    )
    return ids


async def after(cursor: int, scopes: Sequence[str] = (), limit: int = 1000) -> list[StoredEvent]:
    """Events with id > ``cursor``, oldest first, limited to those under ``scopes`` (code
    prefixes; none means all)."""
    if not all(s.isdigit() for s in scopes):
        raise ValueError("scopes are area or grid codes, digits only")
    query = Event.select().where(Event.id > cursor).order_by(Event.id).limit(limit)
    if scopes:
        where = Event.scope.like(f"{scopes[0]}%")
        for scope in scopes[1:]:
            where = where | Event.scope.like(f"{scope}%")
        query = query.where(where)
    return [
        StoredEvent(
            r["id"],
            r["at"],
            r["type"],
            r["subject"],
            r["scope"],
            r["actor"],
            msgspec.Raw(r["payload"].encode()),
        )
        for r in await query
    ]
