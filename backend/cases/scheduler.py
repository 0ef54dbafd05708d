"""The overdue scheduler: open cases past their due time go one level up, exactly once, however
many processes run it.

Every app process runs a :class:`Scheduler`; they share the work through the database, in write
transactions of up to ``batch`` cases:

- PostgreSQL: a run claims its batch with ``SELECT … FOR UPDATE SKIP LOCKED``. A case another
  runner holds is skipped rather than waited for, and stays locked until that runner commits
  its new owner and due time, which is no longer overdue.
- SQLite: the IMMEDIATE write transaction lets one writer in at a time, so a second runner
  looks only after the first has committed.

Either way the claimed cases are read again in a statement of their own before anything is
decided: PostgreSQL re-checks a locked row's own columns, but not the subquery on the event
log below, so only a fresh read sees an overdue report committed by the runner that held it.

A case the workflow will not escalate (owned by the city already, or with no limit to give it a
new due time) stays where it is. One "case.overdue" event says so, in the owner's scope, and the
search leaves out a case with such an event newer than its due time: without that it would fill
every batch again and again, and an event needs no new column. A later due time (an approved
extension, a reopening) starts a new overdue period, reported again once it has passed.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from piccolo.columns.combination import And, WhereRaw
from piccolo.engine import Engine, PostgresEngine

from backend.cases.categories import Limits, calendar_for, limits_of
from backend.cases.records import columns_of, state_of
from backend.cases.states import OPEN, Action, Command, Transition, WorkflowError
from backend.cases.tables import Case
from backend.cases.timing import time_limit
from backend.cases.workflow import transition
from backend.core.db import write_transaction
from backend.core.events import EventType
from backend.core.territory import SYSTEM_ACTOR
from backend.emergency.service import case_factor
from backend.events.service import NewEvent, append

log = logging.getLogger("wangge.scheduler")

_OPEN = sorted(str(s) for s in OPEN)
# Scoped by owner_code, the indexed column of the event log, as the report is.
_NOT_REPORTED = WhereRaw(
    "NOT EXISTS (SELECT 1 FROM event e WHERE e.scope = case_record.owner_code"
    " AND e.subject = 'case:' || case_record.id"
    f" AND e.type = '{EventType.case_overdue}' AND e.at >= case_record.due_at)"
)


def _overdue(now: datetime) -> And:
    # A paused case (挂起) waits: its clock stands still until resume moves its due time.
    return Case.status.is_in(_OPEN) & (Case.due_at < now) & Case.paused_at.is_null() & _NOT_REPORTED


async def _claim(engine: Engine, now: datetime, batch: int) -> list[int]:
    query = Case.select(Case.id).where(_overdue(now)).order_by(Case.due_at, Case.id).limit(batch)
    if isinstance(engine, PostgresEngine):
        query = query.lock_rows("UPDATE", skip_locked=True)
    return [r["id"] for r in await query]


async def _escalation(
    row: dict[str, Any], now: datetime, limits: Limits | None, factor: float
) -> Transition:
    limit, calendar = None, None
    if limits is not None:
        limit = time_limit(limits.close, row["priority"], factor)
        calendar = await calendar_for(limits, "close", row["priority"])
    command = Command(
        Action.escalate,
        SYSTEM_ACTOR,
        now,
        reason="overdue",
        time_limit=limit,
        calendar=calendar,
    )
    return transition(state_of(row), command)


def _report(row: dict[str, Any], now: datetime, refused: WorkflowError) -> NewEvent:
    state = state_of(row)
    payload = {
        "type": "overdue",
        "status": state.status.value,
        "level": state.level.value,
        "owner_code": state.owner_code,
        "due_at": row["due_at"].isoformat(),
        "reason": refused.reason,
        "actor_id": None,
        "actor_role": SYSTEM_ACTOR.role,
        "at": now.isoformat(),
    }
    return NewEvent(EventType.case_overdue, f"case:{row['id']}", state.owner_code, payload)


async def _limits(code: str, known: dict[str, Limits | None]) -> Limits | None:
    if code not in known:
        known[code] = await limits_of(code)
    return known[code]


async def _batch(now: datetime, batch: int) -> tuple[int, list[int]]:
    """One transaction: how many cases it claimed, and the ids it escalated."""
    engine = Case._meta.db
    escalated: list[int] = []
    events: list[NewEvent] = []
    known: dict[str, Limits | None] = {}
    async with write_transaction(engine):
        claimed = await _claim(engine, now, batch)
        if not claimed:
            return 0, []
        rows = await Case.select().where(Case.id.is_in(claimed) & _overdue(now)).order_by(Case.id)
        for row in rows:
            try:
                limits = await _limits(row["category"], known)
                moved = await _escalation(row, now, limits, await case_factor(row))
            except WorkflowError as refused:
                events.append(_report(row, now, refused))
                continue
            await Case.update(
                **columns_of(moved.state), version=row["version"] + 1, updated_at=now
            ).where(Case.id == row["id"])
            subject = f"case:{row['id']}"
            events.append(
                NewEvent(EventType.case_escalate, subject, moved.state.owner_code, moved.event)
            )
            escalated.append(row["id"])
        await append(events, at=now)  # last: it holds the event clock until the commit
    return len(claimed), escalated


async def escalate_overdue(now: datetime, *, batch: int = 100) -> list[int]:
    """Escalate every open case due before ``now`` by one level; the ids this call escalated.

    Cases are taken ``batch`` at a time, each batch in a transaction of its own: SQLite's write
    lock is held briefly, and runners on PostgreSQL share a long list between them.
    """
    escalated: list[int] = []
    while True:
        claimed, done = await _batch(now, batch)
        escalated += done
        if claimed < batch:
            return escalated


class Scheduler:
    """Runs :func:`escalate_overdue` every ``interval_s`` seconds until stopped; 0 turns it off.

    Used as ``async with Scheduler(interval_s):`` around the app's life. A failed run is logged
    and the next one comes an interval later: the loop itself never dies of it.
    """

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.interval_s > 0 and self._task is None:
            self._task = asyncio.create_task(self._loop(), name="escalate-overdue")

    async def stop(self) -> None:
        """Let a run in progress commit, then end: a cancelled run would only be rolled back."""
        if self._task is None:
            return
        self._stopping.set()
        await self._task
        self._task = None

    async def run_once(self) -> list[int]:
        try:
            escalated = await escalate_overdue(datetime.now(UTC))
        except Exception:
            log.exception("escalating overdue cases failed; next try in %ss", self.interval_s)
            return []
        if escalated:
            log.info("escalated %d overdue cases: %s", len(escalated), escalated)
        return escalated

    async def _loop(self) -> None:
        # The first run waits an interval too: processes starting together do not all write.
        while not await self._stopped_within(self.interval_s):
            await self.run_once()

    async def _stopped_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def __aenter__(self) -> Scheduler:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
