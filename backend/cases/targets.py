"""Whom a case may be dispatched to: the workflow knows only ids, this module knows people.

A dispatch names a person, a department, or both (a department's named officer). A person must
be staff, and work where the case is owned or where the dispatcher does (a community sends a
grid's case to a worker of another of its grids; a grid leader only within their grids): a
grid role holding a post in a grid inside that code, centre staff whose area lies inside it or
contains it (a supervisor taking it on). Department staff are reached through their
department, and only inside their own area if they have one.
"""

from __future__ import annotations

from collections.abc import Iterable

from backend.cases.departments import check_department, department_of
from backend.core.areas import Level, code_within, level_of_code
from backend.core.errors import Invalid
from backend.core.roles import AREA_ROLES, GRID_ROLES, Role
from backend.core.territory import Territory
from backend.grids.tables import GridPost
from backend.people.tables import Person


def reaches(role: str, owner_code: str, grids: Iterable[str], area_code: str | None) -> bool:
    """Whether a person of ``role`` holding posts in ``grids`` and working for ``area_code``
    works where a case owned at ``owner_code`` is.

    >>> reaches("grid_worker", "150302001001", ["15030200100101"], None)
    True
    >>> reaches("grid_worker", "15030200100102", ["15030200100101"], None)
    False
    >>> reaches("community_staff", "15030200100101", [], "150302001001")
    True
    >>> reaches("resident", "15030200100101", [], "150302001001")
    False
    """
    if role in GRID_ROLES:
        return any(code_within(grid, owner_code) for grid in grids)
    if role in AREA_ROLES and area_code is not None:
        return code_within(area_code, owner_code) or code_within(owner_code, area_code)
    return False


async def check_target(
    owner_code: str, assignee: int | None, department: str | None, dispatcher: Territory
) -> None:
    """422 unless the dispatch's assignee and department may take a case owned at
    ``owner_code`` from ``dispatcher``: ``unknown_department``, ``unknown_person`` or
    ``invalid_assignee``."""
    if department:
        await check_department(department)
    if assignee is None:
        return
    person = (
        await Person.select(Person.role, Person.active, Person.area.code)
        .where(Person.id == assignee)
        .first()
    )
    if person is None or not person["active"]:
        raise Invalid("unknown_person", f"no active person {assignee}", assignee=assignee)
    if department or person["role"] == Role.department:
        await _check_officer(assignee, person, owner_code, department)
        return
    grids = [
        g["grid.code"]
        for g in await GridPost.select(GridPost.grid.code).where(GridPost.person == assignee)
    ]
    scopes = {owner_code, *dispatcher.grid_codes}
    if dispatcher.area_code is not None:
        scopes.add(dispatcher.area_code)
    if not any(reaches(person["role"], scope, grids, person["area.code"]) for scope in scopes):
        raise Invalid(
            "invalid_assignee",
            f"person {assignee} ({person['role']}) works neither where {owner_code} is nor"
            " where you do",
            assignee=assignee,
        )


async def _check_officer(
    assignee: int, person: dict, owner_code: str, department: str | None
) -> None:
    works_for = await department_of(assignee) if person["role"] == Role.department else None
    if works_for is None or works_for != department:
        raise Invalid(
            "invalid_assignee",
            f"person {assignee} is not staff of department {department!r}",
            assignee=assignee,
        )
    area = person["area.code"]
    if area is not None and not code_within(owner_code, area):
        raise Invalid(
            "invalid_assignee",
            f"person {assignee} serves {area}, not {owner_code}",
            assignee=assignee,
        )


async def default_assignee(owner_code: str, post: str | None) -> int | None:
    """Who takes a grid's case when the dispatcher names nobody: the holder of ``post`` (the
    category's, e.g. police for 治安) in that grid; None above the grid or when it is empty."""
    if post is None or level_of_code(owner_code) is not Level.grid:
        return None
    row = (
        await GridPost.select(GridPost.person)
        .where(
            (GridPost.grid.code == owner_code)
            & (GridPost.post == post)
            & (GridPost.person.active == True)  # noqa: E712 (SQL): an inactive holder is none
        )
        .order_by(GridPost.id)
        .first()
    )
    return None if row is None else row["person"]
