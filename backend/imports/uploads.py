"""Layer imports by upload, as admins make them over HTTP: check an uploaded file and keep it
with its report (nothing is written), then confirm it, which writes it if it is still the
change the report showed. Each upload lives in its own folder under data/uploads."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

import anyio

from backend.core.errors import Conflict, Forbidden, Invalid, NotFound
from backend.core.principal import Principal
from backend.core.roles import Role
from backend.grids.service import GridIndex, load_grid_index
from backend.imports.export import KINDS
from backend.imports.service import ImportResult, run_import
from geo.layers import Layer, LayerError, read_layer
from geo.report import problems_json, write_problems_gpkg
from geo.validate import SNAP_M

SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".csv", ".xlsx")
MAX_SNAP_M = 5.0  # beyond a few metres a "sliver" is a drawing error to show, not rounding
_ID = re.compile(r"^[0-9a-f]{32}$")


async def check(
    uploads: Path,
    principal: Principal,
    file_name: str | None,
    content: bytes,
    *,
    kind: str,
    layer: str | None,
    crs: str | None,
    columns: str | None,
    keep_missing: bool,
    snap: float = SNAP_M,
) -> dict[str, Any]:
    """Keep an uploaded layer file under ``uploads`` and answer its validation report and what
    it would change (the admin's role is checked by the caller)."""
    if kind not in KINDS:
        raise Invalid("unknown_kind", f"kind must be one of {', '.join(KINDS)}")
    district = reach(principal)
    if not 0 <= snap <= MAX_SNAP_M:
        raise Invalid("bad_snap", f"snap must be between 0 and {MAX_SNAP_M:g} metres")
    name = Path(file_name or "").name
    if Path(name).suffix.lower() not in SUFFIXES:
        raise Invalid(
            "unknown_format",
            f"upload one of {', '.join(SUFFIXES)} (a Shapefile zipped with its .dbf/.prj)",
        )
    import_id = uuid.uuid4().hex
    folder = uploads / import_id
    # Stored under a fixed name: the upload's own name could be one of the report files.
    stored = f"source{Path(name).suffix.lower()}"
    options = {
        "kind": kind,
        "layer": layer,
        "crs": crs,
        "columns": _mapping(columns),
        "keep_missing": keep_missing,
        "snap": snap,
        "file": stored,
        # Who may read the upload again (its report, problems, confirmation).
        "owner": principal.id,
        "district": district,
    }
    await anyio.to_thread.run_sync(_store, folder, stored, content, options)
    try:
        read = await anyio.to_thread.run_sync(_read, folder / stored, options, name)
        result = await run_import(
            read, dry_run=True, keep_missing=keep_missing, district=district, snap_m=snap
        )
        body = _answer(import_id, result)
        await anyio.to_thread.run_sync(_save_report, folder, body, result)
    except BaseException:
        await anyio.to_thread.run_sync(shutil.rmtree, folder)
        raise
    return body


async def confirm(
    uploads: Path, import_id: str, principal: Principal
) -> tuple[dict[str, Any], GridIndex | None]:
    """Write a checked upload: its report, and the new grid index if areas or grids changed
    (None otherwise)."""
    district = reach(principal)
    folder = _folder(uploads, import_id)
    options, approved, confirmed = await anyio.to_thread.run_sync(_upload_state, folder)
    _check_readable(options, principal, district, import_id)
    if confirmed:
        raise Conflict("already_confirmed", "this upload has been imported already")
    layer = await anyio.to_thread.run_sync(_read, folder / options["file"], options, "upload")
    # The write only goes ahead if it is still the change the admin read in the report.
    keep, snap = options["keep_missing"], options.get("snap", SNAP_M)
    planned = await run_import(
        layer, dry_run=True, keep_missing=keep, district=district, snap_m=snap
    )
    if _changes(planned.summary()) != _changes(approved):
        raise Conflict(
            "stale_report",
            "the stored layer changed since this upload was checked; upload it again",
        )
    result = await run_import(layer, keep_missing=keep, district=district, snap_m=snap)
    if result.blocking:
        raise Conflict(
            "import_blocked",
            f"{len(result.blocking)} blocking problems; nothing was written",
            report=_answer(import_id, result),
        )
    index = None
    if layer.kind in ("areas", "grids"):
        # This process routes with the new grids at once; others on their next start.
        index = await load_grid_index()
    body = _answer(import_id, result)
    await anyio.to_thread.run_sync(_mark_confirmed, folder, result.summary())
    return body, index


async def problems_file(uploads: Path, import_id: str, principal: Principal) -> Path:
    """The GeoPackage of an upload's problem shapes, for QGIS."""
    folder = _folder(uploads, import_id)
    options, _, _ = await anyio.to_thread.run_sync(_upload_state, folder)
    _check_readable(options, principal, reach(principal), import_id)
    path = folder / "problems.gpkg"
    if not await anyio.Path(path).is_file():
        raise NotFound("problem file of import", import_id)
    return path


def reach(principal: Principal) -> str | None:
    """The district a district admin's imports are limited to; None for a city admin."""
    if principal.role != Role.district_admin:
        return None
    district = principal.territory.centre_area
    if district is None:
        raise Forbidden("no_area", "your account is not attached to a district")
    return district


def _mapping(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    try:
        mapping = json.loads(text)
    except ValueError:
        mapping = None
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise Invalid("invalid_mapping", 'columns must be a JSON object like {"code": "网格编码"}')
    return mapping


def _folder(uploads: Path, import_id: str) -> Path:
    folder = uploads / import_id
    if not _ID.match(import_id) or not (folder / "options.json").is_file():
        raise NotFound("import", import_id)
    return folder


def _read(path: Path, options: dict[str, Any], shown_as: str) -> Layer:
    try:
        return read_layer(
            path,
            options["kind"],
            layer=options["layer"],
            crs=options["crs"],
            columns=options["columns"],
        )
    except LayerError as exc:
        # The reason may quote the stored path: show the client its own file name instead.
        reason = exc.reason.replace(str(path), shown_as)
        raise Invalid(exc.code, reason, **exc.details) from None


def _answer(import_id: str, result: ImportResult) -> dict[str, Any]:
    body = problems_json(result.problems, **result.summary())
    body["id"] = import_id
    body["links"] = {
        "confirm": f"/api/imports/{import_id}/confirm",
        "problems_gpkg": f"/api/imports/{import_id}/problems.gpkg",
    }
    return body


def _save_report(folder: Path, body: dict[str, Any], result: ImportResult) -> None:
    (folder / "report.json").write_text(json.dumps(body, ensure_ascii=False))
    write_problems_gpkg(result.problems, folder / "problems.gpkg")


def _check_readable(
    options: dict[str, Any], principal: Principal, district: str | None, import_id: str
) -> None:
    """An upload is read by whoever made it, the city admin, and the admins of the district
    it was limited to; to anyone else it does not exist (its problem shapes name codes and
    places of a district that is not theirs)."""
    if not (
        options.get("owner") == principal.id
        or principal.role == Role.city_admin
        or (district is not None and options.get("district") == district)
    ):
        raise NotFound("import", import_id)


def _upload_state(folder: Path) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """The upload's options, the report the admin read, and whether it was imported."""
    options = json.loads((folder / "options.json").read_text())
    approved = json.loads((folder / "report.json").read_text())
    return options, approved, (folder / "confirmed.json").exists()


def _mark_confirmed(folder: Path, summary: dict[str, Any]) -> None:
    (folder / "confirmed.json").write_text(json.dumps(summary, ensure_ascii=False))


def _changes(summary: dict[str, Any]) -> tuple[int, ...]:
    return tuple(summary[k] for k in ("added", "changed", "removed", "unchanged"))


def _store(folder: Path, name: str, content: bytes, options: dict[str, Any]) -> None:
    folder.mkdir(parents=True)
    (folder / name).write_bytes(content)
    (folder / "options.json").write_text(json.dumps(options, ensure_ascii=False))
