"""People as their centres manage them: find, read, add, change, take off duty and back, and
give a new one-time password. Who may is backend/people/access.py's; every change appends a
``person.*`` event in its own transaction, scoped to the person's area.

A one-time password is chosen by the server, stored as its hash and shown once, in the answer
that made it; its holder must change it before the API answers them anything else
(``must_change_password``, backend/auth/principal.py). A deactivation voids every token of the
person at once (backend/auth/revocation.py) and leaves their grid posts vacant in staffing.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import msgspec
from anyio import to_thread
from piccolo.custom_types import Combinable

from backend.areas.schemas import AreaRef
from backend.areas.tables import Area
from backend.auth.service import forget, hash_password, raise_generations
from backend.cases.tables import Department, DepartmentMember
from backend.core.areas import scope_prefix
from backend.core.db import write_transaction
from backend.core.errors import Conflict, Forbidden, Invalid, NotFound
from backend.core.events import EventType
from backend.core.phones import masked_phone
from backend.core.principal import Principal
from backend.core.roles import POST_HOLDERS, ROLE_LABELS, ROLE_RANK, Role
from backend.core.territory import Territory
from backend.events.service import NewEvent, append
from backend.grids.tables import POST_LABELS, GridPost
from backend.people.access import check_grant, check_manages, manager, manages
from backend.people.importer import new_password
from backend.people.schemas import (
    NewPerson,
    OneTimePassword,
    PeoplePage,
    PersonChange,
    PersonOut,
    PostHeld,
)
from backend.people.tables import Person

MAX_PAGE = 200
_COLUMNS = (
    Person.id,
    Person.name,
    Person.phone,
    Person.role,
    Person.active,
    Person.must_change_password,
    Person.area._.code.as_alias("area_code"),
    Person.area._.name.as_alias("area_name"),
    Person.area._.level.as_alias("area_level"),
)


async def _rows(where: Combinable, *, limit: int | None = None, offset: int = 0) -> list[dict]:
    query = Person.select(*_COLUMNS).where(where).order_by(Person.name).order_by(Person.id)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return await query


async def _out(rows: list[dict[str, Any]]) -> list[PersonOut]:
    """Rows of ``_COLUMNS`` with their posts and departments."""
    ids = [r["id"] for r in rows]
    posts: dict[int, list[PostHeld]] = defaultdict(list)
    departments: dict[int, str] = {}
    if ids:
        for p in (
            await GridPost.select(
                GridPost.person, GridPost.grid._.code, GridPost.grid._.name, GridPost.post
            )
            .where(GridPost.person.is_in(ids))
            .order_by(GridPost.grid._.code)
        ):
            held = PostHeld(p["grid.code"], p["grid.name"], p["post"], POST_LABELS[p["post"]])
            posts[p["person"]].append(held)
        for d in await DepartmentMember.select(
            DepartmentMember.person, DepartmentMember.department._.code
        ).where(DepartmentMember.person.is_in(ids)):
            departments[d["person"]] = d["department.code"]
    return [
        PersonOut(
            id=r["id"],
            name=r["name"],
            phone=masked_phone(r["phone"]) if r["role"] == Role.resident else r["phone"],
            role=r["role"],
            role_label=ROLE_LABELS.get(r["role"], r["role"]),
            area=AreaRef(r["area_code"], r["area_name"], r["area_level"])
            if r["area_code"]
            else None,
            active=r["active"],
            must_change_password=r["must_change_password"],
            department=departments.get(r["id"]),
            posts=posts[r["id"]],
        )
        for r in rows
    ]


def _clean(text: str) -> str:
    # LIKE's own wildcards are not part of any name or phone.
    return text.replace("%", "").replace("_", "").strip()


async def find(
    principal: Principal,
    *,
    q: str | None,
    area: str | None,
    role: str | None,
    post: str | None,
    active: bool | None,
    limit: int,
    offset: int,
) -> PeoplePage:
    """The people the asker manages, filtered, by name: one page and the total."""
    actor = manager(principal)
    if area is not None:
        await _area_id(area)
        if not actor.covers(area):
            raise Forbidden("outside_area", f"{area} is outside your area {actor.area_code}")
    roles = [r for r, rank in ROLE_RANK.items() if rank <= ROLE_RANK[actor.role]]
    if role is not None:
        if role not in ROLE_RANK:
            raise Invalid("unknown_role", f"no role {role!r}", roles=sorted(ROLE_RANK))
        roles = [r for r in roles if r == role]
    where: Combinable = Person.role.is_in(roles or [""])
    inside: Combinable = Person.area._.code.like(f"{scope_prefix(area or actor.area_code or '')}%")
    if area is None and actor.role == Role.city_admin:
        inside |= Person.area.is_null()  # nobody's area: the city's
    where &= inside
    if active is not None:
        where &= Person.active == active
    text = _clean(q or "")
    if text:
        where &= Person.name.like(f"%{text}%") | Person.phone.like(f"%{text}%")
    if post is not None:
        if post not in POST_LABELS:
            raise Invalid("unknown_post", f"no post {post!r}", posts=list(POST_LABELS))
        where &= Person.id.is_in(GridPost.select(GridPost.person).where(GridPost.post == post))
    limit = min(limit, MAX_PAGE)
    total = await Person.count().where(where)
    rows = await _rows(where, limit=limit, offset=offset)
    return PeoplePage(await _out(rows), total, limit, offset)


async def _person(person_id: int) -> dict[str, Any]:
    rows = await _rows(Person.id == person_id)
    if not rows:
        raise NotFound("person", person_id)
    return rows[0]


async def read(principal: Principal, person_id: int) -> PersonOut:
    """One person the asker manages; 404 for anyone else, whether they exist or not."""
    actor = manager(principal)
    row = await _person(person_id)
    if not manages(actor, row["role"], row["area_code"]):
        raise NotFound("person", person_id)
    return (await _out([row]))[0]


async def _managed(actor: Territory, person_id: int) -> dict[str, Any]:
    """The person to act on: 404 if there is none, 403 if not the actor's to manage."""
    row = await _person(person_id)
    check_manages(actor, person_id, row["role"], row["area_code"])
    return row


