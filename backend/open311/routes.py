"""Open311 GeoReport v2 over HTTP, read-only and public: services, and the public requests.

Errors keep to the standard's shape, ``[{"code": 404, "description": "…"}]``, which Open311
clients read; the rest of the API answers ``{"status", "code", "reason"}``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.exceptions import HTTPException, ValidationException
from litestar.params import FromPath, QueryParameter

from backend.core import errors
from backend.core.errors import ApiError, BadRequest, NotFound
from backend.core.ratelimit import Rule, per_address_middleware
from backend.open311 import filters, service
from backend.open311.mapping import Service, ServiceRequest, case_id

# Public and up to 1000 rows an answer: per client address, each process counting its own.
LIMIT = Rule("open311", "120/minute", "Open311 requests from this address")

Values = Annotated[str | None, QueryParameter(max_length=2000, description="comma-separated")]
Date = Annotated[str | None, QueryParameter(max_length=40, description="W3C datetime")]


def _open311_error(_: Request, exc: Exception) -> Response[list[dict[str, Any]]]:
    headers = None
    if isinstance(exc, ApiError):
        status, description, headers = exc.status, exc.reason, exc.headers
    elif isinstance(exc, HTTPException):
        # Kept: a 405's Allow, a 429's rate-limit headers.
        status, description, headers = exc.status_code, str(exc.detail), exc.headers
    else:
        status, description = 500, "internal server error"
    return Response(
        [{"code": status, "description": description}],
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers or None,
    )


def http_error(request: Request, exc: HTTPException) -> Response[Any]:
    """The app's answer to Litestar's own errors: in Open311's shape under ``/open311/``, where
    the router refuses a path or method before any Open311 route is reached."""
    if request.url.path.startswith("/open311/"):
        return _open311_error(request, exc)
    return errors.http_error(request, exc)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


class Open311Controller(Controller):
    path = "/open311/v2"
    tags = ["open311"]
    middleware = [per_address_middleware(LIMIT)]
    exception_handlers = {
        ApiError: _open311_error,
        ValidationException: _open311_error,
        HTTPException: _open311_error,
    }

    @get("/services.json", summary="Open311: the categories one may report under", cache=60)
    async def services(self) -> list[Service]:
        return await service.all_services()

    @get(
        "/requests.json",
        summary="Open311: public service requests (cases), newest first, at most 1000",
        description=(
            "`service_request_id` (comma-separated) overrides the rest; `service_code` and "
            "`status` (open, closed) take comma-separated values; `start_date` and "
            "`end_date` bound requested_datetime, at most 90 days apart (default: the last "
            "90 days). Cases about people (disputes, police matters, hardship, health) are "
            "never listed; contact phones never appear."
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
    ) -> list[ServiceRequest]:
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
        return await service.find(wanted, _base(request))

    @get("/requests/{name:str}", summary="Open311: one service request, as a list of one")
    async def request(self, request: Request, name: FromPath[str]) -> list[ServiceRequest]:
        wanted = case_id(name.removesuffix(".json")) if name.endswith(".json") else None
        if wanted is None:
            raise NotFound("service request", name)
        return [await service.one(wanted, _base(request))]
