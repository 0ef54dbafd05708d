import numpy as np
import pytest
from pyproj import Geod

from geo import crs

GEOD = Geod(ellps="WGS84")
WUHAI = (106.825, 39.674)
OUTSIDE_CHINA = [(2.35, 48.85), (139.69, 35.69), (151.21, -33.87), (-74.0, 40.7)]

# Published by wandergis/coordTransform_py (the reference implementation most Chinese
# libraries test against) for the input lon 128.543, lat 37.065, and by hutool for
# lon 116.404, lat 39.915.
PUBLISHED_FORWARD = [
    (crs.wgs84_to_gcj02, (128.543, 37.065), (128.54820547949757, 37.065651049489816)),
    (crs.gcj02_to_bd09, (128.543, 37.065), (128.54944656269413, 37.07113427883019)),
    (crs.wgs84_to_bd09, (128.543, 37.065), (128.55468192918485, 37.07168344938498)),
    (crs.wgs84_to_gcj02, (116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    (crs.gcj02_to_bd09, (116.404, 39.915), (116.41036949371029, 39.92133699351021)),
]
INVERSES = {
    crs.wgs84_to_gcj02: crs.gcj02_to_wgs84,
    crs.gcj02_to_bd09: crs.bd09_to_gcj02,
    crs.wgs84_to_bd09: crs.bd09_to_wgs84,
}
ALL_CONVERSIONS = [*INVERSES, *INVERSES.values()]


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


@pytest.fixture(scope="module")
def china_points() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return rng.uniform(73.5, 135.0, 5000), rng.uniform(18.0, 53.5, 5000)


@pytest.mark.parametrize("forward", list(INVERSES), ids=lambda f: f.__name__)
def test_round_trip_error_is_below_a_centimetre(forward, china_points):
    lon, lat = china_points
    back_lon, back_lat = INVERSES[forward](*forward(lon, lat))
    assert metres(lon, lat, back_lon, back_lat).max() < 0.01


@pytest.mark.parametrize("name", ["gcj02", "bd09"])
def test_to_wgs84_inverts_from_wgs84(name, china_points):
    lon, lat = china_points
    back_lon, back_lat = crs.to_wgs84(*crs.from_wgs84(lon, lat, name), name)
    assert metres(lon, lat, back_lon, back_lat).max() < 0.01


@pytest.mark.parametrize(("convert", "given", "expected"), PUBLISHED_FORWARD)
def test_forward_matches_published_values(convert, given, expected):
    assert convert(*given) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(("forward", "given", "published"), PUBLISHED_FORWARD)
def test_inverse_recovers_published_input(forward, given, published):
    assert INVERSES[forward](*published) == pytest.approx(given, abs=1e-9)


def test_gcj02_offset_near_wuhai_is_a_few_hundred_metres():
    lon, lat = crs.wgs84_to_gcj02(*WUHAI)
    assert 200.0 < metres(*WUHAI, lon, lat) < 800.0


def test_bd09_adds_a_further_offset_to_gcj02():
    gcj = crs.wgs84_to_gcj02(*WUHAI)
    bd = crs.wgs84_to_bd09(*WUHAI)
    assert 300.0 < metres(*gcj, *bd) < 1500.0


@pytest.mark.parametrize("point", OUTSIDE_CHINA)
def test_gcj02_is_wgs84_outside_china(point):
    assert crs.wgs84_to_gcj02(*point) == point
    assert crs.gcj02_to_wgs84(*point) == point


def test_outside_china_is_decided_per_element():
    lon = np.array([WUHAI[0], *(p[0] for p in OUTSIDE_CHINA)])
    lat = np.array([WUHAI[1], *(p[1] for p in OUTSIDE_CHINA)])
    out_lon, out_lat = crs.wgs84_to_gcj02(lon, lat)
    assert out_lon[0] != lon[0] and out_lat[0] != lat[0]
    np.testing.assert_array_equal(out_lon[1:], lon[1:])
    np.testing.assert_array_equal(out_lat[1:], lat[1:])


@pytest.mark.parametrize("convert", ALL_CONVERSIONS, ids=lambda f: f.__name__)
def test_scalars_in_give_floats_out(convert):
    lon, lat = convert(*WUHAI)
    assert type(lon) is float and type(lat) is float


@pytest.mark.parametrize("convert", ALL_CONVERSIONS, ids=lambda f: f.__name__)
def test_arrays_in_give_arrays_out(convert):
    lon = np.full((2, 3), WUHAI[0])
    lat = np.full((2, 3), WUHAI[1])
    out_lon, out_lat = convert(lon, lat)
    assert isinstance(out_lon, np.ndarray) and out_lon.shape == (2, 3)
    assert isinstance(out_lat, np.ndarray) and out_lat.shape == (2, 3)
    assert (out_lon[0, 0], out_lat[0, 0]) == pytest.approx(convert(*WUHAI), abs=1e-12)


@pytest.mark.parametrize("name", crs.CRS_NAMES)
def test_dispatch_scalars_in_give_floats_out(name):
    for convert in (crs.to_wgs84, crs.from_wgs84):
        lon, lat = convert(*WUHAI, name)
        assert type(lon) is float and type(lat) is float


@pytest.mark.parametrize(
    ("name", "to", "frm"),
    [
        ("gcj02", crs.gcj02_to_wgs84, crs.wgs84_to_gcj02),
        ("bd09", crs.bd09_to_wgs84, crs.wgs84_to_bd09),
    ],
)
def test_dispatch_picks_the_named_conversion(name, to, frm):
    assert crs.to_wgs84(*WUHAI, name) == to(*WUHAI)
    assert crs.from_wgs84(*WUHAI, name) == frm(*WUHAI)


def test_wgs84_is_identity(china_points):
    lon, lat = china_points
    assert crs.to_wgs84(*WUHAI, "wgs84") == WUHAI
    assert crs.from_wgs84(*WUHAI, "wgs84") == WUHAI
    out_lon, out_lat = crs.to_wgs84(lon, lat, "wgs84")
    np.testing.assert_array_equal(out_lon, lon)
    np.testing.assert_array_equal(out_lat, lat)


@pytest.mark.parametrize("convert", [crs.to_wgs84, crs.from_wgs84])
@pytest.mark.parametrize("name", ["WGS84", "epsg:4326", "gcj-02", ""])
def test_unknown_crs_name_raises(convert, name):
    with pytest.raises(crs.UnknownCrsError) as caught:
        convert(*WUHAI, name)
    assert caught.value.name == name
    assert isinstance(caught.value, ValueError)
    for accepted in crs.CRS_NAMES:
        assert accepted in str(caught.value)
