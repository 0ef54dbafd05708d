"""The assessment tables as files: a CSV per level, and one XLSX workbook with a sheet per
level, the formulas and the weights. Numbers stay numbers, so a spreadsheet can sum them."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from backend.assessment.schemas import AssessmentOut, UnitOut
from backend.assessment.scoring import ROLE_NAMES

LEVEL_NAMES = {
    "worker": "网格员 worker",
    "grid": "网格 grid",
    "community": "社区 community",
    "street": "街道 street",
    "district": "区 district",
    "department": "职能部门 department",
    "grade": "三岗等级 grade",
    "stars": "支部星级 stars",
}
_FIXED = (
    ("code", "编码"),
    ("name", "名称"),
    ("rank", "排名"),
    ("previous_rank", "上期排名"),
    ("rank_change", "名次变化"),
    ("score", "综合得分"),
)
# Spreadsheets run a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def header(answer: AssessmentOut) -> list[str]:
    """Column titles: the Chinese name and, in brackets, the key the API uses; a worker's
    score and rank in each role last."""
    roles = [
        title
        for role in answer.role_weights or ()
        for title in (f"{ROLE_NAMES[role]}得分 ({role})", f"{ROLE_NAMES[role]}排名 ({role})")
    ]
    fixed = [f"{zh} ({key})" for key, zh in _FIXED]
    return fixed + [f"{i.name} ({i.key})" for i in answer.indicators] + roles


def _safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _role(unit: UnitOut, role: str) -> tuple[float | None, int | None]:
    held = (unit.roles or {}).get(role)
    return (None, None) if held is None else (held.score, held.rank)


def rows(units: Sequence[UnitOut], answer: AssessmentOut) -> list[list[Any]]:
    return [
        [
            _safe(u.code),
            _safe(u.name),
            u.rank,
            u.previous_rank,
            u.rank_change,
            u.score,
            *(u.figures.get(i.key) for i in answer.indicators),
            *(v for role in answer.role_weights or () for v in _role(u, role)),
        ]
        for u in units
    ]


def csv_bytes(answer: AssessmentOut) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header(answer))
    for row in rows(answer.units, answer):
        writer.writerow(["" if v is None else v for v in row])
    # The BOM tells Excel the file is UTF-8; without it Chinese text opens garbled.
    return ("\ufeff" + out.getvalue()).encode()


def _pairs(weights: Mapping[str, float]) -> list[Any]:
    return [v for key, weight in sorted(weights.items()) for v in (key, weight)]


def xlsx_bytes(answers: Mapping[str, AssessmentOut], weights: Mapping[str, dict[str, float]]):
    """One sheet per level, then 指标说明 (every indicator's formula and weights)."""
    book = Workbook()
    book.remove(book.worksheets[0])  # the one sheet a new workbook has
    first = next(iter(answers.values()))
    for level, answer in answers.items():
        sheet = book.create_sheet(LEVEL_NAMES[level])
        sheet.append(header(answer))
        for row in rows(answer.units, answer):
            sheet.append(row)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "C2"
    notes = book.create_sheet("指标说明 formulas")
    levels = list(answers)
    notes.append(["key", "指标", "formula", "unit", "better", *(f"weight {lv}" for lv in levels)])
    for i in first.indicators:
        notes.append(
            [i.key, i.name, i.formula, i.unit, i.better, *(weights[lv].get(i.key) for lv in levels)]
        )
    notes.append([])
    notes.append(["period", first.period, "start", first.start, "end", first.end])
    if first.published_at:
        notes.append(["figures", "published 公示", "published_at", first.published_at])
    else:
        notes.append(["figures", "computed from the cases as they stand"])
    notes.append(["score", first.score_formula])
    notes.append(["self_handled_weight", first.self_handled_weight])
    if first.source is not None:
        notes.append(["source", first.source])
    for answer in answers.values():
        for role, role_weights in (answer.role_weights or {}).items():
            notes.append([f"role {role}", ROLE_NAMES[role], *_pairs(role_weights)])
    for omission in first.omitted:
        notes.append(["omitted", omission.source, omission.reason])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
