"""The request class of the app."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request
from litestar.exceptions import SerializationException

from backend.core.errors import BadRequest

# A JSON string escape of NUL, not itself escaped: an even number of backslashes before it.
_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


class WanggeRequest(Request):
    async def json(self) -> Any:
        # As for URLs (backend.core.middleware.reject_nul): PostgreSQL refuses NUL in text and
        # SQLite stores it, so the answer would depend on the database.
        if _NUL.search(await self.body()):
            raise BadRequest("invalid_value", "NUL (\\u0000) in a JSON string")
        # msgspec raises these rather than its DecodeError for bytes that are not UTF-8 and
        # for arrays nested deeper than its recursion limit, and Litestar only turns
        # DecodeError into a 400: both are malformed bodies, not server faults.
        try:
            return await super().json()
        except UnicodeDecodeError as exc:
            raise SerializationException("JSON is malformed: not UTF-8") from exc
        except RecursionError as exc:
            raise SerializationException("JSON is malformed: nested too deeply") from exc
