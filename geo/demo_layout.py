"""Districts of the demo city as Voronoi cells, grouped into streets and communities.

Each district's town is a jittered lattice of seeds inside a wobbly tilted ellipse, in UTM
metres; the seeds' Voronoi cells are its grids. Streets and communities are compact,
contiguous clusters of cells numbered north to south. The rest of the district's real outline
is the towns' countryside (``geo.demo_rural``), in large village grids; every area is the
exact union of its grids, computed in lon/lat where the outlines are exact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo import demo_names as names
from geo.demo_names import DISTRICTS, DistrictSpec, numeral
from geo.demo_rural import countryside_cells, district_outlines, tile

METRIC_CRS = "EPSG:32648"  # UTM 48N holds all of Wuhai
GRIDS_PER_COMMUNITY = 5.5
GRIDS_PER_VILLAGE = 5  # in the countryside
MIN_GRIDS_PER_VILLAGE = 3
_TO_METRIC = Transformer.from_crs(4326, METRIC_CRS, always_xy=True)
_TO_LONLAT = Transformer.from_crs(METRIC_CRS, 4326, always_xy=True)


def to_lonlat(geoms: np.ndarray) -> np.ndarray:
    """Every vertex through one transformer and one rounding: shared vertices stay shared."""

    def project(xy: np.ndarray) -> np.ndarray:
        return np.round(np.column_stack(_TO_LONLAT.transform(xy[:, 0], xy[:, 1])), 7)

    return shapely.remove_repeated_points(shapely.transform(geoms, project))


def to_metric(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(geoms, _metres)


def _metres(xy: np.ndarray) -> np.ndarray:
    return np.column_stack(_TO_METRIC.transform(xy[:, 0], xy[:, 1]))


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


def _absorb_small(
    labels: np.ndarray, pairs: np.ndarray, border: np.ndarray, minimum: int
) -> np.ndarray:
    """Give every cluster of fewer than ``minimum`` cells, smallest first, to the neighbouring
    cluster sharing its longest border."""
    labels = labels.copy()
    while True:
        found, sizes = np.unique(labels, return_counts=True)
        if len(found) == 1 or sizes.min() >= minimum:
            return labels
        small = found[sizes.argmin()]
        a, b = labels[pairs[:, 0]], labels[pairs[:, 1]]
        out = (a == small) != (b == small)
        other = np.where(a[out] == small, b[out], a[out])
        shared = np.bincount(other, border[out], minlength=labels.max() + 1)
        labels[labels == small] = shared.argmax()


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
    table = table.sort_values(
        ["street", "community", "row", "x"], ascending=[True, True, False, True]
    )
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


def grid_table(rng: np.random.Generator) -> pd.DataFrame:
    """All grids with their names, kinds and residential compounds; ``lonlat`` is the exact
    shape, ``geometry`` its projection to metres (where buildings and points are drawn)."""
    grids = _town_table(rng)
    outlines = district_outlines()
    country = {}
    for spec in DISTRICTS:
        town = shapely.coverage_union_all(
            grids.loc[grids["district_code"] == spec.code, "geometry"]
        )
        outline = to_metric(np.array([outlines[spec.code]]))[0]
        country[spec.code] = to_lonlat(countryside_cells(outline, town, rng))
    towns, rural = tile(
        outlines,
        to_lonlat(grids["geometry"].to_numpy()),
        grids["district_code"].to_numpy(),
        country,
        _metres,
    )
    if any(shape is None for shape in towns):
        raise ValueError("a town grid of the demo city lies outside its district's outline")
    grids["lonlat"] = towns
    grids["town"] = True
    grids = pd.concat([grids, _countryside_table(rural, grids, rng)], ignore_index=True)
    grids = grids.drop(columns=["street", "community", "row", "x"])
    grids = grids.sort_values("code", ignore_index=True)
    grids["geometry"] = to_metric(grids["lonlat"].to_numpy())
    return grids


def _town_table(rng: np.random.Generator) -> pd.DataFrame:
    """The towns' dense grids (metric geometry) with names, kinds and residential compounds."""
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
    shuffled = rng.permutation([s for s in stems if s not in set(first)])[: len(grids)]
    compound = np.where(grids["serial"] == 1, first, shuffled)
    in_community = grids["kind"] == "community"
    # numpy's stubs leave None out of ArrayLike, though np.where takes it as an object scalar
    grids["compound"] = np.where(in_community, compound, None)  # type: ignore[call-overload]
    return grids


