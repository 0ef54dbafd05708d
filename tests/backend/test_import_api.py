"""The import over HTTP: admins upload, read the report, confirm; everyone can download layers."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

import pyogrio
import pytest
import shapely
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.areas.tables import Area
from backend.demo import DEMO_PASSWORD
from backend.people.tables import Person
from geo.demo import DEMO_ACCOUNTS
from geo.layers import read_layer, write_layer
from tests.backend import import_files
from tests.backend.case_steps import demo_password_hash
from tests.backend.test_import_cli import same_answer


@pytest.fixture
async def api(scratch_database):
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        yield client


async def token(client, role: str) -> dict[str, str]:
    r = await client.post(
        "/api/auth/sign-in", json={"phone": DEMO_ACCOUNTS[role], "password": DEMO_PASSWORD}
    )
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def merged_grids_file(api, tmp_path):
    """The stored grids with one community's first two merged into the first."""
    path = tmp_path / "stored.gpkg"
    path.write_bytes((await api.get("/api/exports/grids", params={"format": "gpkg"})).content)
    grids = read_layer(path, "grids").frame
    community = grids["parent_code"].iloc[0]
    first, second = grids.loc[grids["parent_code"] == community, "code"].iloc[:2]
    gone = grids.loc[grids["code"] == second].geometry.iloc[0]
    merged = grids.loc[grids["code"].isin([first, second])].union_all()
    grids.loc[grids["code"] == first, "geometry"] = merged
    path = tmp_path / "grids.gpkg"
    write_layer(grids[grids["code"] != second], path)
    return path, first, second, gone


async def all_grids(client) -> list[dict]:
    """Every served grid (the features alone: the answer's timeStamp changes each second)."""
    r = await client.get("/api/collections/grids/items", params={"limit": 10000})
    return r.json()["features"]


def upload(path, kind="grids", **fields):
    return {"files": {"file": (path.name, path.read_bytes())}, "data": {"kind": kind, **fields}}


async def test_admin_uploads_reads_the_report_and_confirms(api, tmp_path):
    path, first, second, gone = await merged_grids_file(api, tmp_path)
    headers = await token(api, "city_admin")
    inside = shapely.point_on_surface(gone)
    before = await api.get("/api/locate", params={"lon": inside.x, "lat": inside.y})
    assert before.json()["grid"]["code"] == second

    r = await api.post("/api/imports", headers=headers, **upload(path))
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["changed"], report["removed"], report["applied"]) == (1, 1, False)
    assert (await api.get(f"/api/grids/{second}")).status_code == 200  # nothing written yet

    r = await api.post(report["links"]["confirm"], headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["applied"] is True
    assert (await api.get(f"/api/grids/{second}")).status_code == 404
    # This process routes with the new grids at once.
    after = await api.get("/api/locate", params={"lon": inside.x, "lat": inside.y})
    assert after.json()["grid"]["code"] == first

    shapes = await api.get(report["links"]["problems_gpkg"], headers=headers)
    assert shapes.status_code == 200


async def test_a_blocked_upload_cannot_be_confirmed(api, tmp_path):
    path = tmp_path / "grids.geojson"
    path.write_bytes((await api.get("/api/exports/grids")).content)
    grids = read_layer(path, "grids").frame
    headers = await token(api, "district_admin")
    ours = grids["parent_code"].str.startswith(await district_of(api, headers))
    grids = grids[ours].reset_index(drop=True)  # a district admin imports their district's
    grids.loc[0, "geometry"] = shapely.Polygon(
        [(106.8, 39.6), (106.81, 39.61), (106.81, 39.6), (106.8, 39.61)]
    )
    path = tmp_path / "broken.geojson"
    write_layer(grids, path)
    report = (await api.post("/api/imports", headers=headers, **upload(path))).json()
    assert report["blocking_problems"] == 1
    assert report["problems"][0]["codes"] == [grids.loc[0, "code"]]
    before = await all_grids(api)
    r = await api.post(report["links"]["confirm"], headers=headers)
    assert r.status_code == 409
    assert r.json()["code"] == "import_blocked"
    assert await all_grids(api) == before


@pytest.mark.parametrize("role", ["grid_leader", "community_staff", "resident"])
async def test_only_admins_may_upload(api, tmp_path, role):
    path, *_ = await merged_grids_file(api, tmp_path)
    r = await api.post("/api/imports", headers=await token(api, role), **upload(path))
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"
    r = await api.post("/api/imports", **upload(path))
    assert r.status_code == 401


@pytest.mark.parametrize(
    ("name", "content", "kind", "code"),
    [
        ("grids.txt", b"hello", "grids", "unknown_format"),
        ("grids.gpkg", b"this is not a geopackage", "grids", "unreadable_file"),
        ("grids.geojson", b'{"type": "FeatureCollection", "features": []}', "grids", "empty_layer"),
        ("grids.geojson", b"{}", "roads", "unknown_kind"),
    ],
)
async def test_a_file_that_is_not_what_it_says_gets_a_clear_422(
    api, scratch_database, name, content, kind, code
):
    headers = await token(api, "city_admin")
    r = await api.post(
        "/api/imports", headers=headers, files={"file": (name, content)}, data={"kind": kind}
    )
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code
    uploads = scratch_database.settings.data_dir / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())


