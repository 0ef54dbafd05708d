"""The sender: every process runs one; they share the work through the database.

- Planning (plan.py) is one write transaction that moves the cursor: on PostgreSQL the
  cursor's row is locked to the commit, on SQLite the IMMEDIATE transaction admits one writer,
  so a second process finds the events done.
- Delivery takes due messages from the outbox for ``notify_lease_s`` (PostgreSQL skips the
  rows another process is taking meanwhile, SQLite takes them one writer at a time), sends
  them, and marks each answer as soon as it comes (answers arriving during a commit share the
  next one). A process killed before its mark leaves its messages to be taken again when the
  lease ends: a message is sent once unless the kill falls after the push service received it
  and before the mark committed (at most :data:`IN_FLIGHT` on the wire plus one commit's worth);
  then it goes twice with the same ``Topic`` and notification tag, which the push service and
  the phone each show once. Strictly once is not possible over Web Push: a push service that
  received a message and was not heard answering cannot be asked whether it did, and RFC 8030
  gives the sender no idempotency key.

Transient failures (a 429 or 5xx, no connection, the SMS provider down) are retried with
exponential backoff up to :data:`TRIES`; a push service's 404 or 410 means the device is gone:
its subscription is deleted, as is every other message waiting for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import aiohttp
import msgspec
from piccolo.engine import Engine, PostgresEngine

from backend.core.db import on_events_committed, raw, write_transaction
from backend.core.settings import Settings
from backend.notify.plan import plan
from backend.notify.push import Device, Pusher, vapid_key
from backend.notify.tables import Outbox, PushSubscription
from backend.sms.service import SmsCapReached, SmsUnavailable, send_sms

log = logging.getLogger("wangge.notify")

TRIES = 8
BACKOFF_S = 5.0  # doubled after each failure: 5 s, 10 s … about 10 min at the last
BATCH = 256
IN_FLIGHT = 16  # sends on the wire at once: enough to hide a push service's latency
DUE_SCAN_S = 60.0  # how often the open cases are looked at for a due time within the hour


@dataclass(frozen=True)
class Taken:
    id: int
    channel: str
    phone: str
    template: str
    params: str
    tries: int
    notice: int | None
    title: str
    body: str
    url: str
    kind: str


@dataclass(frozen=True)
class Outcome:
    id: int
    status: str  # sent, retry, gone, failed
    error: str = ""
    gone_device: int | None = None


_DUE = (
    'SELECT "id" FROM "notify_outbox" WHERE "status" = \'pending\' AND "next_at" <= {} '
    'AND ("lease_until" IS NULL OR "lease_until" < {}) ORDER BY "id" LIMIT {}'
)


async def take(engine: Engine, now: datetime, lease_s: float, batch: int = BATCH) -> list[Taken]:
    """Due messages, leased to this process until ``now + lease_s``."""
    if not await raw(Outbox, _DUE, now, now, 1):
        return []  # looked without the write lock: most runs find nothing
    sql = _DUE + (" FOR UPDATE SKIP LOCKED" if isinstance(engine, PostgresEngine) else "")
    async with write_transaction(engine):
        ids = [r["id"] for r in await raw(Outbox, sql, now, now, batch)]
        if not ids:
            return []
        until = now + timedelta(seconds=lease_s)
        await Outbox.update(lease_until=until).where(Outbox.id.is_in(ids))
        rows = await Outbox.select(
            Outbox.id, Outbox.channel, Outbox.phone, Outbox.template, Outbox.params,
            Outbox.tries, Outbox.notice, Outbox.notice._.title, Outbox.notice._.body,
            Outbox.notice._.url, Outbox.notice._.kind,
        ).where(Outbox.id.is_in(ids)).order_by(Outbox.id)  # fmt: skip
    return [
        Taken(
            r["id"],
            r["channel"],
            r["phone"],
            r["template"],
            r["params"],
            r["tries"],
            r["notice"],
            r["notice.title"] or "",
            r["notice.body"] or "",
            r["notice.url"] or "",
            r["notice.kind"] or "",
        )
        for r in rows
    ]


def payload(m: Taken) -> bytes:
    """What the service worker gets: the notice, and its tag (one notification per notice)."""
    body = {"id": m.notice, "tag": f"notice-{m.notice}", "kind": m.kind, "title": m.title,
            "body": m.body, "url": m.url}  # fmt: skip
    return msgspec.json.encode(body)


async def devices(ids: list[int]) -> dict[int, Device]:
    if not ids:
        return {}
    rows = await PushSubscription.select().where(PushSubscription.id.is_in(ids))
    return {r["id"]: Device(r["endpoint"], r["p256dh"], r["auth"]) for r in rows}


async def _push(pusher: Pusher, m: Taken, device: Device | None) -> Outcome:
    if device is None:
        return Outcome(m.id, "gone", "the device unsubscribed")
    try:
        status = await pusher.send(device, payload(m), topic=f"n{m.notice}")
    except (aiohttp.ClientError, TimeoutError) as failed:
        return Outcome(m.id, "retry", f"{type(failed).__name__}: {failed}"[:200])
    if status in (200, 201, 202):
        return Outcome(m.id, "sent")
    if status in (404, 410):
        return Outcome(m.id, "gone", f"push service {status}", int(m.channel[5:]))
    if status == 429 or status >= 500:
        return Outcome(m.id, "retry", f"push service {status}")
    return Outcome(m.id, "failed", f"push service {status}")


async def _sms(settings: Settings, m: Taken) -> Outcome:
    try:
        await send_sms(m.phone, m.template, msgspec.json.decode(m.params), settings=settings)
    except SmsCapReached as capped:
        return Outcome(m.id, "failed", capped.reason[:200])
    except SmsUnavailable as down:
        return Outcome(m.id, "retry", down.reason[:200])
    return Outcome(m.id, "sent")


async def mark(
    engine: Engine, taken: dict[int, Taken], outcomes: list[Outcome], now: datetime
) -> None:
    async with write_transaction(engine):
        by: dict[str, list[int]] = {}
        for o in outcomes:
            by.setdefault(o.status, []).append(o.id)
        if by.get("sent"):
            await Outbox.update(status="sent", sent_at=now, lease_until=None).where(
                Outbox.id.is_in(by["sent"])
            )
        for o in outcomes:
            if o.status == "retry":
                tries = taken[o.id].tries + 1
                if tries >= TRIES:
                    await Outbox.update(status="failed", tries=tries, error=o.error).where(
                        Outbox.id == o.id
                    )
                    continue
                later = now + timedelta(seconds=BACKOFF_S * 2 ** (tries - 1))
                await Outbox.update(
                    tries=tries, next_at=later, lease_until=None, error=o.error
                ).where(Outbox.id == o.id)
            elif o.status in ("gone", "failed"):
                await Outbox.update(status=o.status, lease_until=None, error=o.error).where(
                    Outbox.id == o.id
                )
        gone = sorted({o.gone_device for o in outcomes if o.gone_device is not None})
        if gone:
            await PushSubscription.delete().where(PushSubscription.id.is_in(gone))
            await Outbox.update(status="gone", error="the device is gone").where(
                Outbox.channel.is_in([f"push:{d}" for d in gone]) & (Outbox.status == "pending")
            )


async def deliver(settings: Settings, pusher: Pusher, now: datetime | None = None) -> int:
    """Send one batch of due messages; how many were taken."""
    engine = Outbox._meta.db
    now = now or datetime.now(UTC)
    taken = await take(engine, now, settings.notify_lease_s)
    if not taken:
        return 0
    known = await devices([int(m.channel[5:]) for m in taken if m.channel.startswith("push:")])
    by_id = {m.id: m for m in taken}

    async def one(m: Taken) -> Outcome:
        if m.channel == "sms":
            return await _sms(settings, m)
        return await _push(pusher, m, known.get(int(m.channel[5:])))

    # A sliding window of IN_FLIGHT sends, each answer marked as soon as the mark before it has
    # committed (answers that come meanwhile share the next commit). A kill thus leaves unmarked
    # only what was on the wire and what one commit was waiting for, not a whole chunk.
    window = asyncio.Semaphore(IN_FLIGHT)
    answered: list[Outcome] = []
    marking = asyncio.Lock()

    async def send_and_mark(m: Taken) -> None:
        async with window:
            answered.append(await one(m))
        async with marking:
            if answered:
                done = answered[:]
                answered.clear()
                await mark(engine, by_id, done, datetime.now(UTC))

    await asyncio.gather(*(send_and_mark(m) for m in taken))
    return len(taken)


async def run_once(settings: Settings, pusher: Pusher, *, due: bool = True) -> tuple[int, int]:
    """Plan every new event (and, with ``due``, the cases falling due within the hour), then
    send everything due: (events read, messages taken)."""
    read = sent = 0
    while True:
        n, _ = await plan(settings, due=due)
        due = False
        read += n
        if n == 0:
            break
    while True:
        n = await deliver(settings, pusher)
        sent += n
        if n < BATCH:
            return read, sent


class Sender:
    """Runs :func:`run_once` when this process commits events and every ``notify_interval_s``
    (writes of other processes); 0 turns it off. ``async with Sender(settings):`` around the
    app's life; a failed run is logged and the next comes later."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._unlisten: Callable[[], None] | None = None
        self.pusher: Pusher | None = None

    def _heard(self, engine: Any, last: int) -> None:
        self._wake.set()

    def start(self) -> None:
        if self.settings.notify_interval_s <= 0 or self._task is not None:
            return
        self.pusher = Pusher(vapid_key(self.settings), self.settings.vapid_subject)
        self._unlisten = on_events_committed(self._heard)
        self._task = asyncio.create_task(self._loop(), name="notify-sender")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        await self._task
        self._task = None
        if self._unlisten is not None:
            self._unlisten()
        if self.pusher is not None:
            await self.pusher.close()

    async def _loop(self) -> None:
        assert self.pusher is not None
        scanned = -DUE_SCAN_S
        while not self._stopping:
            due = time.monotonic() - scanned >= DUE_SCAN_S
            if due:
                scanned = time.monotonic()
            # Cleared before the run: a commit made during it wakes the next one.
            self._wake.clear()
            try:
                await run_once(self.settings, self.pusher, due=due)
            except Exception:
                log.exception("sending notifications failed; next try soon")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.notify_interval_s)

    async def __aenter__(self) -> Sender:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
