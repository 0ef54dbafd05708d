"""A deterministic demo city laid on the real map of Wuhai (乌海市, Inner Mongolia).

Grids are Voronoi cells of a jittered lattice, built in UTM metres and never clipped, so
neighbours share identical vertices; communities, streets and districts are exact unions
of them. The whole city therefore forms a valid coverage at every level.

>>> city = build_demo_city()
>>> city.grids.loc[city.grids["code"] == DEMO_GRID_CODE, "name"].item()
'团结社区第一网格'
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo import demo_names as names
from geo.demo_names import DISTRICTS, DistrictSpec, numeral

DEMO_GRID_CODE = "15030200100101"
DEMO_ACCOUNTS: dict[str, str] = {
    "city_admin": "13900000001",
    "district_admin": "13900000002",
    "street_staff": "13900000003",
    "community_staff": "13900000004",
    "grid_leader": "13900000005",
    "grid_police": "13900000006",
    "grid_worker": "13900000007",
    "resident": "13900000009",
}
METRIC_CRS = "EPSG:32648"  # UTM 48N holds all of Wuhai
GRIDS_PER_COMMUNITY = 5.5
_TO_METRIC = Transformer.from_crs(4326, METRIC_CRS, always_xy=True)
_TO_LONLAT = Transformer.from_crs(METRIC_CRS, 4326, always_xy=True)


@dataclass
class DemoCity:
    """The demo tables; geometries in EPSG:4326."""

    areas: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    service_points: gpd.GeoDataFrame
    people: pd.DataFrame
    posts: pd.DataFrame


def _district_cells(spec: DistrictSpec, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Voronoi cells of the lattice seeds inside a wobbly tilted ellipse, and their rows."""
    cx, cy = _TO_METRIC.transform(spec.lon, spec.lat)
    theta = np.linspace(0, 2 * np.pi, 120, endpoint=False)
    phase = rng.uniform(0, 2 * np.pi, 2)
    r = 1 + 0.06 * np.sin(2 * theta + phase[0]) + 0.04 * np.sin(3 * theta + phase[1])
    u, v = spec.half_width_m * r * np.cos(theta), spec.half_height_m * r * np.sin(theta)
    tilt = np.radians(-spec.tilt_deg)
    outline = shapely.Polygon(
        np.c_[cx + u * np.cos(tilt) - v * np.sin(tilt), cy + u * np.sin(tilt) + v * np.cos(tilt)]
    )
    s, row_step = spec.spacing_m, spec.spacing_m * np.sqrt(3) / 2
    reach = 1.3 * max(spec.half_width_m, spec.half_height_m) + 2 * s
    cols, rows = np.meshgrid(
        np.arange(-reach, reach, s), np.arange(-reach // row_step, reach // row_step + 1)
    )
    seeds = np.c_[(cols + (rows % 2) * s / 2).ravel() + cx, (rows * row_step).ravel() + cy]
    seeds += rng.uniform(-0.3 * s, 0.3 * s, seeds.shape)
    frame = shapely.box(*(seeds.min(0) - s), *(seeds.max(0) + s))
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame, ordered=True)
    )
    keep = shapely.contains_xy(outline, seeds[:, 0], seeds[:, 1])
    keep &= ~shapely.intersects(cells, frame.boundary)
    return cells[keep], rows.ravel()[keep]


