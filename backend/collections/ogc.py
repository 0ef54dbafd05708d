"""The words of OGC API – Features that the routes speak: conformance classes, media types,
the one CRS served, and the ``datetime``, ``crs`` and ``limit`` parameters as the standard
reads them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from backend.core.errors import BadRequest

GEOJSON = "application/geo+json"
JSON = "application/json"
SCHEMA_JSON = "application/schema+json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
HTML = "text/html"

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"

# Part 1 Core with GeoJSON and an OpenAPI 3 description; Part 3's queryables, and filtering
# on them by query parameters (``?level=community``). Not Part 3's CQL2 ``filter``.
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
]

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000

# CRS84 as Part 2 spells it: its URI, its safe CURIE, and the https form some clients send.
_CRS84_NAMES = {
    CRS84,
    CRS84.replace("http://", "https://"),
    "[OGC:CRS84]",
    "OGC:CRS84",
}


def check_crs(value: str | None, parameter: str) -> None:
    """Accept a ``crs`` or ``bbox-crs`` naming CRS84, the one CRS served; 400 for any other
    (Part 2: a CRS the collection does not list).

    >>> check_crs(CRS84, "crs")
    >>> check_crs("http://www.opengis.net/def/crs/EPSG/0/4547", "crs")
    Traceback (most recent call last):
    ...
    backend.core.errors.BadRequest: only CRS84 (WGS 84, longitude first) is served
    """
    if value is not None and value.strip() not in _CRS84_NAMES:
        raise BadRequest(
            "unsupported_crs",
            "only CRS84 (WGS 84, longitude first) is served",
            parameter=parameter,
            supported=[CRS84],
        )


def clamp_limit(limit: int) -> int:
    """The standard's rule: a limit above the maximum is served as the maximum, not refused.

    >>> clamp_limit(5), clamp_limit(10**6)
    (5, 10000)
    """
    return min(limit, MAX_LIMIT)


def _moment(text: str, end: bool) -> datetime | None:
    """One end of an interval: ``..`` or empty for open, a date (its whole day), or an
    RFC 3339 date-time (without an offset: UTC)."""
    if text in ("", ".."):
        return None
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), time.max if end else time(), UTC)
    moment = datetime.fromisoformat(text.upper())  # RFC 3339 allows a lower-case t and z
    # In UTC, as the databases compare them (year 1 at +05:00 falls outside: OverflowError).
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def parse_datetime(text: str) -> tuple[datetime | None, datetime | None]:
    """OGC API's ``datetime``: an instant, a date, or an interval ``start/end`` with ``..``
    for an open end, as a closed interval; 400 ``invalid_datetime`` when it is none of them.

    >>> parse_datetime("2026-12-07")[1].isoformat()
    '2026-12-07T23:59:59.999999+00:00'
    >>> parse_datetime("../2026-12-07T08:00:00Z")
    (None, datetime.datetime(2026, 12, 7, 8, 0, tzinfo=datetime.timezone.utc))
    """
    parts = text.strip().split("/")
    try:
        if len(parts) == 1:
            if parts[0] in ("", ".."):
                raise ValueError
            return _moment(parts[0], False), _moment(parts[0], True)
        if len(parts) != 2:
            raise ValueError
        start, end = _moment(parts[0], False), _moment(parts[1], True)
        if start is None and end is None:
            raise ValueError  # the standard's intervals have at least one end
    except (ValueError, OverflowError):
        raise BadRequest(
            "invalid_datetime",
            "datetime must be an RFC 3339 date-time or date, or an interval start/end "
            "with '..' for an open end",
        ) from None
    if start is not None and end is not None and start > end:
        raise BadRequest("invalid_datetime", "the interval ends before it starts")
    return start, end
