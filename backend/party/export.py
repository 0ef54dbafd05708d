"""The unit report as files: CSV (UTF-8 with a BOM, for Excel) and an XLSX workbook."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from backend.party.schemas import UnitReport

FIELDS = ("work_unit", "member_id", "name", "community_code", "community_name", "services", "hours")
LABELS = (
    "工作单位",
    "党员编号",
    "姓名",
    "报到社区编码",
    "报到社区",
    "服务次数",
    "确认服务时长（小时）",
)


def _values(report: UnitReport) -> list[list[object]]:
    return [[getattr(row, f) for f in FIELDS] for row in report.rows]


def file_name(report: UnitReport, suffix: str) -> str:
    """ASCII only, so every browser keeps it.

    >>> file_name(UnitReport(None, "2026-05-01", "2026-05-31", 0, 0, 0.0, []), "csv")
    'party-hours-2026-05-01-2026-05-31.csv'
    """
    return f"party-hours-{report.date_from}-{report.date_to}.{suffix}"


def to_csv(report: UnitReport) -> bytes:
    """One row per member under a header of field names.

    >>> to_csv(UnitReport(None, "2026-05-01", "2026-05-31", 0, 0, 0.0, [])).decode()[:11]
    '\\ufeffwork_unit,'
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(FIELDS)
    writer.writerows(_values(report))
    # The BOM tells Excel the file is UTF-8; without it Chinese text opens garbled.
    return ("\ufeff" + out.getvalue()).encode()


def to_xlsx(report: UnitReport) -> bytes:
    """Sheet 双报告: a header of Chinese labels, one row per member, a total row (合计);
    sheet 说明: the unit and the period."""
    book = Workbook()
    sheet = book.worksheets[0]  # the one sheet a new workbook has
    sheet.title = "双报告"
    sheet.append(LABELS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for values in _values(report):
        sheet.append(values)
    sheet.append(["合计", None, f"{report.members}人", None, None, report.services, report.hours])
    sheet.freeze_panes = "A2"
    for column, width in zip("ABCDEFG", (28, 10, 10, 16, 16, 10, 18), strict=True):
        sheet.column_dimensions[column].width = width
    about = book.create_sheet("说明")
    about.append(["工作单位", report.unit or "全部"])
    about.append(["起始日期", report.date_from])
    about.append(["截止日期", report.date_to])
    about.append(["计入规则", "社区已确认的服务时长，按需求开始日期计入期间"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
