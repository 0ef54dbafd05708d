"""Functional departments (城管, 住建, 市场监管 …): the list the app's picker shows, whom each
person works for, and the check that a dispatch names a department that exists.

The list is seeded from departments.json by a migration; a city edits its rows as it likes.
Departments are called in by a street or a higher level (``actions._dispatch`` refuses lower
ones); their staff have the role ``department`` and one row in ``department_member``.
"""

from __future__ import annotations

import msgspec
from litestar import get

from backend.cases.tables import Department, DepartmentMember
from backend.core.errors import Invalid


class DepartmentOut(msgspec.Struct):
    code: str
    name: str  # 城管
    full_name: str  # 城市管理综合行政执法局


async def all_departments() -> list[DepartmentOut]:
    rows = await Department.select(Department.code, Department.name, Department.full_name).order_by(
        Department.id
    )
    return [DepartmentOut(r["code"], r["name"], r["full_name"]) for r in rows]


async def department_names(codes: set[str]) -> dict[str, str]:
    """The short name of each known code among ``codes``."""
    if not codes:
        return {}
    rows = await Department.select(Department.code, Department.name).where(
        Department.code.is_in(sorted(codes))
    )
    return {r["code"]: r["name"] for r in rows}


async def check_department(code: str) -> None:
    """422 ``unknown_department`` unless ``code`` is on the list."""
    if await Department.count().where(Department.code == code) == 0:
        raise Invalid(
            "unknown_department",
            f"no department {code!r}: GET /api/departments lists them",
            department=code,
        )


async def department_of(person_id: int) -> str | None:
    """The code of the department ``person_id`` works for, if any."""
    row = (
        await DepartmentMember.select(DepartmentMember.department.code)
        .where(DepartmentMember.person == person_id)
        .first()
    )
    return None if row is None else row["department.code"]


@get(
    "/api/departments",
    summary="The functional departments a street or higher level may dispatch a case to",
    tags=["cases"],
    cache=60,
)
async def departments() -> list[DepartmentOut]:
    return await all_departments()