async def test_an_oversized_upload_is_refused(api):
    headers = await token(api, "city_admin")
    big = io.BytesIO(b"0" * (33 * 1024 * 1024))
    r = await api.post(
        "/api/imports", headers=headers, files={"file": ("big.csv", big)}, data={"kind": "grids"}
    )
    assert r.status_code == 413
    assert r.json()["code"] == "body_too_large"


async def test_unknown_import_id(api):
    headers = await token(api, "city_admin")
    for bad in ["0" * 32, "../../etc", "x"]:
        r = await api.post(f"/api/imports/{bad}/confirm", headers=headers)
        assert r.status_code == 404


@pytest.mark.parametrize("fmt", ["geojson", "gpkg"])
async def test_every_layer_downloads(api, tmp_path, fmt, demo_city):
    r = await api.get("/api/exports/buildings", params={"format": fmt})
    assert r.status_code == 200
    path = tmp_path / f"buildings.{fmt}"
    path.write_bytes(r.content)
    frame = pyogrio.read_dataframe(path)
    assert len(frame) == len(demo_city.buildings)
    assert set(frame["grid_code"]) == set(demo_city.buildings["grid_code"])
    r = await api.get("/api/exports/roads")
    assert r.status_code == 404
    r = await api.get("/api/exports/grids", params={"format": "kml"})
    assert r.status_code == 422


async def test_an_upload_named_like_a_report_file_is_kept_apart(api, tmp_path):
    path, *_ = await merged_grids_file(api, tmp_path)
    headers = await token(api, "city_admin")
    r = await api.post(
        "/api/imports",
        headers=headers,
        files={"file": ("problems.gpkg", path.read_bytes())},
        data={"kind": "grids"},
    )
    assert r.status_code == 200, r.text
    assert (await api.post(r.json()["links"]["confirm"], headers=headers)).status_code == 200


async def test_confirm_twice_or_after_the_layer_changed_is_a_409(api, tmp_path):
    path, *_ = await merged_grids_file(api, tmp_path)
    headers = await token(api, "city_admin")
    first = (await api.post("/api/imports", headers=headers, **upload(path))).json()
    second = (await api.post("/api/imports", headers=headers, **upload(path))).json()
    assert (await api.post(first["links"]["confirm"], headers=headers)).status_code == 200
    again = await api.post(first["links"]["confirm"], headers=headers)
    assert (again.status_code, again.json()["code"]) == (409, "already_confirmed")
    stale = await api.post(second["links"]["confirm"], headers=headers)
    assert (stale.status_code, stale.json()["code"]) == (409, "stale_report")


async def test_an_unreadable_upload_does_not_reveal_server_paths(api, scratch_database):
    headers = await token(api, "city_admin")
    r = await api.post(
        "/api/imports", headers=headers, files={"file": ("g.gpkg", b"junk")}, data={"kind": "grids"}
    )
    assert r.status_code == 422
    assert str(scratch_database.settings.data_dir) not in r.text


async def test_column_mapping_and_keep_missing_through_the_form(api, tmp_path):
    path, *_ = await merged_grids_file(api, tmp_path)
    frame = read_layer(path, "grids").frame.rename(columns={"code": "网格编号"})
    renamed = tmp_path / "renamed.geojson"
    write_layer(frame, renamed)
    headers = await token(api, "city_admin")
    r = await api.post(
        "/api/imports",
        headers=headers,
        **upload(renamed, columns='{"code": "网格编号"}', keep_missing="true"),
    )
    assert r.status_code == 200, r.text
    assert (r.json()["changed"], r.json()["removed"]) == (1, 0)
    bad = await api.post("/api/imports", headers=headers, **upload(renamed, columns="code=x"))
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_mapping")


async def district_of(client, headers) -> str:
    return (await client.get("/api/me", headers=headers)).json()["area"]["code"]


async def exported(client, tmp_path, kind: str):
    path = tmp_path / f"stored-{kind}.geojson"
    path.write_bytes((await client.get(f"/api/exports/{kind}")).content)
    return read_layer(path, kind).frame


