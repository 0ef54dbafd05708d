"""Position checks: pure, no I/O (positions batched per subscriber: tests/live/test_batch.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.positions.checks import (
    BATCH_MAX_AGE,
    LIVE_MAX_AGE,
    Fix,
    Rejected,
    check,
    distance_m,
)
from geo.crs import from_wgs84
from geo.distance import haversine_m

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
HERE = (106.8253, 39.6741)


def message(**change) -> dict:
    base = {"lon": HERE[0], "lat": HERE[1], "accuracy": 10.0, "at": "2026-11-25T09:59:30Z"}
    return {**base, **change}


def rejected(msg: dict, previous: Fix | None = None, max_age=LIVE_MAX_AGE) -> str:
    with pytest.raises(Rejected) as caught:
        check(msg, previous, NOW, max_age)
    return caught.value.code


def test_a_good_fix_is_read_in_wgs84_and_utc():
    fix = check(message(at="2026-11-25T17:59:30+08:00"), None, NOW, LIVE_MAX_AGE)
    assert fix == Fix(HERE[0], HERE[1], 10.0, datetime(2026, 11, 25, 9, 59, 30, tzinfo=UTC))


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_phone_map_coordinates_are_converted_to_wgs84(crs):
    lon, lat = from_wgs84(*HERE, crs)
    assert distance_m(lon, lat, *HERE) > 100  # the datums differ by hundreds of metres here
    fix = check(message(lon=lon, lat=lat, crs=crs), None, NOW, LIVE_MAX_AGE)
    assert distance_m(fix.lon, fix.lat, *HERE) < 0.01


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"lon": 181.0}, "invalid_coordinate"),
        ({"lat": -90.5}, "invalid_coordinate"),
        ({"lon": float("nan")}, "invalid_coordinate"),
        ({"lat": float("inf")}, "invalid_coordinate"),
        ({"lon": "106.8"}, "invalid_value"),
        ({"lat": True}, "invalid_value"),
        ({"lon": None}, "invalid_value"),
        ({"crs": "epsg:4490"}, "unknown_crs"),
        ({"accuracy": 0}, "invalid_accuracy"),
        ({"accuracy": -3}, "invalid_accuracy"),
        ({"accuracy": float("nan")}, "invalid_accuracy"),
        ({"accuracy": 501}, "inaccurate"),
        ({"at": 1764064800}, "invalid_value"),
        ({"at": "yesterday"}, "invalid_timestamp"),
        ({"at": "2026-11-25T09:59:30"}, "invalid_timestamp"),
        ({"at": "9999-12-31T23:59:59-12:00"}, "invalid_timestamp"),
        ({"at": "0001-01-01T00:00:00+14:00"}, "invalid_timestamp"),
        ({"at": "2026-11-25T10:02:30Z"}, "future_timestamp"),
        ({"at": "2026-11-25T09:49:00Z"}, "stale_timestamp"),
    ],
)
def test_bad_values_are_refused_with_a_code(change, code):
    assert rejected(message(**change)) == code


def test_missing_fields_are_refused():
    for name in ("lon", "lat", "accuracy", "at"):
        msg = message()
        del msg[name]
        assert rejected(msg) in {"invalid_value"}


def test_the_clock_skew_and_the_age_limits_are_edges_not_guesses():
    assert check(message(at="2026-11-25T10:01:59Z"), None, NOW, LIVE_MAX_AGE)
    assert check(message(at="2026-11-25T09:50:01Z"), None, NOW, LIVE_MAX_AGE)
    week = (NOW - BATCH_MAX_AGE + timedelta(minutes=1)).isoformat()
    assert check(message(at=week), None, NOW, BATCH_MAX_AGE)
    too_old = (NOW - BATCH_MAX_AGE - timedelta(minutes=1)).isoformat()
    assert rejected(message(at=too_old), None, BATCH_MAX_AGE) == "stale_timestamp"


def test_a_fix_no_later_than_the_previous_one_is_out_of_order():
    previous = check(message(), None, NOW, LIVE_MAX_AGE)
    assert rejected(message(), previous) == "out_of_order"
    assert rejected(message(at="2026-11-25T09:59:29Z"), previous) == "out_of_order"


def east(metres: float) -> float:
    """The longitude ``metres`` east of HERE."""
    return HERE[0] + metres / float(haversine_m(HERE[0], HERE[1], HERE[0] + 1, HERE[1]))


def test_speed_over_60_m_s_is_a_jump_allowing_for_both_accuracies():
    previous = check(message(accuracy=5.0), None, NOW, LIVE_MAX_AGE)
    ten_s_later = "2026-11-25T09:59:40Z"
    # 600 m in 10 s is 60 m/s, plus 10 m of slack: allowed; 620 m is not.
    assert check(message(lon=east(609), at=ten_s_later, accuracy=5.0), previous, NOW, LIVE_MAX_AGE)
    jump = message(lon=east(620), at=ten_s_later, accuracy=5.0)
    assert rejected(jump, previous) == "impossible_jump"
    # A poorer fix gets more slack: the same 620 m with 20 m accuracy passes.
    assert check({**jump, "accuracy": 20.0}, previous, NOW, LIVE_MAX_AGE)


def test_scalar_distance_agrees_with_the_vectorised_one():
    for dx, dy in [(0.0001, 0.0), (0.01, 0.02), (-1.5, 2.0)]:
        a = distance_m(HERE[0], HERE[1], HERE[0] + dx, HERE[1] + dy)
        b = float(haversine_m(HERE[0], HERE[1], HERE[0] + dx, HERE[1] + dy))
        assert a == pytest.approx(b, rel=1e-9)


def test_rejected_carries_code_and_reason():
    exc = Rejected("inaccurate", "accuracy 900 m is worse than 500 m")
    assert (exc.code, exc.reason) == ("inaccurate", "accuracy 900 m is worse than 500 m")
