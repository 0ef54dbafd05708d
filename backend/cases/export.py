"""The CSV export of a case list: every case the list's filters match, in id order, in batches,
with phone numbers masked and nothing a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any

from piccolo.columns import Column

from backend.cases.listing import Filters, matching
from backend.cases.service import actor_of
from backend.cases.tables import Case
from backend.core.errors import Invalid
from backend.core.phones import masked_text
from backend.core.principal import Principal

EXPORT_LIMIT = 100_000
_BATCH = 2_000  # rows per query of an export: bounded memory whatever the size

EXPORT_COLUMNS: tuple[Column, ...] = (
    Case.id,
    Case.kind,
    Case.source,
    Case.source_system,
    Case.category,
    Case.status,
    Case.priority,
    Case.owner_code,
    Case.grid_code,
    Case.created_at,
    Case.due_at,
    Case.closed_at,
    Case.rating,
    Case.address,
    Case.description,
)
# Spreadsheets run a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


async def export(filters: Filters, principal: Principal) -> AsyncIterator[bytes]:
    """The CSV of every matching case, in id order; 422 beyond EXPORT_LIMIT rows.

    Counted before the first byte goes out, so that a refusal is still a JSON answer.
    """
    actor = actor_of(principal)
    conditions = matching(filters, principal, actor, datetime.now(UTC))
    matched = await Case.count().where(*conditions)
    if matched > EXPORT_LIMIT:
        raise Invalid(
            "too_many_rows",
            f"{matched} cases match; narrow the filters to at most {EXPORT_LIMIT}",
            matched=matched,
            limit=EXPORT_LIMIT,
        )
    return _csv_chunks(conditions)


async def _csv_chunks(conditions: list[Any]) -> AsyncIterator[bytes]:
    # The BOM tells Excel the file is UTF-8; without it Chinese text opens garbled.
    yield ("\ufeff" + _csv_lines([[c._meta.name for c in EXPORT_COLUMNS]])).encode()
    last_id, sent = 0, 0
    while sent < EXPORT_LIMIT:
        rows = (
            await Case.select(*EXPORT_COLUMNS)
            .where(*conditions, Case.id > last_id)
            .order_by(Case.id)
            .limit(min(_BATCH, EXPORT_LIMIT - sent))
        )
        if not rows:
            return
        yield _csv_lines(_csv_row(row) for row in rows).encode()
        last_id, sent = rows[-1]["id"], sent + len(rows)


def _csv_lines(rows: Iterable[list[Any]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue()


def _csv_row(row: dict[str, Any]) -> list[Any]:
    return [_cell(row[c._meta.name]) for c in EXPORT_COLUMNS]


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, str):
        return _spreadsheet_safe(masked_text(value))
    return "" if value is None else value


def _spreadsheet_safe(text: str) -> str:
    """A leading apostrophe keeps a resident's "=HYPERLINK(…)" from running as a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text