def _adjacency(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of cells sharing an edge (not just a corner), with the shared length."""
    i, j = shapely.STRtree(cells).query(cells, predicate="intersects")
    i, j = i[i < j], j[i < j]
    border = shapely.length(shapely.intersection(cells[i], cells[j]))
    return np.c_[i, j][border > 0], border[border > 0]


def _balanced_labels(xy: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k compact clusters of about equal size: Lloyd iterations on a power diagram."""
    centres = xy[[rng.integers(len(xy))]]
    while len(centres) < k:  # k-means++ seeding spreads the start
        d2 = ((xy[:, None] - centres[None]) ** 2).sum(-1).min(1)
        centres = np.vstack([centres, xy[rng.choice(len(xy), p=d2 / d2.sum())]])
    weights, target = np.zeros(k), len(xy) / k
    scale = ((xy - xy.mean(0)) ** 2).sum(1).mean() / k
    for _ in range(60):
        labels = (((xy[:, None] - centres[None]) ** 2).sum(-1) - weights).argmin(1)
        sizes = np.bincount(labels, minlength=k)
        weights += 0.5 * scale * (target - sizes) / target
        grown = sizes > 0
        sums = np.c_[np.bincount(labels, xy[:, 0], k), np.bincount(labels, xy[:, 1], k)]
        centres[grown] = sums[grown] / sizes[grown, None]
    return (((xy[:, None] - centres[None]) ** 2).sum(-1) - weights).argmin(1)


def _contiguous(labels: np.ndarray, pairs: np.ndarray, border: np.ndarray) -> np.ndarray:
    """Give each detached piece of a cluster to the neighbour sharing its longest border."""
    labels = labels.copy()
    neighbours: list[list[tuple[int, float]]] = [[] for _ in labels]
    for (a, b), length in zip(pairs, border, strict=True):
        neighbours[a].append((b, length))
        neighbours[b].append((a, length))
    moved = True
    while moved:
        moved = False
        for piece in _detached_pieces(labels, neighbours):
            shared: dict[int, float] = {}
            for cell in piece:
                for other, length in neighbours[cell]:
                    if labels[other] != labels[cell]:
                        shared[labels[other]] = shared.get(labels[other], 0.0) + length
            if shared:
                labels[piece] = max(shared, key=shared.__getitem__)
                moved = True
    return labels


def _detached_pieces(labels: np.ndarray, neighbours: list) -> list[list[int]]:
    """Every connected piece of every cluster except each cluster's largest."""
    seen = np.zeros(len(labels), dtype=bool)
    pieces: dict[int, list[list[int]]] = {}
    for start in range(len(labels)):
        if seen[start]:
            continue
        piece, stack, seen[start] = [], [start], True
        while stack:
            cell = stack.pop()
            piece.append(cell)
            for other, _ in neighbours[cell]:
                if not seen[other] and labels[other] == labels[start]:
                    seen[other] = True
                    stack.append(other)
        pieces.setdefault(int(labels[start]), []).append(piece)
    return [p for group in pieces.values() for p in sorted(group, key=len)[:-1]]


def _north_first(labels: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Relabel clusters 0..k-1 from north to south by the mean y of their cells."""
    _, inverse = np.unique(labels, return_inverse=True)
    mean_y = np.bincount(inverse, xy[:, 1]) / np.bincount(inverse)
    rank = np.empty(len(mean_y), dtype=int)
    rank[np.argsort(-mean_y, kind="stable")] = np.arange(len(mean_y))
    return rank[inverse]


def _lay_out_district(spec: DistrictSpec, rng: np.random.Generator) -> pd.DataFrame:
    """One row per grid: metric geometry, street and community, row-major serial."""
    cells, rows = _district_cells(spec, rng)
    pairs, border = _adjacency(cells)
    xy = shapely.get_coordinates(shapely.centroid(cells))
    street = _contiguous(_balanced_labels(xy, len(spec.streets), rng), pairs, border)
    street = _north_first(street, xy)
    community = np.zeros(len(cells), dtype=int)
    for s in range(len(spec.streets)):
        members = np.flatnonzero(street == s)
        k = int(np.clip(round(len(members) / GRIDS_PER_COMMUNITY), 3, 6))
        community[members] = s * 10 + _balanced_labels(xy[members], k, rng)
    same_street = street[pairs[:, 0]] == street[pairs[:, 1]]
    community = _contiguous(community, pairs[same_street], border[same_street])
    for s in range(len(spec.streets)):
        members = np.flatnonzero(street == s)
        community[members] = _north_first(community[members], xy[members])
    table = pd.DataFrame({"street": street, "community": community, "row": rows, "x": xy[:, 0]})
    table["geometry"] = cells
    table = table.sort_values(["street", "community", "row", "x"], ascending=[1, 1, 0, 1])
    table["serial"] = table.groupby(["street", "community"]).cumcount() + 1
    return _name_district(table.reset_index(drop=True), spec)


def _name_district(table: pd.DataFrame, spec: DistrictSpec) -> pd.DataFrame:
    """Codes and names from the spec; in a town the northernmost community is the seat."""
    streets = [spec.streets[s] for s in table["street"]]
    town = np.array([st.suffix >= "100" for st in streets])
    local = table["community"].to_numpy()
    village = town & (local > 0)
    number = np.where(village, 199 + local, local + 1)
    table["district_code"], table["district_name"] = spec.code, spec.name
    table["street_code"] = [spec.code + st.suffix for st in streets]
    table["street_name"] = [st.name for st in streets]
    table["community_code"] = table["street_code"] + pd.Series(number).map("{:03d}".format)
    table["community_name"] = [st.communities[c] for st, c in zip(streets, local, strict=True)]
    table["code"] = table["community_code"] + table["serial"].map("{:02d}".format)
    table["name"] = [
        f"{c}第{numeral(n)}网格"
        for c, n in zip(table["community_name"], table["serial"], strict=True)
    ]
    table["kind"] = np.where(village, "village", "community")
    return table


def _grid_table(rng: np.random.Generator) -> pd.DataFrame:
    """All grids (metric geometry) with their names, kinds and residential compounds."""
    grids = pd.concat([_lay_out_district(spec, rng) for spec in DISTRICTS])
    grids = grids.sort_values("code", ignore_index=True)
    grids["place"] = None
    for spec in DISTRICTS:
        pool = (grids["district_code"] == spec.code) & (grids["kind"] == "community")
        chosen = rng.choice(
            np.flatnonzero(pool & (grids["serial"] > 1)), len(spec.dedicated), False
        )
        grids.loc[chosen, "kind"] = "dedicated"
        grids.loc[chosen, "place"] = spec.dedicated
        grids.loc[chosen, "name"] = [f"{place}专属网格" for place in spec.dedicated]
    first = grids["community_name"].str.removesuffix("社区") + "小区"
    stems = [a + b for a in names.COMPOUND_STEMS for b in names.COMPOUND_SUFFIXES]
    stems = rng.permutation([s for s in stems if s not in set(first)])[: len(grids)]
    compound = np.where(grids["serial"] == 1, first, stems)
    grids["compound"] = np.where(grids["kind"] == "community", compound, None)
    return grids


def _area_table(grids: pd.DataFrame) -> pd.DataFrame:
    """City, districts, streets and communities as exact unions of their grids."""
    cells = grids["geometry"].to_numpy()
    frames = []
    for level, parent in (("district", "city"), ("street", "district"), ("community", "street")):
        heads = grids.drop_duplicates(f"{level}_code")
        members = grids.groupby(f"{level}_code", sort=False).indices
        union = [shapely.coverage_union_all(cells[members[c]]) for c in heads[f"{level}_code"]]
        parents = heads.get(f"{parent}_code", pd.Series(names.CITY_CODE, index=heads.index))
        frames.append(
            pd.DataFrame(
                {
                    "code": heads[f"{level}_code"],
                    "name": heads[f"{level}_name"],
                    "level": level,
                    "parent_code": parents,
                    "geometry": union,
                }
            )
        )
    city = {
        "code": names.CITY_CODE,
        "name": names.CITY_NAME,
        "level": "city",
        "parent_code": None,
        "geometry": shapely.coverage_union_all(frames[0]["geometry"].to_numpy()),
    }
    areas = pd.concat([pd.DataFrame([city]), *(f.sort_values("code") for f in frames)])
    areas = areas.reset_index(drop=True)
    areas["parent_code"] = areas["parent_code"].astype(object).where(areas["level"] != "city", None)
    return areas


SLOT_M = (75.0, 40.0)  # slabs run east–west, rows about 20 m apart
MARGIN_M = 15.0
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


def _building_table(grids: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
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


WARM_STATIONS = 15
RED_PROPERTIES = 20


def _inside_points(shapes: np.ndarray, rng: np.random.Generator, inset: float = 30.0) -> np.ndarray:
    """A random point well inside each shape (rejection sampling, all shapes at once)."""
    inner = shapely.buffer(shapes, -inset)
    inner = np.where(shapely.is_empty(inner), shapes, inner)
    box = shapely.bounds(inner)
    x = box[:, [0]] + rng.random((len(inner), 200)) * (box[:, [2]] - box[:, [0]])
    y = box[:, [1]] + rng.random((len(inner), 200)) * (box[:, [3]] - box[:, [1]])
    hit = shapely.contains_xy(inner[:, None], x, y)
    pick = hit.argmax(1)
    points = shapely.points(x[np.arange(len(x)), pick], y[np.arange(len(y)), pick])
    return np.where(hit.any(1), points, shapely.point_on_surface(inner))


def _service_point_table(
    areas: pd.DataFrame, grids: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Party centres for every area, driver homes on district edges, stations, red property."""
    shapes = areas["geometry"].to_numpy().copy()
    seat = areas.index[areas["code"] == names.CITY_SEAT]
    shapes[areas["level"] == "city"] = shapes[seat]  # the city centre stands in its seat district
    party = pd.DataFrame(
        {
            "code": "DQ-" + areas["code"],
            "name": areas["name"] + "党群服务中心",
            "kind": "party_centre",
            "level": areas["level"],
            "area_code": areas["code"],
            "hours": areas["level"].map(names.PARTY_CENTRE_HOURS),
            "geometry": _inside_points(shapes, rng),
        }
    )
    districts = areas[areas["level"] == "district"].set_index("code")["geometry"]
    # Driver homes sit by the ring roads, just inside each district's edge.
    edge = [
        shapely.line_interpolate_point(
            shapely.buffer(districts[spec.code], -150).exterior,
            (rng.random() + np.arange(spec.driver_homes) / spec.driver_homes) % 1,
            normalized=True,
        )
        for spec in DISTRICTS
    ]
    drivers = pd.DataFrame(
        {"kind": "driver_home", "hours": "24小时", "geometry": np.concatenate(edge)}
    )
    urban = grids[grids["kind"] == "community"]
    hosts = urban.drop_duplicates("community_code")
    hosts = hosts.iloc[np.sort(rng.choice(len(hosts), WARM_STATIONS, replace=False))]
    warm = pd.DataFrame(
        {
            "kind": "warm_station",
            "name": (hosts["community_name"] + "暖心驿站").to_numpy(),
            "area_code": hosts["community_code"].to_numpy(),
            "hours": rng.choice(["24小时", "07:00-21:00"], WARM_STATIONS),
            "geometry": _inside_points(
                areas.set_index("code").loc[hosts["community_code"], "geometry"].to_numpy(), rng
            ),
        }
    )
    served = urban.iloc[np.sort(rng.choice(len(urban), RED_PROPERTIES, replace=False))]
    red = pd.DataFrame(
        {
            "kind": "red_property",
            "name": (served["compound"] + "红色物业服务站").to_numpy(),
            "area_code": served["code"].to_numpy(),
            "hours": "08:00-20:00",
            "geometry": _inside_points(served["geometry"].to_numpy(), rng),
        }
    )
    points = pd.concat([party, drivers, warm, red], ignore_index=True)
    return _address_points(points, grids, rng)


def _address_points(
    points: pd.DataFrame, grids: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Street addresses, phones and missing codes/names from the grid each point falls in."""
    at, cell = shapely.STRtree(grids["geometry"].to_numpy()).query(
        points["geometry"].to_numpy(), predicate="within"
    )
    home = grids.iloc[cell[np.unique(at, return_index=True)[1]]].reset_index(drop=True)
    road = rng.choice(names.ROADS, len(points))
    number = pd.Series(rng.integers(1, 300, len(points))).astype(str)
    points["address"] = (
        home["district_name"] + home["street_name"] + home["community_name"] + road + number + "号"
    )
    points["phone"] = [
        f"{names.AREA_PHONE_PREFIX}{n}" for n in rng.integers(2000000, 7000000, len(points))
    ]
    drivers = points["kind"] == "driver_home"
    points.loc[drivers, "name"] = (home["district_name"] + road + "司机之家")[drivers]
    points.loc[drivers, "area_code"] = home["community_code"][drivers]
    for kind, prefix in (("driver_home", "SJ"), ("warm_station", "NX"), ("red_property", "HW")):
        mine = points["kind"] == kind
        points.loc[mine, "code"] = [f"{prefix}-{i:03d}" for i in range(1, mine.sum() + 1)]
    points["level"] = points["level"].astype(object).where(points["kind"] == "party_centre", None)
    return points


AREA_ROLES = {
    "city": ("city_admin", 3),
    "district": ("district_admin", 2),
    "street": ("street_staff", 3),
}
GRID_ROLES = {"leader": "grid_leader", "police": "grid_police", "fulltime": "grid_worker"}
EMPTIED_POSTS = ("police", "fulltime", "leader", "parttime")
RESIDENTS_PER_COMMUNITY = 20
# Where the area-level demo accounts work; the others work in (or live by) DEMO_GRID_CODE.
DEMO_AREAS = {
    "city_admin": names.CITY_CODE,
    "district_admin": DEMO_GRID_CODE[:6],
    "street_staff": DEMO_GRID_CODE[:9],
}


def _phones(n: int, rng: np.random.Generator) -> np.ndarray:
    """n unique mobile numbers, none in the 1390000xxxx block kept for demo accounts."""
    prefixes = np.r_[130:140, 150:154, 155:160, 180:190]
    numbers = rng.choice(prefixes, 2 * n + 100) * 10**8 + rng.integers(0, 10**8, 2 * n + 100)
    numbers = pd.unique(numbers[(numbers < 139_0000_0000) | (numbers >= 139_0010_0000)])
    return numbers[:n].astype(str)


class _Roster:
    """People in hiring order (demo accounts keep their fixed phones) and the posts they hold."""

    def __init__(self) -> None:
        self.people: list[tuple[str, str, str | None]] = []
        self.posts: list[tuple[str, int, str]] = []

    def hire(self, role: str, area: str, demo: bool = False) -> int:
        self.people.append((role, area, DEMO_ACCOUNTS[role] if demo else None))
        return len(self.people) - 1

    def tables(self, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
        role, area, phone = (
            np.array(column, dtype=object) for column in zip(*self.people, strict=True)
        )
        free = pd.isna(phone)
        phone[free] = _phones(int(free.sum()), rng)
        people = pd.DataFrame(
            {
                "phone": phone.astype(str),
                "name": names.person_names(len(role), rng),
                "role": role.astype(str),
                "area_code": area.astype(str),
            }
        )
        grid, who, post = zip(*self.posts, strict=True)
        posts = pd.DataFrame(
            {"grid_code": grid, "phone": people["phone"].to_numpy()[list(who)], "post": post}
        )
        return people, posts


def _staff_grid(
    roster: _Roster, code: str, missing: str | None, secretary: int, rng: np.random.Generator
) -> None:
    """Fill the posts of one grid, all but the `missing` one; staff work for its community."""
    community = code[:12]
    for post, role in GRID_ROLES.items():
        if post != missing:
            roster.posts.append((code, roster.hire(role, community, code == DEMO_GRID_CODE), post))
    if missing != "parttime":
        for _ in range(rng.integers(1, 4)):
            roster.posts.append((code, roster.hire("grid_worker", community), "parttime"))
    roster.posts.append((code, secretary, "party_secretary"))


def _people_and_posts(
    areas: pd.DataFrame, grids: pd.DataFrame, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Staff for every area, the posts of every grid (a few left empty), and residents."""
    roster = _Roster()
    demo_community = DEMO_GRID_CODE[:12]
    for level, (role, count) in AREA_ROLES.items():
        for code in areas.loc[areas["level"] == level, "code"]:
            for i in range(count):
                roster.hire(role, code, i == 0 and code == DEMO_AREAS[role])
    # One community worker per two grids doubles as their party-branch secretary.
    staff = {
        code: [
            roster.hire("community_staff", code, i == 0 and code == demo_community)
            for i in range(max(3, -(-size // 2)))
        ]
        for code, size in grids.groupby("community_code", sort=False).size().items()
    }
    emptied = rng.choice(
        np.flatnonzero(grids["code"] != DEMO_GRID_CODE), round(len(grids) / 25), False
    )
    missing = dict(zip(np.sort(emptied), np.resize(EMPTIED_POSTS, len(emptied)), strict=True))
    for g, (code, serial) in enumerate(zip(grids["code"], grids["serial"], strict=True)):
        secretaries = staff[code[:12]]
        _staff_grid(roster, code, missing.get(g), secretaries[(serial - 1) % len(secretaries)], rng)
    for code in staff:
        for i in range(RESIDENTS_PER_COMMUNITY):
            roster.hire("resident", code, i == 0 and code == demo_community)
    return roster.tables(rng)


def _to_lonlat(geoms: np.ndarray) -> np.ndarray:
    """Every vertex through one transformer and one rounding: shared vertices stay shared."""

    def project(xy: np.ndarray) -> np.ndarray:
        return np.round(np.column_stack(_TO_LONLAT.transform(xy[:, 0], xy[:, 1])), 7)

    return shapely.remove_repeated_points(shapely.transform(geoms, project))


def _frame(table: pd.DataFrame, columns: list[str]) -> gpd.GeoDataFrame:
    geometry = _to_lonlat(table["geometry"].to_numpy())
    return gpd.GeoDataFrame(table[columns].reset_index(drop=True), geometry=geometry, crs=4326)


def build_demo_city(seed: int = 2026) -> DemoCity:
    """Build the whole demo city; the same seed always gives the same tables.

    >>> city = build_demo_city()
    >>> sorted(city.areas["level"].unique())
    ['city', 'community', 'district', 'street']
    """
    rng = np.random.default_rng(seed)
    grids = _grid_table(rng)
    areas = _area_table(grids)
    buildings = _building_table(grids, rng)
    points = _service_point_table(areas, grids, rng)
    people, posts = _people_and_posts(areas, grids, rng)
    return DemoCity(
        areas=_frame(areas, ["code", "name", "level", "parent_code"]),
        grids=_frame(
            grids.rename(columns={"community_code": "parent_code"}),
            ["code", "name", "parent_code", "kind"],
        ),
        buildings=_frame(
            buildings, ["code", "name", "address", "floors", "households", "grid_code"]
        ),
        service_points=_frame(
            points, ["code", "name", "kind", "level", "area_code", "address", "hours", "phone"]
        ),
        people=people,
        posts=posts,
    )
