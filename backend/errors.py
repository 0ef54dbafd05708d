"""Errors as the API speaks them: ``{"status", "code", "reason"}``, never a stack trace.

Service code raises :class:`ApiError` (or a subclass) with a machine-readable code; every other
exception is mapped here, in one table, so a client always gets the same shape.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

log = logging.getLogger("wangge")


class ApiError(Exception):
    """An answer to a bad request: HTTP status, machine code, human reason, optional details."""

    def __init__(self, status: int, code: str, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.status = status
        self.code = code
        self.reason = reason
        self.details = details


class NotFound(ApiError):
    def __init__(self, what: str, key: object) -> None:
        super().__init__(404, "not_found", f"no {what} {key!r}", what=what, key=str(key))


class Invalid(ApiError):
    """422: the request is well-formed but a value is out of range or unknown."""

    def __init__(self, code: str, reason: str, **details: Any) -> None:
        super().__init__(422, code, reason, **details)


def error_body(status: int, code: str, reason: str, **details: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status, "code": code, "reason": reason}
    if details:
        body["details"] = details
    return body


def _respond(status: int, code: str, reason: str, **details: Any) -> Response[dict[str, Any]]:
    return Response(
        error_body(status, code, reason, **details), status_code=status, media_type=MediaType.JSON
    )


def _api_error(_: Request, exc: ApiError) -> Response[dict[str, Any]]:
    return _respond(exc.status, exc.code, exc.reason, **exc.details)


def _validation_error(_: Request, exc: ValidationException) -> Response[dict[str, Any]]:
    problems = exc.extra if isinstance(exc.extra, list) else []
    return _respond(400, "invalid_request", exc.detail, problems=problems)


# Litestar's own HTTP exceptions keep their status; the code says which kind it was.
_HTTP_CODES: dict[type[HTTPException], str] = {
    NotFoundException: "not_found",
    NotAuthorizedException: "unauthenticated",
    PermissionDeniedException: "forbidden",
}


def _http_error(_: Request, exc: HTTPException) -> Response[dict[str, Any]]:
    code = _HTTP_CODES.get(type(exc), f"http_{exc.status_code}")
    return _respond(exc.status_code, code, exc.detail)


def _unexpected(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _respond(HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", "internal server error")


EXCEPTION_HANDLERS = {
    ApiError: _api_error,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    Exception: _unexpected,
}
