"""Positions and presence of workers on duty: the object the live socket hands its "position"
and "duty" messages to (``app.state.positions``), and the HTTP side's offline uploads and
last-position reads.

Per process it knows the workers whose sockets it holds: on duty since when, in which grids,
their last accepted fix (for the jump check). An accepted fix goes to the last-position store,
to the track buffer, and to the hub, under the grid it is shown in: the grid the fix lies in if
the worker holds a post there, else their home grid (the first of their posts, leader before
police before full-time before part-time). The hub batches fixes: each subscriber gets one
frame an interval with the newest fix of every worker that moved in its scope
(backend/live/batch.py).

A worker with two sockets open is one worker: "duty off" or either socket closing ends their
duty; the other socket says "duty on" again to resume.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from backend.core.areas import level_of_code
from backend.core.db import write_transaction
from backend.core.errors import Forbidden, Invalid
from backend.core.principal import Principal
from backend.core.roles import GRID_ROLES, Role
from backend.core.territory import Territory
from backend.grids.service import GridIndex
from backend.live.schemas import Moved
from backend.positions.batch import chain, read_batch
from backend.positions.checks import LIVE_MAX_AGE, Fix, Rejected, check
from backend.positions.schemas import BatchOut, LatestOut
from backend.positions.store import Position, Presence, Store
from backend.positions.tables import DutyPeriod, TrackPoint
from backend.positions.tracks import TrackWriter, row_of, write_rows


class Hub(Protocol):
    def broadcast(self, scope: str, message: dict[str, Any]) -> None: ...

    def moved(self, fix: Moved) -> None: ...


@dataclass
class OnDuty:
    name: str
    grids: tuple[str, ...]  # home grid first
    period: int  # the duty_period row
    last: Fix | None


def _now() -> datetime:
    return datetime.now(UTC)


def error(code: str, reason: str, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "code": code, "reason": reason, **extra}


def grids_of(territory: Territory) -> tuple[str, ...]:
    """The grids where the person holds a post, home grid first."""
    home = territory.home_grid
    return () if home is None else (home, *sorted(territory.grid_codes - {home}))


def _fix_of(position: Position | None) -> Fix | None:
    if position is None:
        return None
    return Fix(position.lon, position.lat, position.accuracy, position.at)


class Positions:
    def __init__(
        self,
        store: Store,
        tracks: TrackWriter,
        hub: Callable[[], Hub | None],
        grid_index: Callable[[], GridIndex | None],
        clock: Callable[[], datetime] = _now,
    ) -> None:
        """``hub`` and ``grid_index`` are looked up at each use: the live core may set up its
        hub after this object, and an import replaces the grid index."""
        self.store = store
        self.tracks = tracks
        self._hub = hub
        self._grid_index = grid_index
        self._clock = clock
        self.on_duty: dict[int, OnDuty] = {}
        # Per person: a worker's duty messages are taken one at a time, others' meanwhile.
        self._duty_locks: dict[int, asyncio.Lock] = {}

    # -- the live socket's side -----------------------------------------------------------

    async def on_message(self, principal: Principal, message: dict[str, Any]) -> dict | None:
        """Handle a "position" or "duty" message; an error message for the sender, or None."""
        if principal.role not in GRID_ROLES:
            return error("forbidden", f"a {principal.role} does not share a position")
        kind = message.get("type")
        if kind == "position":
            return self._position(principal, message)
        if kind == "duty":
            on = message.get("on")
            if not isinstance(on, bool):
                return error("bad_message", 'a duty message needs "on": true or false')
            return await (self._duty_on(principal) if on else self._duty_off(principal.id))
        return error("bad_message", f"positions handle position and duty, not {kind!r}")

    async def on_disconnect(self, principal: Principal) -> None:
        if principal.role in GRID_ROLES:
            await self._duty_off(principal.id)

    def _position(self, principal: Principal, message: dict[str, Any]) -> dict | None:
        worker = self.on_duty.get(principal.id)
        if worker is None:
            return error("not_on_duty", 'send {"type": "duty", "on": true} first')
        now = self._clock()
        try:
            fix = check(message, worker.last, now, LIVE_MAX_AGE)
        except Rejected as no:
            return error("bad_position", no.reason, check=no.code)
        worker.last = fix
        grid = self._grid_for(worker.grids, fix)
        position = Position(
            principal.id, worker.name, grid, fix.lon, fix.lat, fix.accuracy, fix.at, now
        )
        self.store.put_position(position)
        self.tracks.add(principal.id, fix)
        if (hub := self._hub()) is not None:
            at = fix.at.isoformat()
            hub.moved(Moved(principal.id, worker.name, grid, fix.lon, fix.lat, fix.accuracy, at))
        return None

    def _grid_for(self, grids: tuple[str, ...], fix: Fix) -> str:
        if len(grids) > 1 and (index := self._grid_index()) is not None:
            found = index.locate(fix.lon, fix.lat)
            if found is not None and found.grid.code in grids:
                return found.grid.code
        return grids[0]

    async def _duty_on(self, principal: Principal) -> dict | None:
        async with self._duty_locks.setdefault(principal.id, asyncio.Lock()):
            worker = self.on_duty.get(principal.id)
            if worker is not None:
                # On duty here already; their other socket, on another process, may have
                # closed and ended the duty there: then this "duty on" resumes it.
                stored = await self.store.presence_of(principal.id)
                if stored is None or not stored.on_duty:
                    await self._presence(
                        principal.id, worker.name, worker.grids[0], True, self._clock()
                    )
                return None
            grids = grids_of(principal.territory)
            if not grids:
                return error("no_grid", "you hold no post in any grid")
            now = self._clock()
            async with write_transaction(DutyPeriod._meta.db):
                rows = await DutyPeriod.insert(
                    DutyPeriod(person=principal.id, started_at=now)
                ).returning(DutyPeriod.id)
            last = _fix_of(await self.store.position_of(principal.id))
            self.on_duty[principal.id] = OnDuty(principal.name, grids, rows[0]["id"], last)
            await self._presence(principal.id, principal.name, grids[0], True, now)
        return None

    async def _duty_off(self, person: int) -> None:
        async with self._duty_locks.setdefault(person, asyncio.Lock()):
            worker = self.on_duty.pop(person, None)
            if worker is None:
                return None
            now = self._clock()
            async with write_transaction(DutyPeriod._meta.db):
                await DutyPeriod.update({DutyPeriod.ended_at: now}).where(
                    DutyPeriod.id == worker.period
                )
            await self._presence(person, worker.name, worker.grids[0], False, now)
        return None

    async def _presence(self, person: int, name: str, grid: str, on: bool, now: datetime) -> None:
        await self.store.put_presence(Presence(person, name, grid, on, now))
        message = {
            "type": "presence",
            "person": person,
            "name": name,
            "grid": grid,
            "on_duty": on,
            "last_seen": now.isoformat(),
        }
        if (hub := self._hub()) is not None:
            hub.broadcast(grid, message)

    # -- the HTTP side --------------------------------------------------------------------

    async def upload(self, principal: Principal, items: Sequence[Any]) -> BatchOut:
        """Fixes collected offline: checked one by one in time order, new ones stored."""
        if principal.role not in GRID_ROLES:
            raise Forbidden("forbidden", f"a {principal.role} does not share a position")
        worker = self.on_duty.get(principal.id)
        grids = worker.grids if worker is not None else grids_of(principal.territory)
        if not grids:
            raise Forbidden("no_grid", "you hold no post in any grid")
        now = self._clock()
        timed, rejected = read_batch(items, now)
        previous = await self._stored_before(principal.id, timed[0][0]) if timed else None
        accepted, repeated, refused = chain(timed, previous, now)
        stored = await write_rows([row_of(principal.id, f) for f in accepted])
        if accepted:
            newest = accepted[-1]
            grid = self._grid_for(grids, newest)
            self.store.put_position(
                Position(
                    principal.id,
                    principal.name,
                    grid,
                    newest.lon,
                    newest.lat,
                    newest.accuracy,
                    newest.at,
                    now,
                )
            )
            await self.store.flush()
        problems = sorted(rejected + refused, key=lambda r: r.index)
        return BatchOut(stored, repeated + len(accepted) - stored, problems)

    async def _stored_before(self, person: int, at: datetime) -> Fix | None:
        row = (
            await TrackPoint.select(
                TrackPoint.lon, TrackPoint.lat, TrackPoint.accuracy, TrackPoint.at
            )
            .where((TrackPoint.person == person) & (TrackPoint.at <= at))
            .order_by(TrackPoint.at, ascending=False)
            .first()
        )
        return None if row is None else Fix(row["lon"], row["lat"], row["accuracy"], row["at"])

    async def latest(self, principal: Principal, scope: str) -> LatestOut:
        try:
            level_of_code(scope)
        except ValueError:
            raise Invalid(
                "invalid_scope", f"scope must be an area or grid code, not {scope!r}"
            ) from None
        if principal.role == Role.resident or not principal.territory.covers(scope):
            raise Forbidden("forbidden", f"scope {scope} is outside your area")
        await self.store.flush()
        return LatestOut(scope, await self.store.latest(scope))

    # -- life -----------------------------------------------------------------------------

    async def close(self) -> None:
        """End every duty this process holds, then write what is buffered."""
        try:
            for person in list(self.on_duty):
                await self._duty_off(person)
        finally:
            try:
                await self.tracks.close()
            finally:
                await self.store.close()
