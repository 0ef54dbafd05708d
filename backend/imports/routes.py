"""Layer import for admins over HTTP (upload, read the report, confirm) and layer downloads."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from litestar import Controller, get, post
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, MultipartBody
from litestar.response import File

from backend.core.errors import Conflict, Forbidden, Invalid, NotFound
from backend.core.principal import Principal, require_role
from backend.core.roles import ADMINS, Role
from backend.grids.service import load_grid_index
from backend.imports.export import KINDS, layer_frame
from backend.imports.service import ImportResult, run_import
from geo.layers import Layer, LayerError, read_layer, write_layer
from geo.report import problems_json, write_problems_gpkg

MAX_UPLOAD_BYTES = 32 * 1024 * 1024  # a city's 100,000 building footprints are ~20 MB
SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".csv")
_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass
class Upload:
    file: UploadFile
    kind: str
    layer: str | None = None
    crs: str | None = None
    # A JSON object naming the file's column for each canonical one: {"code": "网格编码"}.
    columns: str | None = None
    keep_missing: bool = False


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


def _uploads(state: State) -> Path:
    return state.settings.data_dir / "uploads"


def _folder(state: State, import_id: str) -> Path:
    folder = _uploads(state) / import_id
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


class ImportsController(Controller):
    path = "/api/imports"
    tags = ["imports"]

    @post(
        "/",
        status_code=200,
        summary="Upload a layer file; get its validation report and what it would change",
        description=(
            "Admins only. Multipart form: `file` (GeoJSON, GeoPackage, zipped Shapefile or CSV), "
            "`kind` (areas, grids, buildings, service-points), optional `layer`, `crs`, "
            '`columns` (JSON, e.g. {"code": "网格编码"}) and `keep_missing`. '
            "Nothing is written until the import is confirmed. A district admin imports only "
            "grids, buildings and service points of their own district (403 "
            "`outside_your_district`), and their file removes nothing elsewhere."
        ),
        request_max_body_size=MAX_UPLOAD_BYTES,
    )
    async def upload(
        self,
        data: MultipartBody[Upload],
        principal: NamedDependency[Principal],
        state: State,
    ) -> dict[str, Any]:
        require_role(principal, *ADMINS)
        if data.kind not in KINDS:
            raise Invalid("unknown_kind", f"kind must be one of {', '.join(KINDS)}")
        district = _reach(principal)
        name = Path(data.file.filename or "").name
        if Path(name).suffix.lower() not in SUFFIXES:
            raise Invalid(
                "unknown_format",
                f"upload one of {', '.join(SUFFIXES)} (a Shapefile zipped with its .dbf/.prj)",
            )
        import_id = uuid.uuid4().hex
        folder = _uploads(state) / import_id
        # Stored under a fixed name: the upload's own name could be one of the report files.
        stored = f"source{Path(name).suffix.lower()}"
        options = {
            "kind": data.kind,
            "layer": data.layer,
            "crs": data.crs,
            "columns": _mapping(data.columns),
            "keep_missing": data.keep_missing,
            "file": stored,
            # Who may read the upload again (its report, problems, confirmation).
            "owner": principal.id,
            "district": district,
        }
        content = await data.file.read()
        await anyio.to_thread.run_sync(_store, folder, stored, content, options)
        try:
            layer = await anyio.to_thread.run_sync(_read, folder / stored, options, name)
            result = await run_import(
                layer, dry_run=True, keep_missing=data.keep_missing, district=district
            )
            body = _answer(import_id, result)
            await anyio.to_thread.run_sync(_save_report, folder, body, result)
        except BaseException:
            await anyio.to_thread.run_sync(shutil.rmtree, folder)
            raise
        return body

    @post("/{import_id:str}/confirm", status_code=200, summary="Write a checked upload")
    async def confirm(
        self, import_id: FromPath[str], principal: NamedDependency[Principal], state: State
    ) -> dict[str, Any]:
        require_role(principal, *ADMINS)
        district = _reach(principal)
        folder = _folder(state, import_id)
        options, approved, confirmed = await anyio.to_thread.run_sync(_upload_state, folder)
        _check_readable(options, principal, district, import_id)
        if confirmed:
            raise Conflict("already_confirmed", "this upload has been imported already")
        layer = await anyio.to_thread.run_sync(_read, folder / options["file"], options, "upload")
        # The write only goes ahead if it is still the change the admin read in the report.
        keep = options["keep_missing"]
        planned = await run_import(layer, dry_run=True, keep_missing=keep, district=district)
        if _changes(planned.summary()) != _changes(approved):
            raise Conflict(
                "stale_report",
                "the stored layer changed since this upload was checked; upload it again",
            )
        result = await run_import(layer, keep_missing=keep, district=district)
        if result.blocking:
            raise Conflict(
                "import_blocked",
                f"{len(result.blocking)} blocking problems; nothing was written",
                report=_answer(import_id, result),
            )
        if layer.kind in ("areas", "grids"):
            # This process routes with the new grids at once; others on their next start.
            state.grid_index = await load_grid_index()
        body = _answer(import_id, result)
        await anyio.to_thread.run_sync(_mark_confirmed, folder, result.summary())
        return body

    @get("/{import_id:str}/problems.gpkg", summary="The problem shapes of an upload, for QGIS")
    async def problems(
        self, import_id: FromPath[str], principal: NamedDependency[Principal], state: State
    ) -> File:
        require_role(principal, *ADMINS)
        folder = _folder(state, import_id)
        options, _, _ = await anyio.to_thread.run_sync(_upload_state, folder)
        _check_readable(options, principal, _reach(principal), import_id)
        path = folder / "problems.gpkg"
        if not await anyio.Path(path).is_file():
            raise NotFound("problem file of import", import_id)
        return File(
            path, filename=f"problems-{import_id}.gpkg", media_type="application/geopackage+sqlite3"
        )


class ExportController(Controller):
    path = "/api/exports"
    tags = ["imports"]

    @get("/{kind:str}", summary="Download a whole layer as GeoJSON or GeoPackage")
    async def export(
        self, kind: FromPath[str], state: State, format: FromQuery[str] = "geojson"
    ) -> File:
        if kind not in KINDS:
            raise NotFound("layer", kind)
        if format not in ("geojson", "gpkg"):
            raise Invalid("unknown_format", "format must be geojson or gpkg")
        frame = await layer_frame(kind)
        folder = state.settings.data_dir / "exports"
        path = folder / f"{kind}-{uuid.uuid4().hex}.{format}"
        try:
            await anyio.to_thread.run_sync(_write_export, frame, path, kind)
        except BaseException:
            await anyio.Path(path).unlink(missing_ok=True)
            raise
        media = "application/geo+json" if format == "geojson" else "application/geopackage+sqlite3"
        # Each download is written afresh and removed once sent.
        return File(
            path,
            filename=f"{kind}.{format}",
            media_type=media,
            background=BackgroundTask(path.unlink, missing_ok=True),
        )


def _reach(principal: Principal) -> str | None:
    """The district a district admin's imports are limited to; None for a city admin."""
    if principal.role != Role.district_admin:
        return None
    district = principal.territory.centre_area
    if district is None:
        raise Forbidden("no_area", "your account is not attached to a district")
    return district


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


def _write_export(frame: Any, path: Path, kind: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    write_layer(frame, path, layer=kind)
