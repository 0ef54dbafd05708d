"""At most one message per key per interval, and the newest one always goes out. Pure: the
clock is an argument.

A message offered within ``interval`` of the key's last one waits; a newer one replaces it;
:meth:`Throttle.due` hands it out once the interval has passed. So a map sees a worker move
at most once a second, and never stays on a stale position when the worker stops sending.

>>> t = Throttle(1.0)
>>> t.offer(7, 0.0, "a"), t.offer(7, 0.3, "b"), t.offer(7, 0.6, "c")
('a', None, None)
>>> t.due(0.9), t.due(1.0)
([], ['c'])
>>> t.offer(7, 1.5, "d"), t.offer(7, 2.1, "e")
(None, 'e')
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class Throttle(Generic[T]):
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._sent: dict[Hashable, float] = {}
        self._waiting: dict[Hashable, T] = {}

    def offer(self, key: Hashable, now: float, message: T) -> T | None:
        """``message`` if it may go now; otherwise ``None``, and it waits for :meth:`due`."""
        sent = self._sent.get(key)
        if sent is None or now - sent >= self.interval:
            self._sent[key] = now
            self._waiting.pop(key, None)
            return message
        self._waiting[key] = message
        return None

    def due(self, now: float) -> list[T]:
        """The waiting messages whose key's interval has passed, now counted as sent."""
        ready = [k for k in self._waiting if now - self._sent[k] >= self.interval]
        for key in ready:
            self._sent[key] = now
        return [self._waiting.pop(key) for key in ready]

    def forget(self, key: Hashable) -> T | None:
        """Drop the key's state; its waiting message, if any, is returned (not sent)."""
        self._sent.pop(key, None)
        return self._waiting.pop(key, None)
