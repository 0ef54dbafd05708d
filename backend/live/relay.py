"""Redis pub/sub between the server processes: wake-ups and transient messages, nothing more.

A process that commits events publishes the newest id; every other process's hub hears it and
reads the new events from the database (the event log is the truth: pub/sub keeps no history,
and a wake-up lost while Redis was away is made good by the hub's periodic look at the log).
Transient messages (presence) travel whole: they exist nowhere else, and one lost while Redis
is away stays lost. Positions travel as one message per process an interval: the fixes it took
(backend/live/batch.py), which the other hubs add to their next pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Callable

import msgspec
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

log = logging.getLogger("wangge.live")

# Transient messages kept for Redis while it does not answer; older ones are dropped.
MAX_WAITING = 10_000
RETRY_S = 1.0


class _Wire(msgspec.Struct, omit_defaults=True):
    o: str  # the process that sent it, which ignores its own
    h: int = 0  # a wake-up: the newest committed event id
    s: str = ""  # a transient message: the scope it is for,
    t: str = ""  # and its text
    m: str = ""  # positions: the JSON list of the fixes the sender took in its last interval


class Relay:
    def __init__(
        self,
        url: str,
        channel: str,
        on_head: Callable[[int], None],
        on_message: Callable[[str, str], None],
        on_moved: Callable[[bytes], None],
    ) -> None:
        self._redis = Redis.from_url(url)
        self._channel = channel
        self._on_head = on_head
        self._on_message = on_message
        self._on_moved = on_moved
        self._origin = uuid.uuid4().hex
        self._waiting: deque[bytes] = deque(maxlen=MAX_WAITING)
        self._head = 0
        self._kick = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Subscribe before returning: a process serves only once it hears the others."""
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self._channel)
        self._tasks = [
            asyncio.create_task(self._listen(pubsub), name="live-relay-listen"),
            asyncio.create_task(self._publish(), name="live-relay-publish"),
        ]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._redis.aclose()

    def announce(self, head: int) -> None:
        """Tell the other processes that events up to ``head`` are committed."""
        if head > self._head:
            self._head = head
            self._kick.set()

    def send(self, scope: str, text: str) -> None:
        self._waiting.append(msgspec.json.encode(_Wire(self._origin, s=scope, t=text)))
        self._kick.set()

    def send_moved(self, fixes: bytes) -> None:
        """Fixes this process took (a JSON list), for the other processes' next pass."""
        self._waiting.append(msgspec.json.encode(_Wire(self._origin, m=fixes.decode())))
        self._kick.set()

    async def _publish(self) -> None:
        announced = 0
        while True:
            await self._kick.wait()
            self._kick.clear()
            batch = list(self._waiting)
            self._waiting.clear()
            if self._head > announced:
                batch.append(msgspec.json.encode(_Wire(self._origin, h=self._head)))
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for data in batch:
                        pipe.publish(self._channel, data)
                    await pipe.execute()
                announced = max(announced, self._head)
            except (RedisError, OSError) as exc:
                # Wake-ups are made good by the hubs' look at the log; messages are dropped.
                log.warning("publishing to Redis failed: %s", exc)
                await asyncio.sleep(RETRY_S)

    async def _listen(self, pubsub: PubSub) -> None:
        decode = msgspec.json.Decoder(_Wire).decode
        while True:
            try:
                async for message in pubsub.listen():
                    if message["type"] != "message":
                        continue
                    wire = decode(message["data"])
                    if wire.o == self._origin:
                        continue
                    if wire.h:
                        self._on_head(wire.h)
                    elif wire.m:
                        self._on_moved(wire.m.encode())
                    else:
                        self._on_message(wire.s, wire.t)
            except (RedisError, OSError, msgspec.DecodeError) as exc:
                log.warning("listening to Redis failed, retrying: %s", exc)
                await asyncio.sleep(RETRY_S)
                # Whatever was committed meanwhile is in the event log: look at it now.
                self._on_head(0)