async def _area_id(code: str) -> int:
    row = await Area.select(Area.id).where(Area.code == code).first()
    if row is None:
        raise Invalid("unknown_area", f"no area {code!r}")
    return row["id"]


async def _department_id(code: str | None) -> int | None:
    if code is None:
        return None
    row = await Department.select(Department.id).where(Department.code == code).first()
    if row is None:
        raise Invalid("unknown_department", f"no department {code!r}")
    return row["id"]


async def _phone_free(phone: str, person_id: int | None = None) -> None:
    taken = await Person.select(Person.id).where(Person.phone == phone).first()
    if taken is not None and taken["id"] != person_id:
        raise Conflict("phone_taken", f"{masked_phone(phone)} is someone's sign-in already")


def _event(
    kind: EventType,
    person: int,
    scope: str | None,
    actor: int,
    payload: dict[str, Any] | None = None,
) -> NewEvent:
    """A ``person.*`` event, scoped to the person's area: the centres above it hear of it."""
    return NewEvent(
        kind, f"person:{person}", scope or "", {"person": person, **(payload or {})}, actor
    )


async def create(principal: Principal, data: NewPerson) -> OneTimePassword:
    """A new member of staff with a one-time password, shown in this answer only."""
    actor = manager(principal)
    area = check_grant(actor, data.role, data.area, data.department)
    area_id = await _area_id(area)
    department_id = await _department_id(data.department)
    password = new_password()
    hashed = await to_thread.run_sync(hash_password, password)
    async with write_transaction(Person._meta.db):
        await _phone_free(data.phone)
        person = Person(
            name=data.name.strip(),
            phone=data.phone,
            role=data.role,
            area=area_id,
            password_hash=hashed,
            active=True,
            must_change_password=True,
        )
        await person.save()
        if department_id is not None:
            await DepartmentMember.insert(
                DepartmentMember(person=person.id, department=department_id)
            )
        summary = {"name": person.name, "role": data.role, "area": area}
        if data.department is not None:
            summary["department"] = data.department
        await append([_event(EventType.person_created, person.id, area, principal.id, summary)])
    return OneTimePassword(await read(principal, person.id), password)


