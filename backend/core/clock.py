"""The time now, for the code paths whose answers depend on it (due times, overdue checks).

One function so that tests can file a case at 17:55 on the eve of 国庆 through the HTTP API,
by replacing :func:`now` for the test's duration.
"""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current moment, timezone-aware (UTC)."""
    return datetime.now(UTC)
