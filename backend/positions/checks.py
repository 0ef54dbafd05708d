"""Checks on a worker's position fix before anything is stored or sent. Pure: the clock and the
previous fix are arguments.

A fix is refused, with a machine code, when

- a field is missing or not a number/string (``invalid_value``), the crs is unknown
  (``unknown_crs``) or the point is off the globe (``invalid_coordinate``);
- its accuracy is not a positive number (``invalid_accuracy``) or is worse than
  :data:`MAX_ACCURACY_M` (``inaccurate``): a cell-tower fix kilometres wide would draw false
  jumps on the map and false coverage in the patrol log;
- its time has no timezone (``invalid_timestamp``), lies more than :data:`CLOCK_SKEW` ahead of
  the server (``future_timestamp``) or further back than the caller's ``max_age``
  (``stale_timestamp``);
- it is not later than the worker's previous accepted fix (``out_of_order``), or reaching it
  from there would take more than :data:`MAX_SPEED_M_S` (``impossible_jump``). Both fixes'
  accuracies are given as slack: two honest fixes 10 m apart with 15 m accuracy are no jump.

>>> now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
>>> fix = check({"lon": 106.8, "lat": 39.67, "accuracy": 12, "at": "2026-11-25T09:59:58Z"},
...             None, now, LIVE_MAX_AGE)
>>> fix.lon, fix.accuracy, fix.at.isoformat()
(106.8, 12.0, '2026-11-25T09:59:58+00:00')
>>> check({"lon": 106.9, "lat": 39.67, "accuracy": 12, "at": "2026-11-25T09:59:59Z"},
...       fix, now, LIVE_MAX_AGE)
Traceback (most recent call last):
...
backend.positions.checks.Rejected: impossible_jump: 8559 m in 1 s is faster than 60 m/s
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from geo.crs import CRS_NAMES, to_wgs84
from geo.distance import EARTH_RADIUS_M

MAX_ACCURACY_M = 500.0
MAX_SPEED_M_S = 60.0  # 216 km/h: no worker patrols faster, even by car
CLOCK_SKEW = timedelta(minutes=2)
# A phone may hand out a cached fix; a live one older than this is no longer "where they are".
LIVE_MAX_AGE = timedelta(minutes=10)
# Offline uploads: as long as a phone's browser keeps its storage unvisited (Safari: 7 days).
BATCH_MAX_AGE = timedelta(days=7)


class Rejected(Exception):
    """A fix that must change nothing; ``code`` says which check refused it."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Fix:
    """An accepted fix: WGS 84 degrees, accuracy in metres, time in UTC."""

    lon: float
    lat: float
    accuracy: float
    at: datetime


def _number(message: Mapping[str, Any], name: str) -> float:
    value = message.get(name)
    # bool is an int in Python, but `true` is no coordinate.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Rejected("invalid_value", f"{name} must be a number, not {value!r}")
    return float(value)


def _timestamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise Rejected("invalid_value", f"at must be an ISO 8601 string, not {value!r}")
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise Rejected("invalid_timestamp", f"at {value!r} is not an ISO 8601 time") from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise Rejected("invalid_timestamp", f"at {value!r} has no timezone (add Z or +08:00)")
    try:
        return at.astimezone(UTC)
    except OverflowError:
        # The first and last hours of the calendar leave it once moved to UTC.
        raise Rejected("invalid_timestamp", f"at {value!r} is out of range") from None


def read_fix(message: Mapping[str, Any]) -> Fix:
    """The fix a message carries, in WGS 84 and UTC, if its values are sane on their own."""
    lon, lat, accuracy = (_number(message, n) for n in ("lon", "lat", "accuracy"))
    crs = message.get("crs") or "wgs84"
    if crs not in CRS_NAMES:
        raise Rejected("unknown_crs", f"crs must be one of {', '.join(CRS_NAMES)}, not {crs!r}")
    if not (math.isfinite(lon) and -180 <= lon <= 180):
        raise Rejected("invalid_coordinate", f"longitude {lon} is outside -180..180")
    if not (math.isfinite(lat) and -90 <= lat <= 90):
        raise Rejected("invalid_coordinate", f"latitude {lat} is outside -90..90")
    if not (math.isfinite(accuracy) and accuracy > 0):
        raise Rejected("invalid_accuracy", f"accuracy {accuracy} is not a positive length in m")
    if accuracy > MAX_ACCURACY_M:
        raise Rejected(
            "inaccurate", f"accuracy {accuracy:.0f} m is worse than {MAX_ACCURACY_M:.0f} m"
        )
    at = _timestamp(message.get("at"))
    if crs != "wgs84":
        lon, lat = (float(v) for v in to_wgs84(lon, lat, crs))
    return Fix(lon, lat, accuracy, at)


def check_time(fix: Fix, now: datetime, max_age: timedelta) -> None:
    if fix.at > now + CLOCK_SKEW:
        ahead = (fix.at - now).total_seconds()
        raise Rejected("future_timestamp", f"at is {ahead:.0f} s ahead of the server's clock")
    if fix.at < now - max_age:
        raise Rejected(
            "stale_timestamp", f"at is older than {max_age.total_seconds() / 60:.0f} minutes"
        )


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Haversine metres between two points, scalar.

    geo.distance.haversine_m is the vectorised one; on one pair of floats numpy's per-call
    overhead is ten times the arithmetic, and this runs for every fix.

    >>> round(distance_m(106.8, 39.6, 106.8, 39.7))
    11120
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(a, 1.0)))


def check_motion(fix: Fix, previous: Fix | None) -> None:
    if previous is None:
        return
    seconds = (fix.at - previous.at).total_seconds()
    if seconds <= 0:
        raise Rejected(
            "out_of_order",
            f"at {fix.at.isoformat()} is not after the last fix, {previous.at.isoformat()}",
        )
    metres = distance_m(previous.lon, previous.lat, fix.lon, fix.lat)
    if metres - fix.accuracy - previous.accuracy > MAX_SPEED_M_S * seconds:
        raise Rejected(
            "impossible_jump",
            f"{metres:.0f} m in {seconds:.0f} s is faster than {MAX_SPEED_M_S:.0f} m/s",
        )


def check(
    message: Mapping[str, Any], previous: Fix | None, now: datetime, max_age: timedelta
) -> Fix:
    """The fix of ``message`` if every check passes; :class:`Rejected` otherwise."""
    fix = read_fix(message)
    check_time(fix, now, max_age)
    check_motion(fix, previous)
    return fix
