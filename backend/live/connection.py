"""One socket's sending side, built for fan-out: no task and no queue while the client keeps up.

``put`` starts the ASGI send by hand. While the client reads, the server's send returns without
waiting (uvicorn writes the frame into the transport and is done), so a fan-out to thousands is
one loop of plain calls. When the transport's buffer is full the send would wait: only then does
the connection get a task of its own, which finishes that send and drains a backlog of later
messages, and a backlog that reaches ``limit`` messages or ``limit_bytes`` of text closes the
socket with 4408 ("too slow: resume"): memory held for a client that stopped reading is bounded
(a city-wide positions frame can be a few hundred KB).
A client that stalls never holds up the loop that serves the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from backend.auth.service import TokenClaims
from backend.core.principal import Principal
from backend.live.messages import Bbox, Frame

log = logging.getLogger("wangge.live")

UNAUTHENTICATED, TOO_SLOW = 4401, 4408

# The server's ASGI send as a connection uses it: given plain-dict frames (Litestar types ASGI
# messages as TypedDicts), and an ``async def``, whose coroutine ``put`` steps by hand.
FrameSend = Callable[[Frame], Awaitable[None]]


class Connection:
    __slots__ = (
        "_backlog_bytes",
        "_closer",
        "_drainer",
        "_gone",
        "_send",
        "backlog",
        "bbox",
        "closed",
        "codes",
        "cursor",
        "limit",
        "limit_bytes",
        "live",
        "pending",
        "prefixes",
        "principal",
        "subjects",
        "token",
        "upto",
    )

    def __init__(
        self,
        send: FrameSend,
        principal: Principal,
        limit: int,
        gone: Callable[[Connection], None],
        token: TokenClaims | None = None,
        limit_bytes: int = 8 << 20,
    ) -> None:
        self._send = send
        self.principal = principal
        self.token = token  # what authenticated the socket: a revocation of it closes it
        self.limit = limit
        self.limit_bytes = limit_bytes
        self._backlog_bytes = 0
        self._gone = gone  # told once, when the connection closes or is lost
        self.backlog: deque[Frame] | None = None  # None while the client keeps up
        self._drainer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self.closed = False
        # The subscription, kept by the hub.
        self.codes: tuple[str, ...] = ()
        self.prefixes: tuple[str, ...] = ()
        self.subjects: set[str] = set()
        self.bbox: Bbox | None = None  # the viewport positions are limited to
        self.cursor = 0  # the newest event id handed to this client
        self.live = False
        self.upto: int | None = None  # while replaying: the hub holds back events after this
        self.pending: list[tuple[int, Frame]] = []

    def put(self, message: Frame) -> None:
        """Send ``message`` now if the client keeps up, else queue it; never waits."""
        if self.closed:
            return
        if self.backlog is not None:
            size = len(message.get("text") or "")
            if len(self.backlog) >= self.limit or self._backlog_bytes + size > self.limit_bytes:
                self.close(TOO_SLOW, "too slow: reconnect and resume with after")
            else:
                self.backlog.append(message)
                self._backlog_bytes += size
            return
        sending = self._send(message)
        try:
            if not inspect.iscoroutine(sending):
                raise TypeError(
                    f"the server's send gave a {type(sending).__name__}, not a coroutine"
                )
            waiting = sending.send(None)
        except StopIteration:
            return
        except Exception as exc:
            self._lost(exc)
            return
        self.backlog = deque()
        self._drainer = asyncio.create_task(self._drain(sending, waiting))

    async def write(self, message: Frame) -> None:
        """Send ``message`` after whatever waits, waiting for the client (replays use it)."""
        await self.drained()
        if self.closed:
            return
        try:
            await self._send(message)
        except Exception as exc:
            self._lost(exc)

    async def drained(self) -> None:
        while self.backlog is not None and self._drainer is not None and not self.closed:
            await asyncio.wait((self._drainer,))

    def close(self, code: int, reason: str) -> None:
        """Stop sending and close the socket with ``code``; what was queued is dropped (the
        client resumes from the last event it got)."""
        if self.closed:
            return
        self._shut()
        self._closer = asyncio.create_task(self._send_close(code, reason))

    async def finish(self) -> None:
        """Wait for the closing frame to be written (the client may first have to read)."""
        if self._closer is not None:
            await asyncio.wait((self._closer,))

    def _shut(self) -> None:
        self.closed = True
        self.backlog = None
        self._backlog_bytes = 0
        self.pending = []
        if self._drainer is not None:
            self._drainer.cancel()
        self._gone(self)

    def _lost(self, exc: BaseException) -> None:
        log.debug("live socket of person %s lost: %r", self.principal.id, exc)
        if not self.closed:
            self._shut()

    async def _drain(self, sending: Coroutine[Any, Any, None], waiting: Any) -> None:
        try:
            await _finish(sending, waiting)
            while self.backlog:
                message = self.backlog.popleft()
                self._backlog_bytes -= len(message.get("text") or "")
                await self._send(message)
            self.backlog = None
            self._backlog_bytes = 0
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._lost(exc)

    async def _send_close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):  # gone already: nothing to tell
            await self._send({"type": "websocket.close", "code": code, "reason": reason})


async def _finish(coroutine: Coroutine[Any, Any, None], waiting: Any) -> None:
    """Run to its end a coroutine that was started by hand and stopped at ``waiting`` (the
    future it awaits, or None for a bare yield), stepping it as an asyncio task would."""
    try:
        while True:
            if waiting is None:
                await asyncio.sleep(0)
            else:
                await asyncio.wait((waiting,))
            waiting = coroutine.send(None)
    except StopIteration:
        return
    finally:
        coroutine.close()
