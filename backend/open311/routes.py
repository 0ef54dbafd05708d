"""Open311 GeoReport v2 over HTTP, in XML (the standard's required format) and JSON, chosen by
the path's extension: service discovery, services and their definitions, public requests
(public fields only, never a phone), a request handed in by a city system with its api_key,
and the public thumbnails ``media_url`` points to. And the city admin's API of those keys.

Errors keep to the standard's shape, ``<errors><error><code/><description/></error></errors>``
or ``[{"code": 404, "description": "…"}]``, which Open311 clients read (the rest of the API
answers ``{"status", "code", "reason"}``): 404 for what does not exist, 403 for a missing,
wrong or revoked api_key, 400 for any other request that cannot be done, 429 over a limit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, ValidationException
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import File

from backend.core import errors
from backend.core.errors import ApiError, BadRequest, Forbidden, NotFound
from backend.core.principal import Principal, require_role
from backend.core.ratelimit import Rule, per_address_middleware
from backend.core.roles import Role
from backend.open311 import filters, formats, keys, mapping, service
from backend.open311.mapping import case_id

# Public and up to 1000 rows an answer: per client address, each process counting its own.
LIMIT = Rule("open311", "120/minute", "Open311 requests from this address")
# Each key's own budget of requests handed in, wherever its system sends them from.
KEY_LIMIT = Rule("open311_key", "60/minute", "Open311 requests sent with this api_key")
MAX_FORM_BYTES = 64 * 1024  # a description of 2,000 characters and the rest of the form

Values = Annotated[str | None, QueryParameter(max_length=2000, description="comma-separated")]
Date = Annotated[str | None, QueryParameter(max_length=40, description="W3C datetime")]
Jurisdiction = Annotated[
    str | None, QueryParameter(max_length=64, description="the city's area code, optional")
]
# The standard names three statuses; the app's 409s and 422s are its "400: cannot be done".
_STATUS = {409: 400, 422: 400}


def _open311_error(request: Request, exc: Exception) -> Response[Any]:
    headers = None
    if isinstance(exc, ApiError):
        status, description, headers = exc.status, exc.reason, exc.headers
    elif isinstance(exc, ValidationException):
        status, description = 400, str(exc.detail)
    elif isinstance(exc, HTTPException):
        # Kept: a 405's Allow, a 429's rate-limit headers.
        status, description, headers = exc.status_code, str(exc.detail), exc.headers
    else:
        errors.log.exception("Open311 request failed", exc_info=exc)
        status, description = 500, "internal server error"
    status = _STATUS.get(status, status)
    return _answer(request, "errors", formats.errors(status, description), status, headers)


def http_error(request: Request, exc: HTTPException) -> Response[Any]:
    """The app's answer to Litestar's own errors: in Open311's shape under ``/open311/``, where
    the router refuses a path or method before any Open311 route is reached."""
    if request.url.path.startswith("/open311/"):
        return _open311_error(request, exc)
    return errors.http_error(request, exc)


def _answer(
    request: Request,
    root: str,
    value: Any,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    """``value`` in the format the path asks for; ``root`` is its XML document element."""
    fmt = formats.format_of(request.url.path)
    content = formats.xml(root, value) if fmt == "xml" else msgspec.json.encode(value)
    return Response(
        content,
        status_code=status,
        media_type=formats.MEDIA_TYPES[fmt],
        headers=headers or None,
    )


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _named(name: str) -> str:
    """The resource a ``{name}.xml`` or ``{name}.json`` path segment names."""
    found = formats.split(name)
    if found is None:
        raise NotFound("resource", name, f"no {name!r}: add .xml or .json")
    return found[0]


class Open311Controller(Controller):
    path = "/open311"
    tags = ["open311"]
    middleware = [per_address_middleware(LIMIT)]
    exception_handlers = {
        ApiError: _open311_error,
        ValidationException: _open311_error,
        HTTPException: _open311_error,
    }

    @get(
        ["/discovery.xml", "/discovery.json"],
        summary="Open311 service discovery: the GeoReport v2 endpoint and its formats",
    )
    async def discovery(self, request: Request) -> Response[Any]:
        return _answer(request, "discovery", mapping.discovery(_base(request)))

    @get(
        ["/v2/services.xml", "/v2/services.json"],
        summary="Open311: the categories one may report under",
        cache=60,
    )
    async def services(
        self, request: Request, jurisdiction_id: Jurisdiction = None
    ) -> Response[Any]:
        await service.check_jurisdiction(jurisdiction_id)
        return _answer(request, "services", await service.all_services())

    @get(
        "/v2/services/{name:str}",
        summary="Open311: a service's definition (its attributes), as services/{code}.xml",
        cache=60,
    )
    async def definition(
        self, request: Request, name: FromPath[str], jurisdiction_id: Jurisdiction = None
    ) -> Response[Any]:
        code = _named(name)
        await service.check_jurisdiction(jurisdiction_id)
        return _answer(request, "service_definition", await service.service_definition(code))

    @get(
        ["/v2/requests.xml", "/v2/requests.json"],
        summary="Open311: public service requests (cases), newest first, at most 1000",
        description=(
            "`service_request_id` (comma-separated) overrides the rest; `service_code` and "
            "`status` (open, closed) take comma-separated values; `start_date` and "
            "`end_date` bound requested_datetime, at most 90 days apart (default: the last "
            "90 days); a `+` sent unencoded in their offset is read as one. Cases about "
            "people (disputes, police matters, hardship, health) are never listed; contact "
            "phones never appear."
        ),
    )
    async def requests(
        self,
        request: Request,
        service_request_id: Values = None,
        service_code: Values = None,
        status: Values = None,
        start_date: Date = None,
        end_date: Date = None,
        jurisdiction_id: Jurisdiction = None,
    ) -> Response[Any]:
        await service.check_jurisdiction(jurisdiction_id)
        try:
            wanted = filters.parse(
                datetime.now(UTC),
                service_request_id=service_request_id,
                service_code=service_code,
                status=status,
                start_date=start_date,
                end_date=end_date,
            )
        except ValueError as exc:
            raise BadRequest("invalid_request", str(exc)) from None
        return _answer(request, "service_requests", await service.find(wanted, _base(request)))

    @post(
        ["/v2/requests.xml", "/v2/requests.json"],
        summary="Open311: hand in a service request with the system's api_key",
        description=(
            "Form-encoded as the standard says: `api_key` (required; 403 when missing, wrong "
            "or revoked), `jurisdiction_id` (optional), `service_code`, `lat` and `long` "
            "(WGS 84) or else an `address_string` the city's geocoder finds (a building, "
            "service point, grid or community), `description` (at most 2,000 characters), "
            "`address_string` (the case's address), `phone` (its contact phone), "
            "`attribute[priority]` (urgent, high, normal). Makes a case with source `open311` "
            "and the key's system as source_system; answers its `service_request_id`. "
            "At most 60 a minute per key."
        ),
        status_code=201,
        request_max_body_size=MAX_FORM_BYTES,
    )
    async def create(self, request: Request, state: State) -> Response[Any]:
        form = await request.form()
        sent = {k: [v for v in form.getall(k) if isinstance(v, str)] for k in form}
        api_key = next(iter(sent.get("api_key", ())), "") or request.query_params.get("api_key", "")
        if not api_key:
            raise Forbidden(
                "no_api_key", "api_key was not provided: the city administrator issues one"
            )
        client = await keys.client_of(api_key)
        if client is None:
            raise Forbidden("invalid_api_key", "Invalid api_key received: unknown or revoked")
        await state.limiter.hit(KEY_LIMIT, str(client.id))
        await service.check_jurisdiction(next(iter(sent.get("jurisdiction_id", ())), None))
        try:
            wanted = mapping.submission(sent)
        except ValueError as exc:
            raise BadRequest("invalid_request", str(exc)) from None
        created = await service.submit(client.name, wanted, state.grid_index, state.geocoder)
        return _answer(request, "service_requests", [created], 201)

    @get("/v2/requests/{name:str}", summary="Open311: one service request, as a list of one")
    async def request(
        self, request: Request, name: FromPath[str], jurisdiction_id: Jurisdiction = None
    ) -> Response[Any]:
        wanted = case_id(_named(name))
        if wanted is None:
            raise NotFound("service request", name)
        await service.check_jurisdiction(jurisdiction_id)
        return _answer(request, "service_requests", [await service.one(wanted, _base(request))])

    @get(
        "/v2/media/{name:str}",
        summary="Open311: the thumbnail of a public request's first photo (its media_url)",
    )
    async def media(self, name: FromPath[str], state: State) -> File:
        if not name.endswith(".jpg"):
            raise NotFound("media", name)
        path = await service.thumbnail(name.removesuffix(".jpg"), state.settings)
        return File(
            path,
            media_type="image/jpeg",
            # Public, and a file id names one unchanging file.
            headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
            content_disposition_type="inline",
            filename=name,
        )


class KeyIn(msgspec.Struct, forbid_unknown_fields=True):
    # The system's name, as its cases will show it (source_system).
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class Open311KeysController(Controller):
    """The city admin's Open311 api_keys: one per client system."""

    path = "/api/open311/keys"
    tags = ["open311"]

    @post(summary="Issue an api_key to a city system (shown once; 409 while it has a live one)")
    async def create(
        self, data: JSONBody[KeyIn], principal: NamedDependency[Principal]
    ) -> keys.NewKey:
        require_role(principal, Role.city_admin)
        return await keys.create(data.name)

    @get(summary="Every api_key issued: name, when made, last used, revoked")
    async def listed(self, principal: NamedDependency[Principal]) -> list[keys.KeyOut]:
        require_role(principal, Role.city_admin)
        return await keys.listed()

    @delete("/{name:str}", summary="Revoke a system's live api_key")
    async def revoke(self, name: FromPath[str], principal: NamedDependency[Principal]) -> None:
        require_role(principal, Role.city_admin)
        await keys.revoke(name)
