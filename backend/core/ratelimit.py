"""Rate limits, counted by the ``limits`` library: in this process, or in Redis when
``REDIS_URL`` is set, so that every process of a deployment spends one budget.

A feature declares its :class:`Rule`; a route limited per client address takes
``before_request=per_address(RULE)``, which counts the request before its body is even read,
so that malformed floods are limited too. Over budget is 429 ``too_many_requests`` with
``Retry-After`` in seconds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from litestar import Request
from litestar.types import ASGIApp, Receive, Scope, Send

from backend.core.errors import ApiError
from backend.core.settings import Settings


@dataclass(frozen=True)
class Rule:
    """``name`` keeps its counters apart from other rules'; ``limit`` as ``limits`` reads it,
    such as ``"30/minute"`` (the city may set another: ``WANGGE_RATE_LIMITS``); ``what`` says
    in the 429's reason what was limited."""

    name: str
    limit: str
    what: str


class TooManyRequests(ApiError):
    def __init__(self, rule: Rule, limit: str, retry_after: int) -> None:
        super().__init__(
            429,
            "too_many_requests",
            f"too many {rule.what}: at most {limit}; try again in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
            limit=limit,
            retry_after=retry_after,
        )


class Limiter:
    """The app's counters (``app.state.limiter``)."""

    def __init__(self, settings: Settings) -> None:
        self.storage: Storage
        if settings.redis_url:
            self.storage = RedisStorage(
                settings.redis_url.replace("redis://", "async+redis://", 1),
                implementation="redispy",
                key_prefix=f"{settings.redis_prefix}limits",
            )
        else:
            self.storage = MemoryStorage()
        # A moving window: a burst at the edge of a fixed window cannot double the budget.
        self.strategy = MovingWindowRateLimiter(self.storage)
        self.limits = dict(settings.rate_limits)

    def _item(self, rule: Rule) -> RateLimitItem:
        return parse(self.limits.get(rule.name, rule.limit))

    async def hit(self, rule: Rule, *key: str) -> None:
        """Spend one of ``key``'s budget under ``rule``; 429 when none is left."""
        if not await self.strategy.hit(self._item(rule), rule.name, *key):
            raise await self._refusal(rule, key)

    async def check(self, rule: Rule, *key: str) -> None:
        """429 if ``key`` has no budget left under ``rule``, spending none."""
        if not await self.strategy.test(self._item(rule), rule.name, *key):
            raise await self._refusal(rule, key)

    async def spend(self, rule: Rule, *key: str) -> None:
        """Spend one of ``key``'s budget under ``rule`` without refusing anything now: the
        next :meth:`check` does (failed sign-ins count against the phone this way)."""
        await self.strategy.hit(self._item(rule), rule.name, *key)

    async def reset(self) -> None:
        await self.storage.reset()

    async def _refusal(self, rule: Rule, key: tuple[str, ...]) -> TooManyRequests:
        stats = await self.strategy.get_window_stats(self._item(rule), rule.name, *key)
        limit = self.limits.get(rule.name, rule.limit)
        return TooManyRequests(rule, limit, max(1, math.ceil(stats.reset_time - time.time())))


def client_key(request: Request) -> str:
    """The client address a limit counts by (already settled by backend.core.client)."""
    return request.client.host if request.client else "unknown"


def per_address(rule: Rule) -> Callable[[Request], Awaitable[None]]:
    """A ``before_request`` hook spending one of the client address's budget under ``rule``."""

    async def hook(request: Request) -> None:
        await request.app.state.limiter.hit(rule, client_key(request))

    hook.rule = rule  # type: ignore[attr-defined]  # for the OpenAPI document's 429
    return hook


def per_address_middleware(rule: Rule) -> Callable[[ASGIApp], ASGIApp]:
    """The same as :func:`per_address` as route middleware, which runs before a cached
    answer is served (a ``before_request`` hook does not)."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            client = scope.get("client")
            limiter: Limiter = scope["litestar_app"].state.limiter
            await limiter.hit(rule, client[0] if client else "unknown")
            await app(scope, receive, send)

        return middleware

    wrap.rule = rule  # type: ignore[attr-defined]  # for the OpenAPI document's 429
    return wrap
