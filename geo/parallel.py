"""Running a vectorised shapely function on every core.

Shapely 2 releases the GIL inside its vectorised functions, so splitting the arrays into one
slice per core and running the slices in threads divides their wall time by the number of
cores. Only for functions of one geometry each (validity, encoding): GEOS geometries shared
between threads, above all prepared ones, are not safe (a prepared containment test run
this way crashed the process).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from itertools import pairwise
from typing import Any

import numpy as np

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
