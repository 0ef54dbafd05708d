"""Values read from the database and kept a few seconds, for reads that every request would
otherwise repeat (who is asking, the category table). Per engine: tests and tools use several
databases in one process, where the same key means another row.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from piccolo.engine import Engine

V = TypeVar("V")


class Recent(Generic[V]):
    """Values each kept for ``seconds``, per engine.

    Engines are held by reference (Piccolo's PostgreSQL engine takes no weak reference), the
    few most recent ones: a server has one.
    """

    ENGINES = 4

    def __init__(self, seconds: float, size: int = 10_000) -> None:
        self.seconds = seconds
        self.size = size
        self._held: dict[Engine, dict[Hashable, tuple[float, V]]] = {}
        # Counts the forgets: a value read before one may be stale, and is not kept.
        self.forgets = 0

    def get(self, engine: Engine, key: Hashable) -> V | None:
        held = self._held.get(engine)
        found = None if held is None else held.get(key)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def put(
        self, engine: Engine, key: Hashable, value: V, *, read_after: int | None = None
    ) -> None:
        """Keep ``value``; unless ``read_after`` (``forgets`` when its reading began) shows that
        something was forgotten meanwhile."""
        if read_after is not None and read_after != self.forgets:
            return
        held = self._held.get(engine)
        if held is None:
            while len(self._held) >= self.ENGINES:
                self._held.pop(next(iter(self._held)), None)  # the one that came first
            held = self._held[engine] = {}
        if len(held) >= self.size:
            now = time.monotonic()
            for k, (until, _) in list(held.items()):
                if until < now:
                    held.pop(k, None)
            if len(held) >= self.size:
                held.clear()  # all fresh and too many: start over rather than grow
        held[key] = (time.monotonic() + self.seconds, value)

    def forget(self, engine: Engine, key: Hashable) -> None:
        self.forgets += 1
        held = self._held.get(engine)
        if held is not None:
            held.pop(key, None)

    def forget_where(self, engine: Engine, matches: Callable[[Hashable], bool]) -> None:
        """Forget every key that ``matches``: a scan, for rare events such as revocations."""
        self.forgets += 1
        held = self._held.get(engine)
        if held is not None:
            for key in [k for k in held if matches(k)]:
                held.pop(key, None)
