"""What other features hand the live stream: a worker's fix for the positions frames."""

from __future__ import annotations

import msgspec


class Moved(msgspec.Struct):
    """A worker's newest accepted fix, as the ``positions`` frame lists it."""

    person: int
    name: str
    grid: str  # the grid the worker is shown in: the bucket it goes to
    lon: float
    lat: float
    accuracy: float
    at: str  # ISO 8601, UTC
