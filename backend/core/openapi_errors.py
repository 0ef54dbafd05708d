"""The error answers of every route, written into the OpenAPI document.

Litestar documents what a handler returns, not what it raises. Each route's errors follow from
what it takes: a signed-in person (401, 403), a path parameter (404), a body (400 malformed,
422 per field), query parameters (400, 422 for values out of range), a rate limit (429), a
write (503 when storage fails), and for the features whose writes can meet a changed record or
a state that refuses them, 409 (``CONFLICTING``).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Litestar
from litestar.openapi.datastructures import ResponseSpec
from litestar.routes import HTTPRoute

from backend.core.ratelimit import Rule

# Writes that answer 409 when the record changed since it was read (version), was sent
# twice with another body, or is in a state that refuses the step.
CONFLICTING = re.compile(
    r"^/api/(cases|anonymous/cases|tasks|task-items|emergency|imports|party)(/|$)"
)


class ErrorBody(msgspec.Struct):
    status: int
    code: str
    reason: str
    field: str | None = None  # the body's field at fault, as a path: ``photos[2].name``
    details: dict[str, Any] | None = None


def _spec(description: str) -> ResponseSpec:
    return ResponseSpec(data_container=ErrorBody, description=description, generate_examples=False)


ANSWERS = {
    400: _spec("`malformed_body`: not JSON, or a parameter of the URL that does not parse"),
    401: _spec("`unauthenticated`: no token, or one expired, revoked or of a disabled account"),
    403: _spec("`forbidden`: the role or territory of the signed-in person does not allow it"),
    404: _spec("`not_found`: no such record, or one the asker may not read"),
    409: _spec("the record changed meanwhile (`stale_version`) or refuses this step now"),
    413: _spec("`body_too_large` / `image_too_large`"),
    422: _spec("`missing_field`, `invalid_type`, `invalid_value` …, with `field`"),
    429: _spec("`too_many_requests`, with `Retry-After`"),
    503: _spec("`storage_unavailable` (disk full, database read-only or unreachable) or busy"),
}


def _rate_limited(handler: Any) -> bool:
    hooks = [handler.resolve_before_request(), *handler.resolve_middleware()]
    return any(isinstance(getattr(h, "rule", None), Rule) for h in hooks)


def statuses(path: str, method: str, handler: Any) -> set[int]:
    """The error statuses a route may answer."""
    params = handler.parsed_fn_signature.parameters
    found = {503} if method in {"POST", "PUT", "PATCH", "DELETE"} else set()
    if "principal" in params:
        found |= {401, 403}
    if "{" in path:
        found |= {400, 404}
    if "data" in params:
        found |= {400, 413, 422}
    if handler.parsed_fn_signature.parameters.keys() - {"data", "principal", "state", "request"}:
        found |= {400, 422}
    if _rate_limited(handler):
        found.add(429)
    if method != "GET" and CONFLICTING.match(path):
        found.add(409)
    return found


def document_errors(app: Litestar) -> None:
    """Give every HTTP route of ``app`` its error answers (before the schema is first built)."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            methods = handler.http_methods - {"OPTIONS", "HEAD"}
            if not methods or not handler.include_in_schema:
                continue
            method = next(iter(methods))
            found = statuses(route.path, method, handler)
            handler.responses = {s: ANSWERS[s] for s in sorted(found)} | dict(
                handler.responses or {}
            )
