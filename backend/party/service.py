"""What other features read of the party's: community workers' grades (三岗十八级) and the
stars of party branches (比武争星), for the grid and person pages that show them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from backend.party.rules import GRADE_POST_LABELS, check_period
from backend.party.schemas import GradeRef, StarOut
from backend.party.scope import prefix_of
from backend.party.tables import BranchStar, WorkerGrade


async def grades_of(person_ids: Iterable[int]) -> dict[int, GradeRef]:
    """The grades of these people, for the pages that show them."""
    ids = list(person_ids) or [0]
    rows = await WorkerGrade.select(WorkerGrade.person, WorkerGrade.post, WorkerGrade.grade).where(
        WorkerGrade.person.is_in(ids)
    )
    return {
        r["person"]: GradeRef(r["post"], GRADE_POST_LABELS[r["post"]], r["grade"]) for r in rows
    }


def _star_out(r: dict[str, Any]) -> StarOut:
    return StarOut(
        r["area_code"], r["period"], r["stars"], r["title"], r["set_by"], r["set_at"].isoformat()
    )


async def stars_in(area: str, period: str | None, exact: bool = False) -> list[StarOut]:
    """Stars of the branches in ``area`` (or of ``area`` itself when ``exact``), newest
    period first."""
    where = (
        BranchStar.area_code == area if exact else BranchStar.area_code.like(f"{prefix_of(area)}%")
    )
    query = BranchStar.select().where(where)
    if period is not None:
        query = query.where(BranchStar.period == check_period(period))
    rows = await query.order_by(BranchStar.period, ascending=False).order_by(BranchStar.area_code)
    return [_star_out(r) for r in rows]
