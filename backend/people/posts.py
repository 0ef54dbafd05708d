"""Who holds a grid's posts (一格一长一警一专多兼): a centre puts a person on a post or takes
them off it. Moving a worker between grids is the one and then the other.

The grid must lie in the asker's area and the person be theirs to manage (backend/people/
access.py), active, of a role that may hold the post (``POST_HOLDERS``) and working for an area
the grid lies in. The leader's, the police officer's and the full-time worker's posts have one
holder: putting someone on one takes it from whoever held it. Each change appends a
``person.post_assigned`` or ``person.post_vacated`` event, scoped to the grid.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from backend.core.areas import code_within
from backend.core.db import write_transaction
from backend.core.errors import Conflict, Forbidden, Invalid, NotFound
from backend.core.events import EventType
from backend.core.principal import Principal
from backend.core.roles import POST_HOLDERS, ROLE_LABELS
from backend.core.territory import Territory
from backend.events.service import NewEvent, append
from backend.grids.schemas import GridPage
from backend.grids.service import grid_page
from backend.grids.tables import POST_LABELS, Grid, GridPost
from backend.people.access import check_manages, manager
from backend.people.checks import SINGLE_POSTS
from backend.people.tables import Person


async def _grid(actor: Territory, code: str, post: str) -> int:
    if post not in POST_LABELS:
        raise Invalid("unknown_post", f"no post {post!r}", posts=list(POST_LABELS))
    row = await Grid.select(Grid.id).where(Grid.code == code).first()
    if row is None:
        raise NotFound("grid", code)
    if not actor.covers(code):
        raise Forbidden("outside_area", f"grid {code} is outside your area {actor.area_code}")
    return row["id"]


def _event(kind: EventType, person: int, code: str, post: str, actor: int) -> NewEvent:
    payload = {"person": person, "grid": code, "post": post}
    return NewEvent(kind, f"person:{person}", code, payload, actor)


async def _holder(actor: Territory, person_id: int, code: str, post: str) -> dict[str, Any]:
    row = (
        await Person.select(
            Person.id, Person.role, Person.active, Person.area._.code.as_alias("area_code")
        )
        .where(Person.id == person_id)
        .first()
    )
    if row is None:
        raise Invalid("unknown_person", f"no person {person_id}")
    check_manages(actor, person_id, row["role"], row["area_code"])
    if not row["active"]:
        raise Conflict("inactive_person", "this person is off duty: reactivate them first")
    if row["role"] not in POST_HOLDERS.get(post, ()):
        raise Invalid(
            "post_role",
            f"a {ROLE_LABELS.get(row['role'], row['role'])} cannot be {POST_LABELS[post]}",
            roles=sorted(POST_HOLDERS.get(post, ())),
        )
    if row["area_code"] is None or not code_within(code, row["area_code"]):
        raise Invalid(
            "outside_person_area",
            f"grid {code} lies outside the area this person works for: change it first",
        )
    return row


async def assign(principal: Principal, code: str, post: str, person_id: int) -> GridPage:
    """Put ``person_id`` on ``post`` of grid ``code``; the grid's page after."""
    actor = manager(principal)
    grid_id = await _grid(actor, code, post)
    async with write_transaction(Grid._meta.db):
        await _holder(actor, person_id, code, post)
        held = await GridPost.select(GridPost.id, GridPost.person).where(
            (GridPost.grid == grid_id) & (GridPost.post == post)
        )
        if all(h["person"] != person_id for h in held):
            events = []
            if post in SINGLE_POSTS:
                await GridPost.delete().where(GridPost.id.is_in([h["id"] for h in held] or [0]))
                events += [
                    _event(EventType.person_post_vacated, h["person"], code, post, principal.id)
                    for h in held
                ]
            await GridPost.insert(
                GridPost(grid=grid_id, person=person_id, post=post, since=datetime.now(UTC))
            )
            events.append(
                _event(EventType.person_post_assigned, person_id, code, post, principal.id)
            )
            await append(events)
    return await grid_page(code, whole_phones=True)


async def vacate(principal: Principal, code: str, post: str, person_id: int | None) -> GridPage:
    """Take ``person_id`` (everybody, if None) off ``post`` of grid ``code``."""
    actor = manager(principal)
    grid_id = await _grid(actor, code, post)
    async with write_transaction(Grid._meta.db):
        where = (GridPost.grid == grid_id) & (GridPost.post == post)
        if person_id is not None:
            where &= GridPost.person == person_id
        held = await GridPost.select(
            GridPost.id,
            GridPost.person,
            GridPost.person._.role,
            GridPost.person._.area._.code.as_alias("area_code"),
        ).where(where)
        for h in held:
            check_manages(actor, h["person"], h["person.role"], h["area_code"])
        if held:
            await GridPost.delete().where(GridPost.id.is_in([h["id"] for h in held]))
            await append(
                [
                    _event(EventType.person_post_vacated, h["person"], code, post, principal.id)
                    for h in held
                ]
            )
    return await grid_page(code, whole_phones=True)
