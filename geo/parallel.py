"""Running a vectorised shapely function on every core.

Shapely 2 releases the GIL inside its vectorised functions, so splitting the arrays into one
slice per core and running the slices in threads divides their wall time by the number of
cores. GEOS geometries shared between threads, above all prepared ones, are not safe (a
prepared containment test run this way crashed the process): `on_all_cores` is for functions
of one geometry each (validity), whose slices share nothing; `pairs_on_all_cores` compares
pairs (a building and a grid) by giving every thread its own copy of the few geometries that
many pairs share, and its own run of the many others.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from itertools import pairwise
from typing import Any

import numpy as np
import shapely

# Below this many elements a split costs more than it saves.
MIN_SPLIT = 20_000


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="geo")


def on_all_cores(fn: Callable[..., np.ndarray], *arrays: np.ndarray, **kwargs: Any) -> np.ndarray:
    """``fn(*arrays, **kwargs)``, computed slice by slice in parallel; same result.

    >>> import shapely
    >>> boxes = shapely.box(np.arange(50_000), 0, np.arange(50_000) + 1, 1)
    >>> bool((on_all_cores(shapely.area, boxes) == 1).all())
    True
    """
    n = len(arrays[0])
    cores = os.cpu_count() or 1
    if cores == 1 or n < MIN_SPLIT:
        return fn(*arrays, **kwargs)
    bounds = np.linspace(0, n, cores + 1, dtype=int)
    futures = [
        _pool().submit(fn, *(a[start:end] for a in arrays), **kwargs)
        for start, end in pairwise(bounds)
    ]
    return np.concatenate([f.result() for f in futures])


def pairs_on_all_cores(
    fn: Callable[[np.ndarray, np.ndarray], np.ndarray],
    own: np.ndarray,
    own_index: np.ndarray,
    shared: np.ndarray,
    shared_index: np.ndarray,
    *,
    min_split: int = MIN_SPLIT,
) -> np.ndarray:
    """``fn(own[own_index], shared[shared_index])``, computed slice by slice in parallel.

    ``own_index`` must be ascending: the slices are cut where it changes, so no geometry of
    ``own`` is touched by two threads. Every thread works on its own copy of ``shared``.

    >>> import shapely
    >>> cells = shapely.box(np.arange(3), 0, np.arange(3) + 1, 1)
    >>> dots = shapely.buffer(shapely.points(np.arange(30_000) % 3 + 0.5, 0.5), 0.1)
    >>> parts = pairs_on_all_cores(shapely.intersection, dots, np.arange(30_000),
    ...                            cells, np.arange(30_000) % 3)
    >>> bool(np.allclose(shapely.area(parts), shapely.area(dots)))
    True
    """
    n = len(own_index)
    if n > 1 and (np.diff(own_index) < 0).any():
        raise ValueError("own_index must be ascending")
    cores = os.cpu_count() or 1
    if cores == 1 or n < min_split:
        return fn(own[own_index], shared[shared_index])
    cuts = np.linspace(0, n, cores + 1, dtype=int)
    # Move every cut back to the first pair of its geometry: a geometry stays in one slice.
    cuts[1:-1] = np.searchsorted(own_index, own_index[cuts[1:-1]], side="left")
    wkb = shapely.to_wkb(shared)

    def run(start: int, end: int) -> np.ndarray:
        copy = shapely.from_wkb(wkb)
        return fn(own[own_index[start:end]], copy[shared_index[start:end]])

    futures = [_pool().submit(run, start, end) for start, end in pairwise(cuts)]
    return np.concatenate([f.result() for f in futures])
