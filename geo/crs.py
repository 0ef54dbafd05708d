"""Conversions between WGS 84, GCJ-02 (Gaode, Tencent) and BD-09 (Baidu) lon/lat.

GPS receivers report WGS 84, Chinese phone maps report GCJ-02 or BD-09; the backend
converts once at the edge and stores WGS 84 only. Every function accepts Python floats
or numpy arrays and returns the same kind.

>>> lon, lat = wgs84_to_gcj02(106.825, 39.674)  # Wuhai
>>> round(lon, 5), round(lat, 5)
(106.82972, 39.67489)
>>> lon, lat = to_wgs84(lon, lat, "gcj02")
>>> round(lon, 9), round(lat, 9)
(106.825, 39.674)
"""

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

CRS_NAMES: tuple[str, ...] = ("wgs84", "gcj02", "bd09")

LonLat = tuple[float, float] | tuple[np.ndarray, np.ndarray]
_Pair = tuple[np.ndarray, np.ndarray]
_Transform = Callable[[np.ndarray, np.ndarray], _Pair]

# Krasovsky 1940 ellipsoid, as the published GCJ-02 algorithm uses it.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0
# Both forward transforms are near-identity (Jacobian within ~0.02 of I), so fixed-point
# inversion gains one to three digits per step: 1e-9 degrees (0.1 mm) takes 3-5 steps.
_INVERSE_TOLERANCE_DEG = 1e-9
_INVERSE_MAX_STEPS = 10


class UnknownCrsError(ValueError):
    """A CRS name other than those in CRS_NAMES.

    >>> UnknownCrsError("epsg:4490").name
    'epsg:4490'
    """

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown CRS {name!r}; expected one of: {', '.join(CRS_NAMES)}")
        self.name = name


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _gcj02_shift(x: np.ndarray, y: np.ndarray) -> _Pair:
    """The obfuscation polynomials, in metres-like units, of x = lon - 105, y = lat - 35."""
    wave = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)) + wave
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += wave + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return dlon, dlat


def _wgs84_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> _Pair:
    dlon, dlat = _gcj02_shift(lon - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    inside = _in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def _gcj02_to_bd09(lon: np.ndarray, lat: np.ndarray) -> _Pair:
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd09_to_gcj02_approx(lon: np.ndarray, lat: np.ndarray) -> _Pair:
    """Baidu's published inverse: off by up to ~0.2 m, so only a starting guess."""
    x, y = lon - 0.0065, lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _invert(forward: _Transform, lon: np.ndarray, lat: np.ndarray, guess: _Pair) -> _Pair:
    """Solve forward(x) = (lon, lat) by the fixed-point step x <- x - (forward(x) - target)."""
    x_lon, x_lat = guess
    for _ in range(_INVERSE_MAX_STEPS):
        f_lon, f_lat = forward(x_lon, x_lat)
        err_lon, err_lat = f_lon - lon, f_lat - lat
        x_lon, x_lat = x_lon - err_lon, x_lat - err_lat
        worst = max(np.max(np.abs(err_lon), initial=0.0), np.max(np.abs(err_lat), initial=0.0))
        if worst < _INVERSE_TOLERANCE_DEG:
            break
    return x_lon, x_lat


def _gcj02_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> _Pair:
    return _invert(_wgs84_to_gcj02, lon, lat, (lon, lat))


def _bd09_to_gcj02(lon: np.ndarray, lat: np.ndarray) -> _Pair:
    return _invert(_gcj02_to_bd09, lon, lat, _bd09_to_gcj02_approx(lon, lat))


def _wgs84_to_bd09(lon: np.ndarray, lat: np.ndarray) -> _Pair:
    return _gcj02_to_bd09(*_wgs84_to_gcj02(lon, lat))


def _bd09_to_wgs84(lon: np.ndarray, lat: np.ndarray) -> _Pair:
    return _gcj02_to_wgs84(*_bd09_to_gcj02(lon, lat))


def _identity(lon: np.ndarray, lat: np.ndarray) -> _Pair:
    return lon, lat


def _apply(transform: _Transform, lon: ArrayLike, lat: ArrayLike) -> LonLat:
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    out_lon, out_lat = transform(lon_a, lat_a)
    if lon_a.ndim == 0 and lat_a.ndim == 0:
        return float(out_lon), float(out_lat)
    return out_lon, out_lat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """WGS 84 to GCJ-02; outside China GCJ-02 is WGS 84.

    >>> wgs84_to_gcj02(2.35, 48.85)  # Paris
    (2.35, 48.85)
    """
    return _apply(_wgs84_to_gcj02, lon, lat)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """GCJ-02 to WGS 84, iterating the forward transform to within 1e-9 degrees.

    >>> lon, lat = gcj02_to_wgs84(np.array([106.82972]), np.array([39.67489]))
    >>> lon.round(4).tolist(), lat.round(4).tolist()
    ([106.825], [39.674])
    """
    return _apply(_gcj02_to_wgs84, lon, lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """GCJ-02 to BD-09.

    >>> [round(v, 4) for v in gcj02_to_bd09(106.8297, 39.6749)]
    [106.8362, 39.6809]
    """
    return _apply(_gcj02_to_bd09, lon, lat)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """BD-09 to GCJ-02, refining Baidu's approximate inverse to within 1e-9 degrees.

    >>> [round(v, 4) for v in bd09_to_gcj02(106.8362, 39.6809)]
    [106.8297, 39.6749]
    """
    return _apply(_bd09_to_gcj02, lon, lat)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """WGS 84 to BD-09.

    >>> [round(v, 4) for v in wgs84_to_bd09(106.825, 39.674)]
    [106.8362, 39.6809]
    """
    return _apply(_wgs84_to_bd09, lon, lat)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """BD-09 to WGS 84.

    >>> [round(v, 4) for v in bd09_to_wgs84(106.8362, 39.68089)]
    [106.825, 39.674]
    """
    return _apply(_bd09_to_wgs84, lon, lat)


_TO_WGS84: dict[str, _Transform] = {
    "wgs84": _identity,
    "gcj02": _gcj02_to_wgs84,
    "bd09": _bd09_to_wgs84,
}
_FROM_WGS84: dict[str, _Transform] = {
    "wgs84": _identity,
    "gcj02": _wgs84_to_gcj02,
    "bd09": _wgs84_to_bd09,
}


def _lookup(table: dict[str, _Transform], crs: str) -> _Transform:
    try:
        return table[crs]
    except KeyError:
        raise UnknownCrsError(crs) from None


def to_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str) -> LonLat:
    """Convert from the CRS named `crs` (one of CRS_NAMES) to WGS 84.

    >>> [round(v, 4) for v in to_wgs84(106.8362, 39.68089, "bd09")]
    [106.825, 39.674]
    >>> to_wgs84(106.825, 39.674, "wgs84")
    (106.825, 39.674)
    """
    return _apply(_lookup(_TO_WGS84, crs), lon, lat)


def from_wgs84(lon: ArrayLike, lat: ArrayLike, crs: str) -> LonLat:
    """Convert from WGS 84 to the CRS named `crs` (one of CRS_NAMES).

    >>> [round(v, 5) for v in from_wgs84(106.825, 39.674, "gcj02")]
    [106.82972, 39.67489]
    """
    return _apply(_lookup(_FROM_WGS84, crs), lon, lat)
