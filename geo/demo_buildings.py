"""Building footprints of the demo city, drawn in metres inside its grids.

Each grid gets a lattice of slots turned to its own street axis; a rectangle in each slot
that clears the grid's margin is a candidate, and the slots nearest a random heart become
the grid's buildings, so they cluster like a compound. A large countryside grid gets its slots
only in a window around one random spot: a hamlet, not houses spread over the desert.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geo.demo_names import numeral

SLOT_M = (75.0, 40.0)  # slabs run east–west, rows about 20 m apart
MARGIN_M = 15.0
WINDOW_M = 800.0  # the hamlet of a countryside grid
BUILDINGS_PER_GRID = {"community": (22, 38), "village": (8, 16), "dedicated": (6, 12)}


def _slots(grids: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """A lattice of building slots over each grid, turned to the grid's own street axis."""
    inner = shapely.buffer(grids["geometry"].to_numpy(), -MARGIN_M)
    angles = rng.uniform(-0.2, 0.2, len(grids))
    frames = []
    for g, (shape, angle) in enumerate(zip(inner, angles, strict=True)):
        centre = shapely.get_coordinates(shapely.centroid(shape))[0]
        local = (shapely.get_coordinates(shape) - centre) @ _rotation(-angle).T
        us = np.arange(local[:, 0].min() + SLOT_M[0] / 2, local[:, 0].max(), SLOT_M[0])
        vs = np.arange(local[:, 1].max() - SLOT_M[1] / 2, local[:, 1].min(), -SLOT_M[1])
        if np.ptp(local, axis=0).max() > WINDOW_M:
            spot = _spot(shape, rng)
            hu, hv = (spot - centre) @ _rotation(-angle).T
            us = us[np.abs(us - hu) < WINDOW_M / 2]
            vs = vs[np.abs(vs - hv) < WINDOW_M / 2]
        row, col = np.indices((len(vs), len(us)))
        frames.append(
            pd.DataFrame(
                {
                    "g": g,
                    "row": row.ravel(),
                    "col": col.ravel(),
                    "u": us[col.ravel()],
                    "v": vs[row.ravel()],
                    "angle": angle,
                    "cx": centre[0],
                    "cy": centre[1],
                }
            )
        )
    slots = pd.concat(frames, ignore_index=True)
    slots["inner"] = inner[slots["g"]]
    return slots


def _spot(shape: shapely.Geometry, rng: np.random.Generator) -> np.ndarray:
    """A random point inside ``shape`` (rejection sampling in its box)."""
    x0, y0, x1, y1 = shapely.bounds(shape)
    while True:
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if shapely.contains_xy(shape, x, y):
            return np.array([x, y])


def _rotation(angle: float | np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s], [s, c]])


def _footprints(slots: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """A slightly turned rectangle in every slot, kept only if inside its grid's margin."""
    n = len(slots)
    length, width = rng.uniform(25, 60, n), rng.uniform(10, 20, n)
    turn = rng.uniform(-0.05, 0.05, n)
    # Jitter only as far as the turned rectangle still fits its slot: no two can touch.
    reach_u = length * np.cos(turn) + width * np.abs(np.sin(turn))
    reach_v = width * np.cos(turn) + length * np.abs(np.sin(turn))
    u = slots["u"] + rng.uniform(-1, 1, n) * np.maximum(0, (SLOT_M[0] - reach_u) / 2 - 1)
    v = slots["v"] + rng.uniform(-1, 1, n) * np.maximum(0, (SLOT_M[1] - reach_v) / 2 - 1)
    angle = slots["angle"].to_numpy()
    centre = np.c_[slots["cx"], slots["cy"]] + np.einsum("ijn,jn->ni", _rotation(angle), [u, v])
    corners = np.array([(-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)]) / 2
    offsets = corners[None] * np.c_[length, width][:, None]
    ring = centre[:, None] + np.einsum("ijn,nkj->nki", _rotation(angle + turn), offsets)
    slots = slots.assign(geometry=shapely.polygons(ring), length=length)
    return slots[shapely.contains(slots["inner"].to_numpy(), slots["geometry"].to_numpy())]


def _pick_compounds(
    slots: pd.DataFrame, grids: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Per grid, the slots nearest a random heart: buildings cluster like a compound."""
    low, high = np.array([BUILDINGS_PER_GRID[k] for k in grids["kind"]]).T
    wanted = rng.integers(low, high + 1)
    slots = slots.assign(key=rng.random(len(slots)))
    heart = slots.loc[slots.groupby("g")["key"].idxmin()].set_index("g")
    dx = slots["u"] - heart.loc[slots["g"], "u"].to_numpy()
    dy = slots["v"] - heart.loc[slots["g"], "v"].to_numpy()
    rank = slots.assign(d=np.hypot(dx, dy)).groupby("g")["d"].rank(method="first")
    chosen = slots[rank.to_numpy() <= wanted[slots["g"]]].sort_values(["g", "row", "col"])
    return chosen.assign(serial=chosen.groupby("g").cumcount() + 1)


def building_table(grids: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Footprints with code, name, address, floors and households (metric geometry)."""
    picked = _pick_compounds(_footprints(_slots(grids, rng), rng), grids, rng)
    home = grids.iloc[picked["g"].to_numpy()].reset_index(drop=True)
    kind = home["kind"].to_numpy()
    units = np.clip(np.round(picked["length"].to_numpy() / 15), 1, 4).astype(int)
    tall = rng.choice([5, 6, 6, 6, 6, 7, 11, 18, 26], len(home))
    floors = np.select(
        [kind == "village", kind == "dedicated"],
        [rng.integers(1, 3, len(home)), rng.integers(2, 7, len(home))],
        tall,
    )
    households = np.select([kind == "village", kind == "dedicated"], [units, 0], floors * units * 2)
    serial = picked["serial"].to_numpy()
    label = np.select(
        [kind == "village", kind == "dedicated"],
        [home["community_name"] + home["serial"].map(numeral) + "组", home["place"].astype(str)],
        home["compound"].astype(str),
    )
    name = [
        f"{lab}{n}号" if k == "village" else f"{lab}{n}号楼"
        for lab, n, k in zip(label, serial, kind, strict=True)
    ]
    community_part = np.where(kind == "village", "", home["community_name"])
    return pd.DataFrame(
        {
            "code": home["code"] + "-" + pd.Series(serial).map("{:03d}".format),
            "name": name,
            "address": home["district_name"] + home["street_name"] + community_part + name,
            "floors": floors.astype(int),
            "households": households.astype(int),
            "grid_code": home["code"],
            "geometry": picked["geometry"].to_numpy(),
        }
    )