async def test_a_district_admin_imports_only_their_own_district(api, tmp_path):
    headers = await token(api, "district_admin")
    district = await district_of(api, headers)
    grids = await exported(api, tmp_path, "grids")
    ours = grids["parent_code"].str.startswith(district)
    assert ours.any() and not ours.all()

    theirs = tmp_path / "theirs.geojson"
    write_layer(grids[~ours], theirs)
    before = await all_grids(api)
    r = await api.post("/api/imports", headers=headers, **upload(theirs))
    assert (r.status_code, r.json()["code"]) == (403, "outside_your_district"), r.text
    assert set(r.json()["details"]["codes"]) <= set(grids.loc[~ours, "code"])
    # A city admin's upload cannot be confirmed by the district admin either: it is not theirs
    # to read at all.
    city = await token(api, "city_admin")
    report = (await api.post("/api/imports", headers=city, **upload(theirs))).json()
    r = await api.post(report["links"]["confirm"], headers=headers)
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    assert await all_grids(api) == before

    mine = grids[ours].copy()
    renamed = mine["code"].iloc[0]
    mine.loc[mine["code"] == renamed, "name"] = "区里改名的网格"
    path = tmp_path / "mine.geojson"
    write_layer(mine, path)
    report = (await api.post("/api/imports", headers=headers, **upload(path))).json()
    assert (report["changed"], report["removed"]) == (1, 0), report
    r = await api.post(report["links"]["confirm"], headers=headers)
    assert r.status_code == 200, r.text
    assert (await api.get(f"/api/grids/{renamed}")).json()["name"] == "区里改名的网格"


async def test_a_district_admin_cannot_take_over_another_districts_code(api, tmp_path):
    headers = await token(api, "district_admin")
    district = await district_of(api, headers)
    grids = await exported(api, tmp_path, "grids")
    ours = grids["parent_code"].str.startswith(district)
    mine = grids[ours].copy()
    stranger = grids.loc[~ours, "code"].iloc[0]
    mine.loc[mine.index[0], "code"] = stranger  # one of our grids under another's code
    path = tmp_path / "mine.geojson"
    write_layer(mine, path)
    r = await api.post("/api/imports", headers=headers, **upload(path))
    assert (r.status_code, r.json()["code"]) == (403, "outside_your_district"), r.text
    assert r.json()["details"]["codes"] == [stranger]


async def test_a_district_admin_imports_no_area_tree(api, tmp_path):
    path = tmp_path / "areas.geojson"
    path.write_bytes((await api.get("/api/exports/areas")).content)
    headers = await token(api, "district_admin")
    r = await api.post("/api/imports", headers=headers, **upload(path, kind="areas"))
    assert (r.status_code, r.json()["code"]) == (403, "outside_your_district")
    city = await token(api, "city_admin")
    r = await api.post("/api/imports", headers=city, **upload(path, kind="areas"))
    assert r.status_code == 200, r.text


async def test_a_district_admins_file_removes_nothing_in_other_districts(api, tmp_path):
    headers = await token(api, "district_admin")
    district = await district_of(api, headers)
    points = await exported(api, tmp_path, "service-points")
    warm = points[points["kind"] == "warm_station"]
    ours = warm["area_code"].str.startswith(district)
    assert ours.sum() > 1 and (~ours).any()
    dropped = warm.loc[ours, "code"].iloc[0]
    path = tmp_path / "warm.geojson"
    write_layer(warm[ours & (warm["code"] != dropped)], path)
    r = await api.post("/api/imports", headers=headers, **upload(path, kind="service-points"))
    report = r.json()
    assert (report["removed"], report["changed"], report["added"]) == (1, 0, 0), report
    assert (await api.post(report["links"]["confirm"], headers=headers)).status_code == 200
    after = await exported(api, tmp_path, "service-points")
    assert set(after["code"]) == set(points["code"]) - {dropped}


