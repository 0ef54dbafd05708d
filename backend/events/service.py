"""Appending to the event log inside a write, and reading it back after a cursor."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import msgspec
from piccolo.custom_types import Combinable
from piccolo.engine import Engine

from backend.core import clock
from backend.core.db import note_appended, raw, raw_on
from backend.core.events import EventType
from backend.events.tables import Event, EventClock

# Events about everything inside their scope (an area switched to emergency): subscribers of
# the grids and areas below it hear them too, not only those of the area and above.
AREA_WIDE = frozenset({EventType.mode_changed})


@dataclass(frozen=True)
class NewEvent:
    type: EventType
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


_COLUMNS = ("id", "at", "type", "subject", "scope", "actor", "payload")
CHUNK = 1_000  # events per INSERT statement


# One plain statement, as for cases (backend.cases.records.insert_new): Piccolo's insert builds
# a Table object per row first. By number of events: one or a few, but a switch of mode
# writes one per case in its area.
@lru_cache(maxsize=8)
def _insert_sql(count: int) -> str:
    names = ", ".join(f'"{c}"' for c in _COLUMNS)
    row = "(" + ", ".join("{}" for _ in _COLUMNS) + ")"
    return f'INSERT INTO "{Event._meta.tablename}" ({names}) VALUES ' + ", ".join([row] * count)


async def append(events: Sequence[NewEvent], at: datetime | None = None) -> list[int]:
    """Write ``events`` with the next ids; call it last in the caller's write transaction.
    ``at``: the moment they happened, if the caller acted on one (the workflow's, which the
    case row keeps too); else now.

    Moving the clock locks its row until the transaction ends, so a concurrent writer gets
    later ids and commits after this one: readers never see id N+1 before id N.
    """
    if not events:
        return []
    if Event._meta.db.current_transaction.get() is None:
        raise RuntimeError("events are appended inside the write that caused them")
    rows = await raw(
        EventClock, "UPDATE event_clock SET last = last + {} RETURNING last", len(events)
    )
    last = rows[0]["last"]
    ids = list(range(last - len(events) + 1, last + 1))
    # The moment the workflow acted on: what the assessment counts by. The ids, not these
    # times, are the stream's order.
    now = clock.now() if at is None else at
    # In chunks: a statement takes at most 32,766 parameters on SQLite, 65,535 on PostgreSQL.
    for start in range(0, len(events), CHUNK):
        values: list[Any] = []
        for i, e in zip(ids[start : start + CHUNK], events[start : start + CHUNK], strict=True):
            payload = msgspec.json.encode(e.payload).decode()
            values += (i, now, str(e.type), e.subject, e.scope, e.actor, payload)
        await raw(Event, _insert_sql(len(values) // len(_COLUMNS)), *values)
    note_appended(last)
    return ids


async def head() -> int:
    """The newest committed event id (0 for an empty log)."""
    rows = await EventClock.select(EventClock.last)
    return rows[0]["last"] if rows else 0


async def after(cursor: int, scopes: Sequence[str] = (), limit: int = 1000) -> list[StoredEvent]:
    """Events with id > ``cursor``, oldest first, limited to those under ``scopes`` (code
    prefixes; none means all)."""
    _check_scopes(scopes)
    query = Event.select().where(Event.id > cursor).order_by(Event.id).limit(limit)
    if scopes:
        query = query.where(_under(scopes))
    return _stored(await query)


# The log after a cursor, as a hub reads it after every commit: through the engine of the
# database it serves, whatever engine the tables are bound to in this process, as a statement
# compiled once (db.raw_on).
_AFTER_SQL = (
    'SELECT "id", "at", "type", "subject", "scope", "actor", "payload" FROM "event" '
    'WHERE "id" > {} ORDER BY "id" LIMIT {}'
)


async def after_on(engine: Engine, cursor: int, limit: int = 1000) -> list[StoredEvent]:
    """:func:`after` with no scopes, read through ``engine`` itself."""
    return _stored(await raw_on(engine, _AFTER_SQL, cursor, limit))


_TYPES_SQL = 'SELECT "id", "type" FROM "event" WHERE "id" > {} ORDER BY "id" LIMIT {}'


async def of_types_after_on(
    engine: Engine, cursor: int, types: Collection[str], limit: int = 1000
) -> tuple[list[StoredEvent], int, int]:
    """Of the next ``limit`` events after ``cursor``, those of ``types`` (whole); the id of the
    last event read (``cursor`` if none) and how many were read. Read as ids and types first:
    a hub with nobody to tell needs the few that change what its process keeps."""
    rows = await raw_on(engine, _TYPES_SQL, cursor, limit)
    if not rows:
        return [], cursor, 0
    kept: list[StoredEvent] = []
    for row in rows:
        if row["type"] in types:  # rare: a revocation, a calendar or layers changed
            kept += _stored(await raw_on(engine, _AFTER_SQL, row["id"] - 1, 1))
    return kept, rows[-1]["id"], len(rows)


async def between(
    cursor: int,
    upto: int,
    scopes: Sequence[str],
    subjects: Collection[str],
    limit: int = 1000,
) -> list[StoredEvent]:
    """Events with ``cursor`` < id <= ``upto``, oldest first, that lie under one of ``scopes``
    (code prefixes), are area-wide events of an area above one, or are about one of
    ``subjects`` (such as "case:42"); with neither, none.

    A live subscriber's replay: what it missed, bounded by what its hub has already seen.
    """
    _check_scopes(scopes)
    if cursor >= upto or not (scopes or subjects):
        return []
    where: Combinable | None = None
    if scopes:
        above = sorted({s[:n] for s in scopes for n in range(1, len(s))})
        where = _under(scopes)
        if above:
            where = where | (Event.type.is_in(sorted(AREA_WIDE)) & Event.scope.is_in(above))
    if subjects:
        about = Event.subject.is_in(sorted(subjects))
        where = about if where is None else where | about
    if where is None:  # not reached: no scopes and no subjects returned above
        return []
    query = (
        Event.select()
        .where((Event.id > cursor) & (Event.id <= upto))
        .where(where)
        .order_by(Event.id)
        .limit(limit)
    )
    return _stored(await query)


def _check_scopes(scopes: Sequence[str]) -> None:
    if not all(s.isdigit() for s in scopes):
        raise ValueError("scopes are area or grid codes, digits only")


def _under(scopes: Sequence[str]) -> Combinable:
    where: Combinable = Event.scope.like(f"{scopes[0]}%")
    for scope in scopes[1:]:
        where = where | Event.scope.like(f"{scope}%")
    return where


def _stored(rows: list[dict[str, Any]]) -> list[StoredEvent]:
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
        for r in rows
    ]