def _countryside_table(
    rural: np.ndarray, towns: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """The countryside grids as villages of their district's towns (镇): each countryside grid
    goes to the nearest town's street, and each town cuts its share into villages."""
    village_names = iter(names.COUNTRY_VILLAGES)
    frames = []
    for spec in DISTRICTS:
        shapes = rural[rural[:, 1] == spec.code, 0]
        cells = to_metric(shapes)
        xy = shapely.get_coordinates(shapely.centroid(cells))
        pairs, border = _adjacency(cells)
        streets = [st for st in spec.streets if st.suffix >= "100"]
        seats = [
            shapely.coverage_union_all(
                towns.loc[towns["street_code"] == spec.code + st.suffix, "geometry"]
            )
            for st in streets
        ]
        spots = np.asarray(shapely.points(xy))
        nearest = shapely.distance(np.array(seats)[:, None], spots[None]).argmin(0)
        town = _contiguous(nearest, pairs, border)
        for t, street in enumerate(streets):
            members = np.flatnonzero(town == t)
            k = max(1, len(members) // GRIDS_PER_VILLAGE)
            inner = np.isin(pairs, members).all(1)
            local = np.searchsorted(members, pairs[inner])
            village = _contiguous(_balanced_labels(xy[members], k, rng), local, border[inner])
            village = _absorb_small(village, local, border[inner], MIN_GRIDS_PER_VILLAGE)
            village = _north_first(village, xy[members])
            first = 199 + len(street.communities)  # after the town's own villages
            row = np.round(xy[members, 1] / 1000)
            table = pd.DataFrame({"v": village, "row": row, "x": xy[members, 0]})
            table["lonlat"] = shapes[members]
            table = table.sort_values(["v", "row", "x"], ascending=[True, False, True])
            table["serial"] = table.groupby("v").cumcount() + 1
            labels = [next(village_names) for _ in range(table["v"].max() + 1)]
            table["district_code"], table["district_name"] = spec.code, spec.name
            table["street_code"], table["street_name"] = spec.code + street.suffix, street.name
            table["community_code"] = table["street_code"] + (first + table["v"]).map(
                "{:03d}".format
            )
            table["community_name"] = [labels[v] for v in table["v"]]
            frames.append(table.drop(columns=["v", "row", "x"]))
    table = pd.concat(frames, ignore_index=True)
    table["code"] = table["community_code"] + table["serial"].map("{:02d}".format)
    table["name"] = [
        f"{c}第{numeral(n)}网格"
        for c, n in zip(table["community_name"], table["serial"], strict=True)
    ]
    table["kind"], table["place"], table["compound"], table["town"] = "village", None, None, False
    return table


def area_table(grids: pd.DataFrame) -> pd.DataFrame:
    """City, districts, streets and communities as exact unions of their grids (``lonlat``),
    and their projection to metres (``geometry``)."""
    cells = grids["lonlat"].to_numpy()
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
                    "lonlat": union,
                }
            )
        )
    city = {
        "code": names.CITY_CODE,
        "name": names.CITY_NAME,
        "level": "city",
        "parent_code": None,
        "lonlat": shapely.coverage_union_all(frames[0]["lonlat"].to_numpy()),
    }
    areas = pd.concat([pd.DataFrame([city]), *(f.sort_values("code") for f in frames)])
    areas = areas.reset_index(drop=True)
    areas["parent_code"] = areas["parent_code"].astype(object).where(areas["level"] != "city", None)
    areas["geometry"] = to_metric(areas["lonlat"].to_numpy())
    return areas
