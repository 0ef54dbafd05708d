"""Values read from the database and kept a few seconds, for reads that every request would
otherwise repeat (who is asking, the category table). A process serves one database; when
something binds the tables to another (tests, tools: ``backend.core.db.use_engine``), every
``Recent`` empties itself, since the same key there means another row.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from backend.core.db import on_engine_change

V = TypeVar("V")


class Recent(Generic[V]):
    """Values each kept for ``seconds``, at most ``size`` of them."""

    def __init__(self, seconds: float, size: int = 10_000) -> None:
        self.seconds = seconds
        self.size = size
        self._held: dict[Hashable, tuple[float, V]] = {}
        # Counts the forgets: a value read before one may be stale, and is not kept.
        self.forgets = 0
        on_engine_change(self.clear)

    def get(self, key: Hashable) -> V | None:
        found = self._held.get(key)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def put(self, key: Hashable, value: V, *, read_after: int | None = None) -> None:
        """Keep ``value``; unless ``read_after`` (``forgets`` when its reading began) shows that
        something was forgotten meanwhile."""
        if read_after is not None and read_after != self.forgets:
            return
        held = self._held
        if len(held) >= self.size:
            now = time.monotonic()
            for k, (until, _) in list(held.items()):
                if until < now:
                    held.pop(k, None)
            if len(held) >= self.size:
                held.clear()  # all fresh and too many: start over rather than grow
        held[key] = (time.monotonic() + self.seconds, value)

    def forget(self, key: Hashable) -> None:
        self.forgets += 1
        self._held.pop(key, None)

    def forget_where(self, matches: Callable[[Hashable], bool]) -> None:
        """Forget every key that ``matches``: a scan, for rare events such as revocations."""
        self.forgets += 1
        for key in [k for k in self._held if matches(k)]:
            self._held.pop(key, None)

    def clear(self) -> None:
        """Forget everything (the tables now read another database)."""
        self.forgets += 1
        self._held.clear()
