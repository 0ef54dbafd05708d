from typing import Annotated, Any

import msgspec

from backend.positions.store import Latest

MAX_BATCH = 5_000


class BatchIn(msgspec.Struct, forbid_unknown_fields=True):
    # Items are checked one by one (a bad one is listed, the others go in), so any JSON value
    # is taken here.
    positions: Annotated[list[Any], msgspec.Meta(max_length=MAX_BATCH)]


class RejectedFix(msgspec.Struct):
    index: int  # in the uploaded list
    code: str
    reason: str


class BatchOut(msgspec.Struct):
    accepted: int  # newly stored
    duplicates: int  # already stored (a retried upload), ignored
    rejected: list[RejectedFix]


class LatestOut(msgspec.Struct):
    scope: str
    workers: list[Latest]


class PatrolOut(msgspec.Struct):
    person: int
    name: str
    date: str  # the local day, YYYY-MM-DD
    timezone: str
    grids: list[str]
    fixes: int
    distance_m: float
    on_duty_seconds: float
    buildings_total: int
    buildings_passed: int
    coverage: float | None  # passed / total; null when the grids have no buildings
    passed: list[str]  # codes of the buildings passed
    # The day's walks (see patrol.walks), each a list of [lon, lat]: the coordinates of a
    # GeoJSON MultiLineString, so a gap in the track is not drawn as a straight line.
    track: list[list[tuple[float, float]]]
