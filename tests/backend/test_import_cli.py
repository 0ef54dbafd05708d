"""`wangge import` and `wangge export` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pyogrio
import shapely

from geo.layers import read_layer, write_layer


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
