"""Serving the PWA's build at ``/app/``: files when they exist, ``index.html`` for app routes.

Mounted at its own path (not ``/``) so deep links into the app never collide with the API;
``/`` redirects here.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from litestar import Response, get
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import File, Redirect

from backend.core.errors import NotFound, Unavailable

# Hashed build assets never change under the same name; the shell and service worker must.
_IMMUTABLE = "public, max-age=31536000, immutable"
_REVALIDATE = "no-cache"
# Types the platform's mimetypes table may not know.
_MEDIA_TYPES = {
    ".webmanifest": "application/manifest+json",
    ".js": "text/javascript",
    ".svg": "image/svg+xml",
}


@get("/", include_in_schema=False)
async def root() -> Redirect:
    return Redirect("/app/")


@get("/app", include_in_schema=False, sync_to_thread=True)
def app_shell(state: State) -> File | Response[bytes]:
    """``/app`` and ``/app/`` (Litestar treats them as one path): the app's index.html."""
    return _serve(state, "/")


@get("/app/{path:path}", include_in_schema=False, sync_to_thread=True)
def app_path(state: State, path: FromPath[str]) -> File | Response[bytes]:
    return _serve(state, path)


def _serve(state: State, path: str) -> File | Response[bytes]:
    dist: Path = state.settings.pwa_dist
    index = dist / "index.html"
    if not index.is_file():
        raise Unavailable("pwa_not_built", "the field app is not built: run `make run`")
    try:
        target = (dist / path.lstrip("/")).resolve()
        found = target.is_file() and target.is_relative_to(dist.resolve())
    except (OSError, ValueError):  # a NUL byte, a name too long for the file system
        found = False
    if found:
        return _file(target, _IMMUTABLE if "/assets/" in f"/{path}" else _REVALIDATE)
    if Path(path).suffix and not path.endswith(".html"):
        raise NotFound("file", path, f"no file {path!r} in the field app")
    return _file(index, _REVALIDATE)


def _file(path: Path, cache: str) -> File:
    media_type = _MEDIA_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
    return File(
        path,
        filename=path.name,
        media_type=media_type or "application/octet-stream",
        content_disposition_type="inline",
        headers={"cache-control": cache},
    )
