"""The hub: one per process. It follows the event log and fans every event out to the sockets
whose subscription covers it, and spreads transient messages (positions, presence).

Following the log: a write transaction that appended events wakes the hub after its commit
(backend.core.db.on_events_committed), and through Redis the hubs of the other processes; the hub
then reads what is new once, whoever listens, and hands each event, encoded once, to its
subscribers. With no wake-up it looks anyway every ``poll_s`` seconds. ``head`` is the newest
id handed out: ids become visible in commit order, so nothing below it can still appear.

A subscription is found by code prefix: for an event's scope the hub looks up each prefix
length in use, so the cost of an event is that of the sockets that get it. A socket also
follows the cases of its person (access.py) by subject.

Worker positions are not sent one by one: the hub keeps the newest fix of each worker that
moved (``moved``), and once every ``positions_s`` seconds sends each live subscriber one
``positions`` frame with the workers that moved in its scope and viewport (batch.py). The
fixes taken by this process go to the other processes once an interval too, in one message,
and join their next pass.

Subscribing with ``after`` replays from the database up to the hub's head at that moment, while
the hub holds back the newer events that match; then those, then live: no gap, no duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import msgspec
from piccolo.engine import Engine

from backend.auth.service import Revoked, TokenClaims, forget_people, forget_token
from backend.calendar import service as calendar
from backend.cases.service import forget_categories
from backend.core.db import on_events_committed
from backend.core.events import EventType
from backend.core.principal import Principal
from backend.events.service import (
    AREA_WIDE,
    StoredEvent,
    after_on,
    between,
    head,
    of_types_after_on,
)
from backend.live.access import becomes_personal
from backend.live.batch import Pass, newer
from backend.live.connection import TOO_SLOW, UNAUTHENTICATED, Connection, FrameSend
from backend.live.messages import Bbox, Frame, event_frame, frame
from backend.live.relay import Relay
from backend.live.schemas import Moved

log = logging.getLogger("wangge.live")
_encode_moved = msgspec.json.Encoder().encode

PAGE = 1000
LAYER_EVENTS = frozenset(
    {
        EventType.grids_changed,
        EventType.areas_changed,
        EventType.buildings_changed,
        EventType.points_changed,
    }
)

# What a process keeps of others' changes, which it must hear of with no socket open: the
# events ``Hub._deliver`` acts on besides sending them.
KEPT_EVENTS = LAYER_EVENTS | {
    EventType.auth_revoked,
    EventType.calendar_changed,
    EventType.category_changed,
}

# How long a hub with no socket lets commits gather before it reads them.
LATE_S = 0.05


class Hub:
    def __init__(
        self,
        engine: Engine,
        *,
        backlog: int = 256,
        poll_s: float = 1.0,
        positions_s: float = 1.0,
        backlog_bytes: int = 8 << 20,
        redis_url: str | None = None,
        channel: str = "wangge:live",
        on_layers_changed: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.head = 0
        self._engine = engine
        self._backlog = backlog
        self._poll_s = poll_s
        self._positions_s = positions_s
        self._backlog_bytes = backlog_bytes
        self._on_layers_changed = on_layers_changed
        self._relay = (
            Relay(redis_url, channel, self._heard, self._spread_text, self._heard_moved)
            if redis_url
            else None
        )
        # Workers that moved since the last pass, newest fix each; and those of them whose fix
        # this process took, for the other processes.
        self._moved: dict[int, Moved] = {}
        self._moved_here: dict[int, Moved] = {}
        self._moved_decoder = msgspec.json.Decoder(list[Moved])
        self._all: set[Connection] = set()
        self._by_prefix: dict[str, set[Connection]] = {}
        self._lengths: tuple[int, ...] = ()
        self._by_subject: dict[str, set[Connection]] = {}
        self._by_person: dict[int, set[Connection]] = {}
        # Every open socket by person, subscribed or not: for revocations.
        self._sockets: dict[int, set[Connection]] = {}
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._reload: asyncio.Task[None] | None = None
        self._reload_again = False
        self._stop_listening: Callable[[], None] = lambda: None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.head = await head()
        self._stop_listening = on_events_committed(self._committed)
        if self._relay is not None:
            await self._relay.start()
        self._tasks.append(asyncio.create_task(self._follow(), name="live-hub"))
        self._tasks.append(asyncio.create_task(self._send_positions(), name="live-positions"))

    async def close(self) -> None:
        self._stop_listening()
        for task in [*self._tasks, self._reload]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._relay is not None:
            await self._relay.close()

    # -- sockets and subscriptions --------------------------------------------------------

    @property
    def open_sockets(self) -> int:
        """Sockets given out by :meth:`connection` and not yet given back."""
        return sum(map(len, self._sockets.values()))

    def connection(
        self, send: FrameSend, principal: Principal, token: TokenClaims | None = None
    ) -> Connection:
        """A socket of ``principal``, authenticated by ``token``: from now on a revocation of
        the token read from the log closes it with 4401. Give it back with ``disconnect``."""
        conn = Connection(send, principal, self._backlog, self._closed, token, self._backlog_bytes)
        self._sockets.setdefault(principal.id, set()).add(conn)
        return conn

    def disconnect(self, conn: Connection) -> None:
        self.remove(conn)
        self._discard(self._sockets, conn.principal.id, conn)

    async def subscribe(
        self,
        conn: Connection,
        codes: tuple[str, ...],
        prefixes: tuple[str, ...],
        since: int | None,
        personal: Callable[[], Awaitable[set[str]]],
        bbox: Bbox | None = None,
    ) -> None:
        """(Re)subscribe ``conn`` to ``prefixes`` and its person's cases: replay the events
        after ``since`` (None: from now on), then live. The client's earlier subscription on
        this socket ends. ``bbox``: the viewport its positions are limited to."""
        await conn.drained()
        self.remove(conn)
        if not self._all:
            # The first socket: what was committed before it came is not for it.
            await self._catch_up()
        if conn.closed:
            return
        conn.codes, conn.prefixes, conn.subjects, conn.bbox = codes, prefixes, set(), bbox
        conn.live, conn.upto, conn.pending = False, None, []
        self._register(conn)
        # From here on the hub adds the cases that become the person's; these are the others.
        subjects = await personal()
        if conn not in self._all:
            return
        self._follow_subjects(conn, subjects)
        upto = conn.upto = self.head
        cursor = upto if since is None else since
        if cursor > upto and cursor > await head():
            # Ahead of the whole log: a cursor from before the database was reset.
            since, cursor = None, upto
        hello = {
            "type": "subscribed",
            "scopes": list(codes),
            "bbox": None if bbox is None else list(bbox),
            "after": since,
            "head": upto,
        }
        await conn.write(frame(hello))
        while cursor < upto and not conn.closed:
            rows = await between(cursor, upto, conn.prefixes, conn.subjects, PAGE)
            for e in rows:
                await conn.write(event_frame(e))
            if len(rows) < PAGE:
                break
            cursor = rows[-1].id
        if conn.closed:
            return
        cursor = max(cursor, upto)
        for eid, message in conn.pending:
            if eid > cursor:
                cursor = eid
                conn.put(message)
        conn.cursor, conn.live, conn.upto, conn.pending = cursor, True, None, []

    def remove(self, conn: Connection) -> None:
        if conn not in self._all:
            return
        self._all.discard(conn)
        for p in conn.prefixes:
            self._discard(self._by_prefix, p, conn)
        for s in conn.subjects:
            self._discard(self._by_subject, s, conn)
        self._discard(self._by_person, conn.principal.id, conn)
        self._lengths = tuple(sorted({len(p) for p in self._by_prefix}))

    def _register(self, conn: Connection) -> None:
        self._all.add(conn)
        for p in conn.prefixes:
            self._by_prefix.setdefault(p, set()).add(conn)
        self._by_person.setdefault(conn.principal.id, set()).add(conn)
        self._lengths = tuple(sorted({len(p) for p in self._by_prefix}))

    def _follow_subjects(self, conn: Connection, subjects: Iterable[str]) -> None:
        for s in subjects:
            if s not in conn.subjects:
                conn.subjects.add(s)
                self._by_subject.setdefault(s, set()).add(conn)

    @staticmethod
    def _discard(index: dict[Any, set[Connection]], key: Any, conn: Connection) -> None:
        members = index.get(key)
        if members is not None:
            members.discard(conn)
            if not members:
                del index[key]

    def _closed(self, conn: Connection) -> None:
        # Called from inside a fan-out loop: the sets must not change under it.
        asyncio.get_running_loop().call_soon(self.disconnect, conn)

    # -- transient messages ---------------------------------------------------------------

    def broadcast(self, scope: str, message: dict[str, Any]) -> None:
        """Send ``message`` to every live subscriber, in every process, whose subscription
        covers ``scope``. Never waits."""
        out = frame(message)
        self._spread(scope, out)
        if self._relay is not None:
            self._relay.send(scope, out["text"])

    def _spread_text(self, scope: str, text: str) -> None:
        self._spread(scope, {"type": "websocket.send", "text": text})

    def _spread(self, scope: str, out: Frame) -> None:
        for n in self._lengths:
            if n > len(scope):
                break
            for conn in self._by_prefix.get(scope[:n], ()):
                if conn.live:
                    conn.put(out)

    # -- positions --------------------------------------------------------------------------

    def moved(self, fix: Moved) -> None:
        """A worker's fix taken by this process: in the next pass here and, through Redis,
        in the other processes'. Never waits."""
        if newer(self._moved.get(fix.person), fix):
            self._moved[fix.person] = fix
        if self._relay is not None:
            self._moved_here[fix.person] = fix

    def _heard_moved(self, data: bytes) -> None:
        """Fixes another process took in its last interval."""
        try:
            fixes = self._moved_decoder.decode(data)
        except msgspec.DecodeError:
            log.warning("unreadable positions from another process")
            return
        for fix in fixes:
            if newer(self._moved.get(fix.person), fix):
                self._moved[fix.person] = fix

    async def _send_positions(self) -> None:
        while True:
            await asyncio.sleep(self._positions_s)
            try:
                self.send_positions()
            except Exception:
                log.exception("sending positions failed")

    def send_positions(self) -> None:
        """One pass: every live subscriber gets one frame with the workers that moved in its
        scope and viewport since the last pass (none if none did)."""
        if self._moved_here and self._relay is not None:
            self._relay.send_moved(_encode_moved(list(self._moved_here.values())))
            self._moved_here = {}
        if not self._moved:
            return
        batch = Pass(self._moved.values(), self._lengths)
        self._moved = {}
        for conn in self._all:
            if conn.live and conn.prefixes:
                out = batch.frame(conn.prefixes, conn.bbox)
                if out is not None:
                    conn.put(out)

    # -- following the log ----------------------------------------------------------------

    def _committed(self, engine: Engine, newest: int) -> None:
        if engine is not self._engine or self._loop is None:
            return
        if asyncio.get_running_loop() is not self._loop:
            self._loop.call_soon_threadsafe(self._committed, engine, newest)
            return
        self._heard(newest)
        if self._relay is not None:
            self._relay.announce(newest)

    def _heard(self, newest: int) -> None:
        """A wake-up: events up to ``newest`` are committed (0: something may be)."""
        if newest == 0 or newest > self.head:
            self._wake.set()

    async def _follow(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_s):
                    await self._wake.wait()
            self._wake.clear()
            if not self._all:
                # Nobody to tell: a burst of commits is read at once (a read per commit cost a
                # create 6% of its CPU); what this process keeps follows within LATE_S.
                await asyncio.sleep(LATE_S)
                self._wake.clear()
            try:
                while True:
                    if self._all:
                        rows = await after_on(self._engine, self.head, PAGE)
                        read = len(rows)
                        for e in rows:
                            self._deliver(e)
                            # A page of events to hundreds of screens is a long run of sends:
                            # the loop takes its other work between events (a request shed
                            # waits no longer than one event's fan-out).
                            await asyncio.sleep(0)
                    else:
                        skimmed = await self._skim()
                        if skimmed is None:  # a socket came meanwhile: read these again, whole
                            continue
                        read = skimmed
                    if read < PAGE:
                        break
            except Exception:
                log.exception("reading the event log failed; trying again")
                await asyncio.sleep(self._poll_s)

    async def _skim(self) -> int | None:
        """With no socket: read the next page of the log for the events that change what this
        process keeps only, and move on past it; how many events it held (None: a socket came
        meanwhile, and nothing was taken)."""
        kept, last, read = await of_types_after_on(self._engine, self.head, KEPT_EVENTS, PAGE)
        if self._all:
            return None
        for e in kept:
            self._deliver(e)
        self.head = max(self.head, last)
        return read

    async def _catch_up(self) -> None:
        """With no socket: move on to the end of the log, taking what this process keeps."""
        while not self._all:
            if await self._skim() != PAGE:
                return

    def _deliver(self, e: StoredEvent) -> None:
        if e.type == EventType.auth_revoked:
            self._revoked(e)
        elif e.type == EventType.calendar_changed:
            calendar.forget()  # maybe changed by another process: due times follow at once
        elif e.type == EventType.category_changed:
            forget_categories()
        person = becomes_personal(e)
        if person is not None:
            for conn in self._by_person.get(person, ()):
                self._follow_subjects(conn, (e.subject,))
        if e.type in LAYER_EVENTS:
            self._layers_changed()
        out = event_frame(e)
        eid, scope = e.id, e.scope
        for n in self._lengths:
            if n > len(scope):
                break
            for conn in self._by_prefix.get(scope[:n], ()):
                self._give(conn, eid, out)
        if e.type in AREA_WIDE:
            # Rare, and about everything inside the area: grids and communities under it too.
            for prefix, conns in list(self._by_prefix.items()):
                if len(prefix) > len(scope) and prefix.startswith(scope):
                    for conn in conns:
                        self._give(conn, eid, out)
        for conn in self._by_subject.get(e.subject, ()):
            self._give(conn, eid, out)
        self.head = eid

    def _revoked(self, e: StoredEvent) -> None:
        """Tokens were revoked, maybe by another process: forget what this process keeps of
        them and close their sockets."""
        try:
            revoked = msgspec.json.decode(e.payload, type=Revoked)
        except msgspec.DecodeError:
            log.warning("event %s: unreadable %s payload", e.id, EventType.auth_revoked)
            return
        if revoked.jti is not None:
            forget_token(revoked.person, revoked.jti)
        else:
            forget_people({revoked.person})
        reason = "signed out" if revoked.why == "sign_out" else f"token revoked ({revoked.why})"
        for conn in list(self._sockets.get(revoked.person, ())):
            if conn.token is not None and revoked.voids(conn.token):
                conn.close(UNAUTHENTICATED, f"{reason}: sign in again")

    def _give(self, conn: Connection, eid: int, out: Frame) -> None:
        """One event to one socket, once: a socket may match it by scope and by subject."""
        if conn.live:
            if eid > conn.cursor:
                conn.cursor = eid
                conn.put(out)
        elif not conn.pending or conn.pending[-1][0] < eid:
            self._hold(conn, eid, out)

    @staticmethod
    def _hold(conn: Connection, eid: int, out: Frame) -> None:
        """An event for a socket still replaying: kept until the replay reaches ``upto``."""
        if conn.upto is None or eid <= conn.upto or conn.closed:
            return
        if len(conn.pending) >= conn.limit:
            conn.close(TOO_SLOW, "too slow: reconnect and resume with after")
        else:
            conn.pending.append((eid, out))

    def _layers_changed(self) -> None:
        if self._on_layers_changed is None:
            return
        self._reload_again = True
        if self._reload is None or self._reload.done():
            self._reload = asyncio.create_task(self._reload_layers(), name="live-layers")

    async def _reload_layers(self) -> None:
        assert self._on_layers_changed is not None
        while self._reload_again:
            self._reload_again = False
            try:
                await self._on_layers_changed()
            except Exception:
                log.exception("reloading the grid index failed")
