"""Grades the city reads people and party branches by: 三岗十八级 and branch stars."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from backend.areas.tables import Area
from backend.core.db import write_transaction
from backend.core.errors import Invalid, NotFound
from backend.core.events import EventType
from backend.core.principal import Principal
from backend.core.roles import AREA_ROLES, COMMUNITY_WORKERS, GRADERS
from backend.events.service import NewEvent, append
from backend.grids.tables import Grid
from backend.party.rules import GRADE_POST_LABELS, check_grade, check_period
from backend.party.schemas import GradeIn, GradeOut, StarIn, StarOut
from backend.party.scope import prefix_of, require_within, staff_area
from backend.party.service import stars_in
from backend.party.tables import BranchStar, WorkerGrade
from backend.people.tables import Person

_GRADE_COLUMNS = (
    WorkerGrade.person.id.as_alias("person_id"),
    WorkerGrade.person.name.as_alias("name"),
    WorkerGrade.person.role.as_alias("role"),
    WorkerGrade.person._.area._.code.as_alias("area_code"),
    WorkerGrade.post,
    WorkerGrade.grade,
    WorkerGrade.set_by,
    WorkerGrade.set_at,
)


def _grade_out(r: dict[str, Any]) -> GradeOut:
    return GradeOut(
        person_id=r["person_id"],
        name=r["name"],
        role=r["role"],
        area_code=r["area_code"],
        post=r["post"],
        post_label=GRADE_POST_LABELS[r["post"]],
        grade=r["grade"],
        set_by=r["set_by"],
        set_at=r["set_at"].isoformat(),
    )


async def set_grade(principal: Principal, person_id: int, data: GradeIn) -> GradeOut:
    """A street, district or city admin sets a community worker's post and grade."""
    own = staff_area(principal, GRADERS)
    person = (
        await Person.select(Person.role, Person.area.code.as_alias("area_code"))
        .where(Person.id == person_id)
        .first()
    )
    if person is None:
        raise NotFound("person", person_id)
    if person["role"] not in COMMUNITY_WORKERS:
        raise Invalid(
            "not_a_community_worker",
            f"a {person['role']} is not graded as a community worker",
            graded_roles=sorted(COMMUNITY_WORKERS),
        )
    require_within(person["area_code"] or "", own)
    check_grade(data.post, data.grade)
    values: dict[str, Any] = {"post": data.post, "grade": data.grade, "set_by": principal.id}
    values["set_at"] = datetime.now(UTC)
    async with write_transaction(WorkerGrade._meta.db):
        changed = (
            await WorkerGrade.update(**values)
            .where(WorkerGrade.person == person_id)
            .returning(WorkerGrade.id)
        )
        if not changed:
            await WorkerGrade.insert(WorkerGrade(person=person_id, **values))
        payload = {"person": person_id, "post": data.post, "grade": data.grade}
        scope = person["area_code"] or ""
        await append(
            [
                NewEvent(
                    EventType.party_grade_set, f"person:{person_id}", scope, payload, principal.id
                )
            ]
        )
    row = await WorkerGrade.select(*_GRADE_COLUMNS).where(WorkerGrade.person == person_id).first()
    if row is None:  # the person was removed since, taking their grade with them
        raise NotFound("person", person_id)
    return _grade_out(row)


async def grades_in(principal: Principal, area: str | None) -> list[GradeOut]:
    """Graded workers whose area lies in ``area`` (the asker's own by default)."""
    own = staff_area(principal, AREA_ROLES)
    area = area or own
    require_within(area, own)
    rows = (
        await WorkerGrade.select(*_GRADE_COLUMNS)
        .where(WorkerGrade.person._.area._.code.like(f"{prefix_of(area)}%"))
        .order_by(WorkerGrade.person._.area._.code)
        .order_by(WorkerGrade.person)
    )
    return [_grade_out(r) for r in rows]


async def _known_code(code: str) -> None:
    if await Grid.exists().where(Grid.code == code):
        return
    if await Area.exists().where(Area.code == code):
        return
    raise NotFound("grid or area", code)


async def set_stars(principal: Principal, code: str, period: str, data: StarIn) -> StarOut:
    """The stars a branch won in a period's contest; setting them again replaces them."""
    own = staff_area(principal, GRADERS)
    check_period(period)
    await _known_code(code)
    require_within(code, own)
    title = data.title.strip()
    values: dict[str, Any] = {"stars": data.stars, "title": title, "set_by": principal.id}
    values["set_at"] = datetime.now(UTC)
    async with write_transaction(BranchStar._meta.db):
        changed = (
            await BranchStar.update(**values)
            .where((BranchStar.area_code == code) & (BranchStar.period == period))
            .returning(BranchStar.id)
        )
        if not changed:
            await BranchStar.insert(BranchStar(area_code=code, period=period, **values))
        payload = {"area_code": code, "period": period, "stars": data.stars, "title": title}
        await append(
            [NewEvent(EventType.party_stars_set, f"branch:{code}", code, payload, principal.id)]
        )
    return (await stars_in(code, period, exact=True))[0]
