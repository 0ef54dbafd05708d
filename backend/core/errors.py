"""Errors as the API speaks them: ``{"status", "code", "reason"}``, never a stack trace.

Service code raises a refusal (``Forbidden``, ``NotFound``, ``Conflict``, ``Invalid`` …) with a
machine-readable code; ``STATUS`` gives each its HTTP status, and ``EXCEPTION_HANDLERS`` maps
every other exception, so a client always gets the same shape.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import asyncpg
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    ClientException,
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    TooManyRequestsException,
    ValidationException,
)
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap

from backend.core import validation
from backend.core.storage import RETRY_AFTER_S, storage_fault

log = logging.getLogger("wangge")


class ApiError(Exception):
    """An answer to a bad request: HTTP status, machine code, human reason, optional details."""

    def __init__(
        self,
        status: int,
        code: str,
        reason: str,
        *,
        headers: dict[str, str] | None = None,
        **details: Any,
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.code = code
        self.reason = reason
        self.headers = headers or {}
        self.details = details


class _Refusal(ApiError):
    """A refusal whose status its class says (``STATUS``): services raise ``Forbidden(code,
    reason)``, not ``ApiError(403, code, reason)``."""

    def __init__(
        self, code: str, reason: str, *, headers: dict[str, str] | None = None, **details: Any
    ) -> None:
        super().__init__(status_of(type(self)), code, reason, headers=headers, **details)


class BadRequest(_Refusal):
    """400: the request itself does not parse (a bad number, a repeated parameter)."""


class Unauthenticated(_Refusal):
    """401: no valid sign-in behind the request."""


class Forbidden(_Refusal):
    """403: signed in, but this person may not do this (here)."""


class Conflict(_Refusal):
    """409: the state of things refuses it (changed meanwhile, done already)."""


class Invalid(_Refusal):
    """422: the request is well-formed but a value is out of range or unknown."""


class Unavailable(_Refusal):
    """503: the server cannot do it now; the client may try again."""


class NotFound(ApiError):
    """404 ``not_found``: no ``what`` with this ``key`` (or none the asker may know of)."""

    def __init__(self, what: str, key: object, reason: str | None = None) -> None:
        reason = reason or f"no {what} {key!r}"
        super().__init__(status_of(NotFound), "not_found", reason, what=what, key=str(key))


# Each kind of refusal and its HTTP status: the one table.
STATUS: dict[type[ApiError], int] = {
    BadRequest: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Invalid: 422,
    Unavailable: 503,
}


def status_of(kind: type[ApiError]) -> int:
    """The status of a refusal class, or of the nearest class above it in ``STATUS``."""
    return next(STATUS[k] for k in kind.__mro__ if k in STATUS)


def error_body(status: int, code: str, reason: str, **details: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status, "code": code, "reason": reason}
    if details:
        body["details"] = details
    return body


def _respond(
    status: int, code: str, reason: str, headers: dict[str, str] | None = None, **details: Any
) -> Response[dict[str, Any]]:
    return Response(
        error_body(status, code, reason, **details),
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers,
    )


def _challenge(status: int) -> dict[str, str] | None:
    # RFC 6750: a 401 names the scheme the client should use.
    return {"WWW-Authenticate": 'Bearer realm="wangge"'} if status == 401 else None


def _api_error(_: Request, exc: ApiError) -> Response[dict[str, Any]]:
    headers = exc.headers | (_challenge(exc.status) or {})
    return _respond(exc.status, exc.code, exc.reason, headers or None, **exc.details)


def _validation_error(_: Request, exc: ValidationException) -> Response[dict[str, Any]]:
    found = (
        [validation.problem(p) for p in exc.extra if isinstance(p, dict)]
        if isinstance(exc.extra, list)
        else []
    )
    # A body that parsed but holds the wrong fields is 422; a URL that does not parse is 400,
    # and is answered first (its problems come before the body's).
    url = [p for p in found if p["source"] != "body"]
    if url:
        found = url + [p for p in found if p["source"] == "body"]
    code, field, reason = validation.summary(found, exc.detail)
    status = 400 if url or not found else 422
    response = _respond(status, code, reason, problems=found)
    if field is not None:
        response.content["field"] = field
    return response


# Litestar's own HTTP exceptions keep their status (and headers, such as a 405's Allow);
# the code says which kind it was. Looked up along the class hierarchy, nearest first.
_HTTP_CODES: dict[type[HTTPException], str] = {
    NotFoundException: "not_found",
    NotAuthorizedException: "unauthenticated",
    PermissionDeniedException: "forbidden",
    MethodNotAllowedException: "method_not_allowed",
    RequestEntityTooLarge: "body_too_large",
    TooManyRequestsException: "too_many_requests",
}


def _http_code(exc: HTTPException) -> str:
    for cls in type(exc).__mro__:
        if cls in _HTTP_CODES:
            return _HTTP_CODES[cls]
    if type(exc) is ClientException or (
        exc.status_code == 400 and "malformed" in str(exc.detail).lower()
    ):
        # What Litestar raises when a body does not decode at all (msgspec's DecodeError).
        return "malformed_body"
    return f"http_{exc.status_code}"


def http_error(_: Request, exc: HTTPException) -> Response[dict[str, Any]]:
    headers = dict(exc.headers or {}) | (_challenge(exc.status_code) or {})
    return _respond(exc.status_code, _http_code(exc), exc.detail, headers or None)


def _bad_value(_: Request, exc: asyncpg.DataError) -> Response[dict[str, Any]]:
    # PostgreSQL refuses values SQLite stores (a NUL character, an integer past 64 bits):
    # the request was bad, not the server.
    return _respond(400, "invalid_value", f"a value in the request cannot be stored: {exc}")


def _unexpected(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _respond(HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", "internal server error")


# Storage that cannot take a write (a full disk, a read-only disk or database, a PostgreSQL
# that is down or cut off) is the server's condition, not the request's fault: 503 with the
# reason and a time to retry after, so phones keep the write in their outbox. Anything else
# of these classes is still a bug.
def _storage_fault(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    reason = storage_fault(exc)
    if reason is None:
        return _unexpected(request, exc)
    log.error("storage unavailable on %s %s: %r", request.method, request.url.path, exc)
    retry = {"Retry-After": str(RETRY_AFTER_S)}
    return _respond(503, "storage_unavailable", reason, retry)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    ApiError: _api_error,
    asyncpg.DataError: _bad_value,
    ValidationException: _validation_error,
    HTTPException: http_error,
    sqlite3.Error: _storage_fault,
    OSError: _storage_fault,
    asyncpg.PostgresError: _storage_fault,
    asyncpg.InterfaceError: _storage_fault,
    asyncpg.InternalClientError: _storage_fault,
    Exception: _unexpected,
}
