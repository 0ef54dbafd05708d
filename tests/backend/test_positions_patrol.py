"""Patrol logs: distance, time on duty and buildings passed, on hand-built tracks and grids."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from backend.positions.coverage import passed_within
from backend.positions.patrol import GAP_S, duty_seconds, walked_m, walks

# A local frame in metres around a point of Wuhai, to draw grids and walks by hand.
ORIGIN = (106.8253, 39.6741)
_TO_LONLAT = Transformer.from_crs(
    f"+proj=tmerc +lat_0={ORIGIN[1]} +lon_0={ORIGIN[0]} +ellps=WGS84 +units=m",
    "EPSG:4326",
    always_xy=True,
)


def lonlat(xy: np.ndarray) -> np.ndarray:
    xy = np.asarray(xy, dtype=float)
    return np.column_stack(_TO_LONLAT.transform(xy[:, 0], xy[:, 1]))


def footprint(x: float, y: float, w: float = 20, h: float = 12) -> shapely.Polygon:
    """A w × h m rectangle with its lower left corner at (x, y) m, in lon/lat."""
    corners = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
    return shapely.Polygon(lonlat(corners))


def track(xy: list[tuple[float, float]], step_s: float = 10.0, start: float = 0.0):
    ll = lonlat(xy)
    t = start + step_s * np.arange(len(xy))
    return ll[:, 0], ll[:, 1], t


# -- distance --------------------------------------------------------------------------------


def test_a_straight_walk_measures_its_length():
    lon, lat, t = track([(x, 0.0) for x in range(0, 1001, 10)])
    # Haversine is on a sphere: east-west at 40° N it reads 0.25 % short of the ellipsoid.
    assert walked_m(lon, lat, np.full(len(t), 5.0), t) == pytest.approx(1000, rel=0.003)


def test_standing_still_with_gps_jitter_walks_nothing():
    rng = np.random.default_rng(1)
    jitter = rng.normal(0, 4, (360, 2))  # an hour of fixes, 4 m noise, 10 m accuracy
    lon, lat, t = track([tuple(p) for p in jitter])
    naive = np.sum(np.hypot(*np.diff(jitter, axis=0).T))
    assert naive > 1500
    assert walked_m(lon, lat, np.full(len(t), 10.0), t) < 40


def test_slow_walking_with_coarse_fixes_still_counts():
    # 1.2 m/s, a fix a second, 15 m accuracy: each step is under the accuracy.
    lon, lat, t = track([(1.2 * i, 0.0) for i in range(501)], step_s=1.0)
    assert walked_m(lon, lat, np.full(len(t), 15.0), t) == pytest.approx(600, abs=15)


def test_a_gap_in_the_track_is_not_walked():
    a = [(x, 0.0) for x in range(0, 201, 10)]
    b = [(x, 500.0) for x in range(0, 201, 10)]
    lon1, lat1, t1 = track(a)
    lon2, lat2, t2 = track(b, start=t1[-1] + GAP_S + 1)
    lon, lat, t = np.r_[lon1, lon2], np.r_[lat1, lat2], np.r_[t1, t2]
    assert len(walks(t)) == 2
    assert walked_m(lon, lat, np.full(len(t), 5.0), t) == pytest.approx(400, rel=0.003)


def test_empty_and_single_fix_tracks():
    empty = np.array([])
    assert walked_m(empty, empty, empty, empty) == 0.0
    assert walks(empty) == []
    one = np.array([1.0])
    assert walked_m(one, one, one, one) == 0.0


# -- time on duty ----------------------------------------------------------------------------


def test_duty_time_is_the_union_of_duty_periods_and_walks_cut_to_the_day():
    day = (1000.0, 1000.0 + 86400)
    t = np.array([5000.0, 5100, 5200, 20000, 20100])  # walks 5000–5200 and 20000–20100
    periods = [(500.0, 1600.0), (5150.0, 6000.0), (86000.0, 90000.0)]
    # 600 (cut at the day's start) + 5000..6000 (1000) + 20000..20100 (100) + 86000..87400 (1400)
    assert duty_seconds(periods, t, *day) == pytest.approx(600 + 1000 + 100 + 1400)


def test_duty_time_from_fixes_alone_when_no_duty_message_came():
    t = np.arange(0.0, 3600.0, 60.0)  # an hour of fixes a minute apart, collected offline
    assert duty_seconds([], t, 0.0, 86400.0) == pytest.approx(3540)


def test_duty_time_with_nothing():
    assert duty_seconds([], np.array([]), 0.0, 86400.0) == 0.0
    assert duty_seconds([(-50.0, -10.0)], np.array([]), 0.0, 86400.0) == 0.0


# -- buildings passed ------------------------------------------------------------------------


def hand_built_grid() -> tuple[np.ndarray, list[str]]:
    """Buildings along a street running east at y = 0: their nearest edge 5, 25, 29, 31, 45 m
    north of it, one 25 m south, and one 25 m past the street's end."""
    shapes = {
        "n05": footprint(0, 5),
        "n25": footprint(40, 25),
        "n29": footprint(80, 29),
        "n31": footprint(120, 31),
        "n45": footprint(160, 45),
        "s25": footprint(200, -25 - 12),
        "end": footprint(325, -6),  # the street ends at x = 300
    }
    return np.array(list(shapes.values()), dtype=object), list(shapes)


def test_buildings_within_30_m_of_the_walk_are_passed():
    footprints, names = hand_built_grid()
    lon, lat, _ = track([(x, 0.0) for x in range(0, 301, 10)])
    passed = passed_within(footprints, [np.column_stack([lon, lat])])
    assert [n for n, p in zip(names, passed, strict=True) if p] == [
        "n05",
        "n25",
        "n29",
        "s25",
        "end",
    ]


def test_a_walk_of_one_fix_passes_what_is_near_that_fix():
    footprints, names = hand_built_grid()
    lon, lat, _ = track([(10.0, 0.0)])
    passed = passed_within(footprints, [np.column_stack([lon, lat])])
    assert [n for n, p in zip(names, passed, strict=True) if p] == ["n05"]


def test_the_leap_between_two_walks_passes_nothing():
    footprints, names = hand_built_grid()
    west = np.column_stack(track([(x, 0.0) for x in range(0, 11, 10)])[:2])
    east = np.column_stack(track([(x, 0.0) for x in range(270, 301, 10)])[:2])
    passed = passed_within(footprints, [west, east])
    assert [n for n, p in zip(names, passed, strict=True) if p] == ["n05", "end"]


def test_no_buildings_or_no_walks():
    footprints, _ = hand_built_grid()
    assert passed_within(footprints, []).tolist() == [False] * len(footprints)
    assert passed_within(np.array([], dtype=object), [lonlat([(0, 0), (1, 1)])]).tolist() == []