async def update(principal: Principal, person_id: int, data: PersonChange) -> PersonOut:
    """Change a person's name, phone, role, area or department; only what ``data`` names."""
    actor = manager(principal)
    async with write_transaction(Person._meta.db):
        row = await _managed(actor, person_id)
        department = (
            await DepartmentMember.select(DepartmentMember.department._.code)
            .where(DepartmentMember.person == person_id)
            .first()
        )
        before = {
            "name": row["name"],
            "phone": row["phone"],
            "role": row["role"],
            "area": row["area_code"],
            "department": department["department.code"] if department else None,
        }
        asked = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        after = before | asked
        changed = {k: v for k, v in after.items() if before[k] != v}
        if not changed:
            return (await _out([row]))[0]
        if {"role", "area", "department"} & changed.keys():
            check_grant(actor, after["role"], after["area"], after["department"])
            await _posts_fit(person_id, after["role"], after["area"])
        values: dict[Any, Any] = {}
        if "name" in changed:
            values[Person.name] = after["name"].strip()
        if "phone" in changed:
            await _phone_free(after["phone"], person_id)
            values[Person.phone] = after["phone"]
        if "role" in changed:
            values[Person.role] = after["role"]
        if "area" in changed:
            values[Person.area] = await _area_id(after["area"])
        if "department" in changed:
            department_id = await _department_id(after["department"])
            await DepartmentMember.delete().where(DepartmentMember.person == person_id)
            if department_id is not None:
                await DepartmentMember.insert(
                    DepartmentMember(person=person_id, department=department_id)
                )
        if values:
            await Person.update(values).where(Person.id == person_id)
        if "phone" in changed:
            changed["phone"] = masked_phone(changed["phone"])  # the log is read by many
        await append(
            [
                _event(
                    EventType.person_updated,
                    person_id,
                    after["area"],
                    principal.id,
                    {"changed": changed},
                )
            ]
        )
    return (await _out([await _person(person_id)]))[0]


async def _posts_fit(person_id: int, role: str, area: str | None) -> None:
    """409 when the person holds a post their new role or area would not let them hold."""
    for p in await GridPost.select(GridPost.grid._.code, GridPost.post).where(
        GridPost.person == person_id
    ):
        code, post = p["grid.code"], p["post"]
        if (
            role not in POST_HOLDERS.get(post, ())
            or area is None
            or not code.startswith(scope_prefix(area))
        ):
            raise Conflict(
                "holds_posts",
                f"first vacate their post {POST_LABELS[post]} in grid {code}",
                grid=code,
                post=post,
            )


async def set_active(principal: Principal, person_id: int, active: bool) -> PersonOut:
    """Take a person off duty (every token void at once, their posts vacant in staffing) or
    back on; asking again for what already holds changes nothing."""
    actor = manager(principal)
    async with write_transaction(Person._meta.db):
        row = await _managed(actor, person_id)
        if row["active"] != active:
            await Person.update({Person.active: active}).where(Person.id == person_id)
            kind = EventType.person_reactivated if active else EventType.person_deactivated
            await append([_event(kind, person_id, row["area_code"], principal.id)])
            if not active:
                await raise_generations([person_id], "deactivated", actor=principal.id)
    if not active:
        forget([person_id])
    return (await _out([await _person(person_id)]))[0]


async def reset_password(principal: Principal, person_id: int) -> OneTimePassword:
    """A new one-time password for the person, shown once; their tokens are void."""
    actor = manager(principal)
    await _managed(actor, person_id)  # before hashing: a refusal costs no Argon2id
    password = new_password()
    hashed = await to_thread.run_sync(hash_password, password)
    async with write_transaction(Person._meta.db):
        row = await _managed(actor, person_id)
        await Person.update(
            {Person.password_hash: hashed, Person.must_change_password: True}
        ).where(Person.id == person_id)
        await append(
            [
                _event(
                    EventType.person_password_reset,
                    person_id,
                    row["area_code"],
                    principal.id,
                )
            ]
        )
        await raise_generations([person_id], "password", actor=principal.id)
    forget([person_id])
    return OneTimePassword((await _out([await _person(person_id)]))[0], password)
