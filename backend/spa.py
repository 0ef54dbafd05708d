"""Serving the PWA's build at ``/app/``: files when they exist, ``index.html`` for app routes.

Mounted at its own path (not ``/``) so deep links into the app never collide with the API;
``/`` redirects here.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Response, get
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import File, Redirect

from backend.errors import ApiError

# Hashed build assets never change under the same name; the shell and service worker must.
_IMMUTABLE = "public, max-age=31536000, immutable"
_REVALIDATE = "no-cache"


@get("/", include_in_schema=False)
async def root() -> Redirect:
    return Redirect("/app/")


@get("/app", include_in_schema=False)
async def app_root() -> Redirect:
    return Redirect("/app/")


@get("/app/{path:path}", include_in_schema=False, sync_to_thread=True)
def app_file(state: State, path: FromPath[str]) -> File | Response[bytes]:
    dist: Path = state.settings.pwa_dist
    index = dist / "index.html"
    if not index.is_file():
        raise ApiError(503, "pwa_not_built", f"the field app is not built: run `make run` ({dist})")
    target = (dist / path.lstrip("/")).resolve()
    if target.is_file() and target.is_relative_to(dist.resolve()):
        cache = _IMMUTABLE if "/assets/" in f"/{path}" else _REVALIDATE
        return File(target, content_disposition_type="inline", headers={"cache-control": cache})
    if Path(path).suffix and not path.endswith(".html"):
        raise ApiError(404, "not_found", f"no file {path!r} in the field app")
    return File(index, content_disposition_type="inline", headers={"cache-control": _REVALIDATE})
