"""What ``GET /metrics`` tells Prometheus, and the middleware that times every HTTP request.

Counts and timings are kept as they happen; the state of things (sockets open, the event log's
head, buffered track points, the database pool) is sampled by whoever owns it: a feature
registers a sampler with :func:`sampled` for as long as it runs, and samplers run every
:data:`SAMPLE_S` seconds and before each scrape.

Several worker processes (``wangge serve --workers N``) share one port, so a scrape reaches
any one of them: each writes its figures into ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's
multiprocess mode, chosen by that variable before the first metric is made) and the one asked
answers for all. Gauges say how they add up across processes (``multiprocess_mode``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send
from piccolo.engine import Engine, PostgresEngine
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import multiprocess as multiprocess_mode
from prometheus_client.exposition import generate_latest

from backend.core.log_redaction import redact
from backend.core.phones import masked_text

log = logging.getLogger("wangge.metrics")
access = logging.getLogger("wangge.access")

SAMPLE_S = 5.0
QUERY_S = 3.0
# A request that matched no route is counted under this instead of its path: paths are chosen
# by whoever sends them, and each would make a series of its own.
UNMATCHED = "(unmatched)"

REQUEST_SECONDS = Histogram(
    "wangge_http_request_duration_seconds",
    "Time from a request's arrival to its answer's last byte, by route template",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
IN_FLIGHT = Gauge(
    "wangge_http_requests_in_flight",
    "HTTP requests being answered",
    multiprocess_mode="livesum",
)
SHED = Counter(
    "wangge_http_requests_shed_total",
    "Requests answered 503 with Retry-After at once because the process had too much work",
)
LIVE_SOCKETS = Gauge(
    "wangge_live_sockets",
    "Live WebSocket connections open",
    multiprocess_mode="livesum",
)
EVENT_HEAD = Gauge(
    "wangge_event_log_head",
    "The newest event id seen; rate() of it is events appended per second",
    multiprocess_mode="max",
)
TRACK_BACKLOG = Gauge(
    "wangge_track_points_buffered",
    "Accepted position fixes waiting to be written to the database",
    multiprocess_mode="livesum",
)
NOTIFY_PENDING = Gauge(
    "wangge_notify_outbox_pending",
    "Notifications (push, text messages) waiting in the outbox to be sent",
    multiprocess_mode="mostrecent",
)
NOTIFY_BEHIND = Gauge(
    "wangge_notify_events_behind",
    "Events not yet turned into notifications by the sender",
    multiprocess_mode="mostrecent",
)
POOL = Gauge(
    "wangge_db_pool_connections",
    "PostgreSQL pool connections: open, idle (free) and the most allowed",
    ["state"],
    multiprocess_mode="livesum",
)

_samplers: list[Callable[[], None]] = []


@contextlib.contextmanager
def sampled(sampler: Callable[[], None]) -> Iterator[None]:
    """Run ``sampler`` (it sets gauges, quickly, without waiting) until the block ends."""
    _samplers.append(sampler)
    try:
        yield
    finally:
        _samplers.remove(sampler)


def sample() -> None:
    for sampler in list(_samplers):
        try:
            sampler()
        except Exception:  # a figure missing from a scrape must not fail the others
            log.exception("a metrics sampler failed")


async def sample_all(queries: Sequence[Callable[[], Awaitable[None]]]) -> None:
    """The samplers, then ``queries``: samplers that read the database (a backlog every
    process sees the same), each given a few seconds."""
    sample()
    for query in queries:
        try:
            async with asyncio.timeout(QUERY_S):
                await query()
        except Exception:
            log.exception("a metrics query failed")


def exposition(multiprocess_dir: Path | None) -> bytes:
    """The text a scrape gets: this process's metrics, or every worker's from their folder."""
    if multiprocess_dir is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess_mode.MultiProcessCollector(registry, path=str(multiprocess_dir))
    return generate_latest(registry)


def metrics_lifespan(
    engine: Engine, *queries: Callable[[], Awaitable[None]]
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """Samples the database pool and runs every sampler and ``queries`` now and then. Give it
    to the app after the lifespan that opens the pool."""

    def pool() -> None:
        if isinstance(engine, PostgresEngine) and engine.pool is not None:
            POOL.labels("open").set(engine.pool.get_size())
            POOL.labels("idle").set(engine.pool.get_idle_size())
            POOL.labels("max").set(engine.pool.get_max_size())

    async def sample_forever() -> None:
        while True:
            await sample_all(queries)
            await asyncio.sleep(SAMPLE_S)

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        with sampled(pool):
            task = asyncio.create_task(sample_forever(), name="metrics-sampler")
            try:
                yield
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return lifespan


def measured(app: ASGIApp, *, access_log: bool) -> ASGIApp:
    """``app`` with each HTTP request timed by its route template (and, with ``access_log``,
    written to ``wangge.access`` with its duration, tokens and phones hidden)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        status = 500  # what the server answers for an app that fails before it starts one

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        method = scope.get("method", "")
        path = scope["path"]
        start = time.perf_counter()
        IN_FLIGHT.inc()
        try:
            await app(scope, receive, sending)
        finally:
            IN_FLIGHT.dec()
            elapsed = time.perf_counter() - start
            route = scope.get("path_template") or UNMATCHED
            REQUEST_SECONDS.labels(route, method, f"{status // 100}xx").observe(elapsed)
            if access_log:
                query = scope.get("query_string", b"").decode("latin-1")
                shown = masked_text(redact(f"{path}?{query}" if query else path))
                client = scope.get("client")
                access.info(
                    "%s %s %d",
                    method,
                    shown,
                    status,
                    extra={
                        "method": method,
                        "path": shown,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                        "client": client[0] if client else None,
                    },
                )

    return middleware
