"""The query of GET requests.json, as GeoReport v2 defines it. Pure.

``service_request_id`` (comma-separated) overrides every other argument. Otherwise
``service_code`` and ``status`` take comma-separated values, and ``start_date`` /
``end_date`` (W3C datetimes, UTC when no offset is given; a ``+`` sent unencoded, which
arrives as a space, is read as the ``+`` it was) bound ``requested_datetime``: at
most 90 days apart, the most recent 90 days when neither is given. At most 1000 requests are
returned, the newest first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from backend.open311.mapping import case_id, statuses_of

MAX_SPAN = timedelta(days=90)
LIMIT = 1000
MAX_VALUES = 100


@dataclass(frozen=True)
class RequestFilter:
    ids: tuple[int, ...] = ()  # when given, nothing else applies
    service_codes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()  # ours, not Open311's
    start: datetime | None = None
    end: datetime | None = None


def _values(name: str, text: str | None) -> tuple[str, ...]:
    values = tuple(dict.fromkeys(v.strip() for v in (text or "").split(",") if v.strip()))
    if len(values) > MAX_VALUES:
        raise ValueError(f"{name} takes at most {MAX_VALUES} values")
    return values


# A "+" left unencoded in a query string arrives as a space: "…T09:00:00 08:00".
_SPACED_OFFSET = re.compile(
    r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$"
)


def _datetime(name: str, text: str | None) -> datetime | None:
    """A W3C datetime; one whose offset's "+" became a space in the query string is read
    as the client meant it.

    >>> _datetime("start_date", "2025-05-06T09:00:00 08:00").isoformat()
    '2025-05-06T09:00:00+08:00'
    """
    if not text or not text.strip():
        return None
    try:
        value = datetime.fromisoformat(_SPACED_OFFSET.sub(r"\1+\2", text.strip()))
    except ValueError:
        raise ValueError(
            f"{name} must be a W3C datetime such as 2025-05-06T09:00:00+08:00"
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def parse(
    now: datetime,
    *,
    service_request_id: str | None = None,
    service_code: str | None = None,
    status: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
) -> RequestFilter:
    """The filter of one query; ValueError says what is wrong with it.

    >>> now = datetime(2025, 5, 6, tzinfo=UTC)
    >>> parse(now, service_request_id="3,4", status="open").ids
    (3, 4)
    >>> f = parse(now, service_code="1501,0101", status="open")
    >>> f.service_codes, "accepted" in f.statuses, f.start.isoformat()
    (('1501', '0101'), True, '2025-02-05T00:00:00+00:00')
    >>> parse(now, start_date="2025-01-01T00:00:00Z", end_date="2025-05-01T00:00:00Z")
    Traceback (most recent call last):
    ...
    ValueError: start_date and end_date may be at most 90 days apart
    """
    ids = _values("service_request_id", service_request_id)
    if ids:
        parsed = [case_id(i) for i in ids]
        if None in parsed:
            raise ValueError("service_request_id takes case ids, whole numbers")
        return RequestFilter(ids=tuple(i for i in parsed if i is not None))
    statuses: list[str] = []
    for value in _values("status", status):
        if value not in ("open", "closed"):
            raise ValueError(f"status is open or closed, not {value!r}")
        statuses += statuses_of(value)
    start, end = _datetime("start_date", start_date), _datetime("end_date", end_date)
    if end is None:
        end = now if start is None else start + MAX_SPAN
    if start is None:
        start = end - MAX_SPAN
    if end < start:
        raise ValueError("end_date is before start_date")
    if end - start > MAX_SPAN:
        raise ValueError("start_date and end_date may be at most 90 days apart")
    return RequestFilter(
        service_codes=_values("service_code", service_code),
        statuses=tuple(sorted(set(statuses))),
        start=start,
        end=end,
    )
