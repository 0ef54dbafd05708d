from __future__ import annotations

from backend.areas.schemas import AreaRef
from backend.core.errors import NotFound
from backend.core.roles import ROLE_LABELS
from backend.grids.tables import POST_LABELS, GridPost
from backend.party.service import grades_of
from backend.people.schemas import Me, PostHeld
from backend.people.tables import Person


async def describe(person_id: int) -> Me:
    """A person as they see themselves: role, area and the grid posts they hold."""
    row = (
        await Person.select(
            Person.id,
            Person.name,
            Person.phone,
            Person.role,
            Person.area.code,
            Person.area.name,
            Person.area.level,
        )
        .where(Person.id == person_id)
        .first()
    )
    if row is None:
        raise NotFound("person", person_id)
    posts = (
        await GridPost.select(GridPost.grid.code, GridPost.grid.name, GridPost.post)
        .where(GridPost.person == person_id)
        .order_by(GridPost.grid.code)
    )
    area = (
        AreaRef(row["area.code"], row["area.name"], row["area.level"]) if row["area.code"] else None
    )
    role: str = row["role"]
    return Me(
        id=row["id"],
        name=row["name"],
        phone=row["phone"],
        role=role,
        role_label=ROLE_LABELS.get(role, role),
        area=area,
        posts=[
            PostHeld(p["grid.code"], p["grid.name"], p["post"], POST_LABELS[p["post"]])
            for p in posts
        ],
        grade=(await grades_of([person_id])).get(person_id),
    )
