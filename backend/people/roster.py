"""A staff roster as the city keeps it: a CSV (UTF-8, or GBK as Excel on Chinese Windows
saves it) or an XLSX sheet, one row per person and post, columns named in Chinese or English.

`read_roster` returns every row as text under the canonical column names; what the text
means is `backend.people.checks`' to say, so that every bad cell is reported, not the first.

>>> import tempfile
>>> from pathlib import Path
>>> with tempfile.TemporaryDirectory() as folder:
...     path = Path(folder, "staff.csv")
...     _ = path.write_bytes("姓名,手机号,角色\\n张伟,13800000000,网格长\\n".encode("gbk"))
...     roster = read_roster(path)
>>> roster.columns, roster.rows[0].line, roster.rows[0].values["name"]
({'name': '姓名', 'phone': '手机号', 'role': '角色'}, 2, '张伟')
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import openpyxl

from geo.layer_columns import by_name, find

GUESSES: dict[str, tuple[str, ...]] = {
    "name": ("name", "姓名", "名字", "人员姓名"),
    "phone": ("phone", "手机号", "手机", "手机号码", "联系电话", "电话", "mobile", "tel"),
    "role": ("role", "角色", "人员类型", "身份"),
    "area_code": (
        "area_code", "区域编码", "所属区域", "所属区域编码", "区划代码", "所属社区编码", "area",
    ),
    "grid_code": ("grid_code", "网格编码", "网格代码", "所属网格", "所属网格编码", "grid"),
    "post": ("post", "岗位", "职务"),
    "department": ("department", "部门", "部门编码", "职能部门", "dept"),
    "active": ("active", "在岗", "是否在岗", "状态"),
}  # fmt: skip
REQUIRED = ("name", "phone", "role")


class RosterError(Exception):
    """The file cannot be read as a roster at all (as opposed to rows with problems)."""


@dataclass(frozen=True)
class Row:
    line: int  # as a spreadsheet numbers it: the header is line 1
    values: dict[str, str]  # canonical column -> the cell's text, stripped ("" if blank)


@dataclass(frozen=True)
class Roster:
    rows: list[Row]
    columns: dict[str, str]  # canonical column -> the file's header


def _cell(value: object) -> str:
    """A spreadsheet cell as the text a person typed: phones and codes stored as numbers
    keep their digits (no ".0"), dates their day."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()
    return str(value).strip()


def _decode(raw: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # GB 18030 extends GBK
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RosterError(f"{name}: the text is neither UTF-8 nor GBK")


def _csv_table(path: Path) -> list[list[str]]:
    text = _decode(path.read_bytes(), path.name)
    header = text.split("\n", 1)[0]
    separator = max((",", "\t", ";"), key=header.count)
    return [[_cell(c) for c in row] for row in csv.reader(io.StringIO(text), delimiter=separator)]


def _xlsx_table(path: Path) -> list[list[str]]:
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is no workbook
        raise RosterError(f"{path.name}: not a readable XLSX workbook ({error})") from None
    try:
        return [[_cell(c) for c in row] for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def _match(header: list[str], mapping: Mapping[str, str]) -> dict[str, int]:
    """Canonical column -> its index in the header: the mapping first, then guesses."""
    lookup = by_name(header)
    used: dict[str, str] = {}
    for canonical, source in mapping.items():
        if canonical not in GUESSES:
            raise RosterError(
                f"{canonical!r} is not a roster column; expected one of {', '.join(GUESSES)}"
            )
        column = lookup.get(source.strip().casefold())
        if column is None:
            raise RosterError(f"the file has no column {source!r}; it has {', '.join(header)}")
        used[canonical] = column
    for canonical, names in GUESSES.items():
        if canonical not in used:
            column = find(lookup, names, set(used.values()))
            if column is not None:
                used[canonical] = column
    missing = [c for c in REQUIRED if c not in used]
    if missing:
        raise RosterError(
            f"no column for {', '.join(missing)}; map one with --map {missing[0]}=COLUMN "
            f"(the file has {', '.join(header)})"
        )
    return {canonical: header.index(column) for canonical, column in used.items()}


def read_roster(path: str | Path, columns: Mapping[str, str] | None = None) -> Roster:
    """The rows of a roster file (.csv or .xlsx), blank lines left out. Raises RosterError."""
    path = Path(path)
    if not path.is_file():
        raise RosterError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise RosterError(f"{path.name}: a roster is a .csv or .xlsx file, not {suffix or '?'}")
    table = _csv_table(path) if suffix == ".csv" else _xlsx_table(path)
    if not table:
        raise RosterError(f"{path.name} is empty")
    header = table[0]
    index = _match(header, columns or {})
    rows = [
        Row(line, {c: cells[i] if i < len(cells) else "" for c, i in index.items()})
        for line, cells in enumerate(table[1:], start=2)
        if any(cells)
    ]
    if not rows:
        raise RosterError(f"{path.name} has a header but no rows")
    return Roster(rows, {c: header[i] for c, i in index.items()})
