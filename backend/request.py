"""The request class of the app."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import SerializationException


class WanggeRequest(Request):
    async def json(self) -> Any:
        # msgspec raises these rather than its DecodeError for bytes that are not UTF-8 and
        # for arrays nested deeper than its recursion limit, and Litestar only turns
        # DecodeError into a 400: both are malformed bodies, not server faults.
        try:
            return await super().json()
        except UnicodeDecodeError as exc:
            raise SerializationException("JSON is malformed: not UTF-8") from exc
        except RecursionError as exc:
            raise SerializationException("JSON is malformed: nested too deeply") from exc
