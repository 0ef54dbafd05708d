"""Layer import for admins over HTTP (upload, read the report, confirm: uploads.py does them)
and layer downloads."""

from __future__ import annotations

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

from backend.core.errors import Invalid, NotFound
from backend.core.principal import Principal, require_role
from backend.core.roles import ADMINS
from backend.imports import uploads
from backend.imports.export import KINDS, layer_frame
from geo.layers import write_layer
from geo.validate import SNAP_M

MAX_UPLOAD_BYTES = 32 * 1024 * 1024  # a city's 100,000 building footprints are ~20 MB


@dataclass
class Upload:
    file: UploadFile
    kind: str
    layer: str | None = None
    crs: str | None = None
    # A JSON object naming the file's column for each canonical one: {"code": "网格编码"}.
    columns: str | None = None
    keep_missing: bool = False
    # Slivers from rounding narrower than this many metres are repaired (0: none).
    snap: float = SNAP_M


def _uploads(state: State) -> Path:
    return state.settings.data_dir / "uploads"


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
            '`columns` (JSON, e.g. {"code": "网格编码"}), `keep_missing` and `snap` (metres, '
            "default 0.1: slivers from rounding narrower than this are repaired). "
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
        return await uploads.check(
            _uploads(state),
            principal,
            data.file.filename,
            await data.file.read(),
            kind=data.kind,
            layer=data.layer,
            crs=data.crs,
            columns=data.columns,
            keep_missing=data.keep_missing,
            snap=data.snap,
        )

    @post("/{import_id:str}/confirm", status_code=200, summary="Write a checked upload")
    async def confirm(
        self, import_id: FromPath[str], principal: NamedDependency[Principal], state: State
    ) -> dict[str, Any]:
        require_role(principal, *ADMINS)
        body, index = await uploads.confirm(_uploads(state), import_id, principal)
        if index is not None:
            state.grid_index = index
        return body

    @get("/{import_id:str}/problems.gpkg", summary="The problem shapes of an upload, for QGIS")
    async def problems(
        self, import_id: FromPath[str], principal: NamedDependency[Principal], state: State
    ) -> File:
        require_role(principal, *ADMINS)
        path = await uploads.problems_file(_uploads(state), import_id, principal)
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


def _write_export(frame: Any, path: Path, kind: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    write_layer(frame, path, layer=kind)
