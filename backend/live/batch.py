"""Worker positions batched per subscriber: at most one frame an interval for each socket,
holding the workers that moved in its scope (and its viewport, if it gave one). Pure.

The hub keeps the last fix of every worker that moved since the last pass (last value wins).
Once an interval it makes one :class:`Pass`: the moved workers are put in buckets by grid,
each bucket is encoded once, and the buckets are indexed by each code prefix length the
subscriptions use. A subscription's frame is then the join of the buckets under its prefixes,
filtered by its viewport only where a bucket straddles the viewport's edge; subscriptions with
the same prefixes and viewport (fifty city-wide screens) share one frame object. So a pass
costs the moved workers plus, per distinct subscription, the buckets it covers: it grows with
subscribers plus workers, not with their product.

>>> def at(person, grid, lon, lat):
...     return Moved(person, f"w{person}", grid, lon, lat, 5.0, "2026-12-07T10:00:00+00:00")
>>> batch = Pass([at(1, "15030200100101", 106.80, 39.60), at(2, "15030200100102", 106.90, 39.70),
...               at(3, "15030300100101", 106.85, 39.50)], lengths=(4, 12))
>>> [w["person"] for w in workers_of(batch.frame(("1503",), None))]
[1, 2, 3]
>>> [w["person"] for w in workers_of(batch.frame(("150302001001",), None))]
[1, 2]
>>> [w["person"] for w in workers_of(batch.frame(("1503",), (106.84, 39.4, 106.95, 39.65)))]
[3]
>>> batch.frame(("150304",), None) is None
True
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from backend.live.messages import Bbox, Frame
from backend.live.schemas import Moved

_encode = msgspec.json.Encoder().encode
_HEAD = '{"type":"positions","workers":['
_TAIL = "]}"


def newer(old: Moved | None, new: Moved) -> bool:
    """Whether ``new`` replaces ``old`` (a fix heard late from another process does not
    replace a newer one; the times are ISO strings of one form, in UTC).

    >>> a = Moved(1, "a", "g", 0, 0, 5, "2026-12-07T10:00:01+00:00")
    >>> newer(None, a), newer(a, msgspec.structs.replace(a, at="2026-12-07T10:00:00+00:00"))
    (True, False)
    """
    return old is None or new.at >= old.at


class _Bucket:
    """The moved workers of one grid, encoded once as the comma-joined members of a JSON list;
    with their bounding box, so that a viewport takes or skips the bucket whole unless it
    straddles the edge."""

    __slots__ = ("box", "members", "text")

    def __init__(self, members: list[Moved]) -> None:
        self.members = members
        self.text = _encode(members)[1:-1].decode()
        xs = [m.lon for m in members]
        ys = [m.lat for m in members]
        self.box = (min(xs), min(ys), max(xs), max(ys))

    def within(self, bbox: Bbox | None) -> str:
        """The part of the bucket inside ``bbox`` (edges included): "" when none."""
        if bbox is None:
            return self.text
        west, south, east, north = bbox
        x0, y0, x1, y1 = self.box
        if west <= x0 and x1 <= east and south <= y0 and y1 <= north:
            return self.text
        if x1 < west or east < x0 or y1 < south or north < y0:
            return ""
        inside = [m for m in self.members if west <= m.lon <= east and south <= m.lat <= north]
        return _encode(inside)[1:-1].decode() if inside else ""


class Pass:
    """One interval's moved workers, ready to be served to any subscription.

    ``lengths``: the code prefix lengths the subscriptions use (the hub keeps them), so that a
    prefix finds its buckets in one lookup.
    """

    def __init__(self, moved: Iterable[Moved], lengths: Iterable[int]) -> None:
        by_grid: dict[str, list[Moved]] = {}
        for m in moved:
            by_grid.setdefault(m.grid, []).append(m)
        self._under: dict[str, list[_Bucket]] = {}
        for grid, members in by_grid.items():
            bucket = _Bucket(members)
            for n in lengths:
                if n <= len(grid):
                    self._under.setdefault(grid[:n], []).append(bucket)
        self._frames: dict[tuple[tuple[str, ...], Bbox | None], Frame | None] = {}

    def frame(self, prefixes: tuple[str, ...], bbox: Bbox | None) -> Frame | None:
        """The frame for a subscription to ``prefixes`` (none inside another, as the hub
        keeps them) within ``bbox``; None when no worker moved there."""
        key = (prefixes, bbox)
        if key in self._frames:
            return self._frames[key]
        parts = [
            text
            for p in prefixes
            for bucket in self._under.get(p, ())
            if (text := bucket.within(bbox))
        ]
        out = {"type": "websocket.send", "text": _HEAD + ",".join(parts) + _TAIL} if parts else None
        self._frames[key] = out
        return out


def workers_of(frame: Frame | None) -> list[dict[str, Any]]:
    """The workers a frame lists (for tests and tools)."""
    if frame is None:
        return []
    workers: list[dict[str, Any]] = msgspec.json.decode(frame["text"])["workers"]
    return workers