async def test_an_uploads_problems_are_read_only_by_whoever_may_read_the_upload(
    scratch_database, tmp_path
):
    # Another district's admin, made before the app that signs them in starts.
    area = await Area.select(Area.id).where(Area.code == "150304").first()
    await Person(
        name="乌达区管理员",
        phone="13900000011",
        role="district_admin",
        area=area["id"],
        password_hash=demo_password_hash(),
        active=True,
        created_at=datetime.now(UTC),
    ).save()
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as api:
        headers = await token(api, "district_admin")
        path = tmp_path / "grids.geojson"
        path.write_bytes((await api.get("/api/exports/grids")).content)
        grids = read_layer(path, "grids").frame
        grids = grids[grids["parent_code"].str.startswith(await district_of(api, headers))]
        grids = grids.reset_index(drop=True)
        grids.loc[0, "geometry"] = shapely.Polygon(
            [(106.8, 39.6), (106.81, 39.61), (106.81, 39.6), (106.8, 39.61)]
        )
        write_layer(grids, path)
        report = (await api.post("/api/imports", headers=headers, **upload(path))).json()
        problems = report["links"]["problems_gpkg"]
        r = await api.post(
            "/api/auth/sign-in", json={"phone": "13900000011", "password": DEMO_PASSWORD}
        )
        other = {"Authorization": f"Bearer {r.json()['token']}"}
        for method, url in (("GET", problems), ("POST", report["links"]["confirm"])):
            refused = await api.request(method, url, headers=other)
            assert (refused.status_code, refused.json()["code"]) == (404, "not_found")
        assert (await api.get(problems, headers=headers)).status_code == 200
        city = await token(api, "city_admin")
        assert (await api.get(problems, headers=city)).status_code == 200


async def stored_layer(api, kind: str, tmp_path):
    path = tmp_path / f"stored-{kind}.gpkg"
    path.write_bytes((await api.get(f"/api/exports/{kind}", params={"format": "gpkg"})).content)
    return read_layer(path, kind).frame


async def upload_then_confirm(api, headers, path, kind, **fields) -> tuple[dict, dict]:
    """The upload's report and the confirmation's answer: they must say the same of the
    file, and the confirmation write exactly when the report had nothing blocking."""
    r = await api.post("/api/imports", headers=headers, **upload(path, kind, **fields))
    assert r.status_code == 200, r.text
    report = r.json()
    r = await api.post(report["links"]["confirm"], headers=headers)
    if report["blocking_problems"]:
        assert r.status_code == 409 and r.json()["code"] == "import_blocked", r.text
        answer = r.json()["details"]["report"]
    else:
        assert r.status_code == 200, r.text
        answer = r.json()
        assert answer["applied"] is True
    assert same_answer(report) == same_answer(answer)
    return report, answer


async def test_datav_districts_uploaded_in_gcj02(api, tmp_path):
    headers = await token(api, "city_admin")
    areas = await stored_layer(api, "areas", tmp_path)
    path = import_files.datav_districts(areas, tmp_path / "150300_full.json")
    report, _ = await upload_then_confirm(
        api, headers, path, "areas", crs="gcj02", keep_missing="true"
    )
    assert report["source"]["columns"]["parent_code"] == "parent.adcode"
    assert (report["unchanged"], report["blocking_problems"]) == (3, 0)
    # Removing the streets the file lacks would orphan communities, grids and cases: a clear
    # refusal naming them, in the report and at the confirmation, never a 500.
    report, _ = await upload_then_confirm(api, headers, path, "areas", crs="gcj02")
    assert report["counts"]["area_in_use"] >= report["removed"] > 0
    # Taken as WGS 84 the outlines are ~500 m off: what lies under them no longer fits.
    report, _ = await upload_then_confirm(api, headers, path, "areas", keep_missing="true")
    assert report["counts"]["child_outside_parent"] > 0


async def test_rounded_csv_upload_repairs_slivers(api, tmp_path):
    headers = await token(api, "city_admin")
    grids = await stored_layer(api, "grids", tmp_path)
    path = import_files.rounded_csv(grids, tmp_path / "grids.csv")
    report, _ = await upload_then_confirm(api, headers, path, "grids")
    assert report["empty_rows_skipped"] == import_files.EMPTY_ROWS
    assert report["counts"].get("snapped", 0) > 0
    assert all(p["lines"] for p in report["problems"] if p["kind"] == "snapped")
    # No snap: rounding's crossings block.
    r = await api.post("/api/imports", headers=headers, **upload(path, snap="0"))
    assert r.json()["counts"].get("crosses_parent", 0) > 0
    r = await api.post("/api/imports", headers=headers, **upload(path, snap="50"))
    assert (r.status_code, r.json()["code"]) == (422, "bad_snap")


async def test_reversed_shapefile_upload_is_no_change(api, tmp_path):
    headers = await token(api, "city_admin")
    grids = await stored_layer(api, "grids", tmp_path)
    shp = import_files.reversed_shapefile(grids, tmp_path / "grids.shp")
    path = tmp_path / "grids.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in tmp_path.glob("grids.*"):
            if part != path:
                archive.write(part, part.name)
    assert shp.is_file()
    report, _ = await upload_then_confirm(api, headers, path, "grids")
    assert (report["changed"], report["unchanged"]) == (0, len(grids))
