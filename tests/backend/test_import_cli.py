"""`wangge import` and `wangge export` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pyogrio
import shapely

from geo.layers import read_layer, write_layer
from tests.backend import import_files


def wangge(database, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database.settings.database_url}
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_export_then_dry_run_import_changes_nothing(scratch_database, tmp_path):
    out = tmp_path / "grids.gpkg"
    done = wangge(scratch_database, "export", "grids", str(out))
    assert done.returncode == 0, done.stderr
    done = wangge(scratch_database, "import", "grids", str(out), "--dry-run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 added, 0 changed, 0 removed" in done.stdout
    assert "dry run: nothing was written" in done.stdout
    assert "done" in done.stderr  # the progress bar's last step
    report = json.loads((tmp_path / "grids.gpkg.report.json").read_text())
    assert report["unchanged"] == report["features"] > 200


def test_a_broken_file_is_refused_with_its_problems_written_for_qgis(scratch_database, tmp_path):
    out = tmp_path / "grids.geojson"
    assert wangge(scratch_database, "export", "grids", str(out)).returncode == 0
    grids = read_layer(out, "grids").frame
    bad_code = grids.loc[3, "code"]
    x0, y0, x1, y1 = grids.geometry.iloc[3].bounds
    grids.loc[3, "geometry"] = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    write_layer(grids, out)
    done = wangge(scratch_database, "import", "grids", str(out))
    assert done.returncode == 1
    assert "NOT imported" in done.stdout and bad_code in done.stdout
    problems = pyogrio.read_dataframe(tmp_path / "grids.geojson.problems.gpkg")
    assert bad_code in set(problems.loc[problems["kind"] == "invalid_geometry", "codes"])


def test_a_file_that_cannot_be_read_says_why(scratch_database, tmp_path):
    bogus = tmp_path / "grids.gpkg"
    bogus.write_text("not a geopackage")
    done = wangge(scratch_database, "import", "grids", str(bogus))
    assert done.returncode != 0
    assert "unreadable_file" in done.stderr


def stored(database, kind: str, tmp_path):
    out = tmp_path / f"stored-{kind}.gpkg"
    assert wangge(database, "export", kind, str(out)).returncode == 0
    return read_layer(out, kind).frame


def dry_then_real(database, kind: str, path, *options: str) -> tuple[dict, dict, str]:
    """The reports of a dry run and of the real run after it (the real run's output too);
    both must say the same of the file, and the real run pass exactly when the dry run did."""
    reports = []
    for dry in (True, False):
        report = path.with_name(f"{path.name}.{'dry' if dry else 'real'}.json")
        args = ["import", kind, str(path), "--report", str(report), *options]
        done = wangge(database, *args, *(["--dry-run"] if dry else []))
        assert report.is_file(), done.stdout + done.stderr
        reports.append(json.loads(report.read_text()))
        assert done.returncode == (1 if reports[-1]["blocking_problems"] else 0), done.stdout
    dry, real = reports
    assert same_answer(dry) == same_answer(real)
    assert real["applied"] is (dry["blocking_problems"] == 0)
    return dry, real, done.stdout


def same_answer(report: dict) -> tuple:
    """What a dry run and a real run must agree on: the counts and the file's problems."""
    problems = sorted(
        (p["kind"], tuple(p["codes"]), tuple(p["features"]), tuple(p["lines"]))
        for p in report["problems"]
        if p["kind"] != "building_outside_grids"  # the real run reassigns buildings after
    )
    keys = ("features", "added", "changed", "removed", "unchanged", "blocking_problems")
    return tuple(report[k] for k in (*keys, "empty_rows_skipped")), problems


def test_datav_districts_in_gcj02(scratch_database, tmp_path):
    areas = stored(scratch_database, "areas", tmp_path)
    path = import_files.datav_districts(areas, tmp_path / "150300_full.json")
    # Mapped from DataV's own columns, the nested parent flattened, shifted back from GCJ-02.
    dry, _, out = dry_then_real(scratch_database, "areas", path, "--crs", "gcj02", "--keep-missing")
    assert dry["source"]["columns"] == {
        "code": "adcode",
        "name": "name",
        "level": "level",
        "parent_code": "parent.adcode",
    }
    assert (dry["unchanged"], dry["blocking_problems"]) == (3, 0)
    assert "imported" in out
    # Without --keep-missing the file would remove every street: refused, naming them,
    # by the dry run and the real run alike, and never a database error.
    dry, _, out = dry_then_real(scratch_database, "areas", path, "--crs", "gcj02")
    in_use = [p for p in dry["problems"] if p["kind"] == "area_in_use"]
    assert dry["removed"] > 0 and len(in_use) >= dry["removed"]
    assert "NOT imported" in out
    # Read as WGS 84, the outlines sit ~500 m off: the stored streets no longer fit.
    dry, _, out = dry_then_real(scratch_database, "areas", path, "--keep-missing")
    outside = [p for p in dry["problems"] if p["kind"] == "child_outside_parent"]
    assert outside and all(p["area_m2"] > 1000 for p in outside)
    assert {p["codes"][1] for p in outside} == set(areas.loc[areas["level"] == "district", "code"])
    # Each names the district's feature in the file (the street is not in it).
    order = [str(f["properties"]["adcode"]) for f in json.loads(path.read_text())["features"]]
    assert all(p["features"] == [order.index(p["codes"][1])] for p in outside)
    assert "NOT imported" in out


def test_gbk_shapefile_in_gauss_kruger_with_cut_column_names(scratch_database, tmp_path):
    grids = stored(scratch_database, "grids", tmp_path)
    path = import_files.gbk_shapefile(grids, tmp_path)
    assert "所属社区编" in pyogrio.read_info(path, encoding="GBK")["fields"]
    dry, _, _ = dry_then_real(scratch_database, "grids", path)
    assert dry["source"]["crs"] == "EPSG:4524"
    assert dry["source"]["columns"]["parent_code"] == "所属社区编"
    (cut,) = [p for p in dry["problems"] if p["kind"] == "truncated_column"]
    assert "所属社区编码" in cut["reason"]
    assert (dry["changed"], dry["unchanged"], dry["blocking_problems"]) == (0, len(grids), 0)


def test_reversed_rings_are_no_change(scratch_database, tmp_path):
    grids = stored(scratch_database, "grids", tmp_path)
    path = import_files.reversed_shapefile(grids, tmp_path / "grids.shp")
    dry, _, out = dry_then_real(scratch_database, "grids", path)
    assert (dry["changed"], dry["unchanged"]) == (0, len(grids))
    assert f"{len(grids)} features: 0 added, 0 changed, 0 removed" in out


def test_rounded_csv_with_empty_rows(scratch_database, tmp_path):
    grids = stored(scratch_database, "grids", tmp_path)
    path = import_files.rounded_csv(grids, tmp_path / "grids.csv")
    dry, real, out = dry_then_real(scratch_database, "grids", path)
    assert (dry["features"], dry["empty_rows_skipped"]) == (len(grids), import_files.EMPTY_ROWS)
    assert f"{import_files.EMPTY_ROWS} empty rows skipped" in out
    assert dry["blocking_problems"] == 0 and real["applied"]
    snapped = [p for p in dry["problems"] if p["kind"] in ("snapped", "sliver")]
    # Reported as warnings, with their m² (tens of km of shared edges make some large).
    assert snapped and all(p["area_m2"] > 0 for p in snapped)
    # Each names its line: the header is line 1, the second grid comes after an empty row.
    second = next(p for p in dry["problems"] if p["codes"] == [grids.loc[1, "code"]])
    assert second["lines"] == [4]
    # With no snap, rounding's crossings block, in both runs.
    dry, _, _ = dry_then_real(scratch_database, "grids", path, "--snap", "0")
    assert dry["counts"].get("crosses_parent", 0) > 0 and dry["blocking_problems"] > 0


def test_xlsx_with_empty_rows_names_lines(scratch_database, tmp_path):
    grids = stored(scratch_database, "grids", tmp_path)
    # One community's: a town grid's WKT fits in a cell (Excel holds 32,767 characters).
    grids = grids[grids["parent_code"] == grids.loc[0, "parent_code"]].reset_index(drop=True)
    grids.loc[2, "name"] = ""
    path = import_files.grids_xlsx(grids, tmp_path / "grids.xlsx")
    dry, _, out = dry_then_real(scratch_database, "grids", path)
    (missing,) = [p for p in dry["problems"] if p["kind"] == "missing_value"]
    # Counted as a spreadsheet shows them, empty rows included: the header is line 1.
    at = pd.read_excel(path, dtype=str)["网格编码"].tolist().index(grids.loc[2, "code"])
    assert at > 2  # empty rows come before it
    assert (missing["lines"], missing["features"]) == ([at + 2], [at])
    # The sheet's last empty row ends it (pandas reads no row after the data).
    assert dry["empty_rows_skipped"] == import_files.EMPTY_ROWS - 1
    assert f"line {at + 2}" in out
