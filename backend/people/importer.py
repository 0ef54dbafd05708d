"""A staff roster into the person table: check, compare by phone, write all or nothing.

People are matched by phone. A re-import sets what the file says of each person it lists
(name, role, area, in post or not, grid posts, department) and leaves everyone else alone;
new people get a random initial password, stored only as its hash, handed back in plain
once so that the city can give it to them, and to be changed at their first sign-in. A
changed role takes effect within ``backend.auth.principal.FRESH_S``, like any change to a
person; a deactivation (在岗 否) revokes every token of the person at once
(backend/auth/revocation.py), and their open live sockets are closed by each server process
as it reads the revocation from the event log.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from anyio import to_thread

from backend.areas.tables import Area
from backend.auth.service import forget, hash_password, raise_generations
from backend.cases.tables import Department, DepartmentMember
from backend.core.db import lock_imports, write_transaction
from backend.grids.tables import POST_LABELS, Grid, GridPost
from backend.people.checks import SINGLE_POSTS, Reference, RowProblem, Staff, check_roster
from backend.people.roster import Roster
from backend.people.tables import Person

PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"  # no 0/O, 1/l/I
PASSWORD_LENGTH = 12
_CHUNK = 500  # phones or ids per IN (...): SQLite bounds a statement's parameters


@dataclass(frozen=True)
class NewAccount:
    name: str
    phone: str
    password: str


@dataclass
class PeopleImport:
    rows: int
    columns: dict[str, str]
    problems: list[RowProblem]
    added: list[Staff] = field(default_factory=list)
    changed: list[Staff] = field(default_factory=list)
    unchanged: int = 0
    dry_run: bool = False
    applied: bool = False
    accounts: list[NewAccount] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "columns": self.columns,
            "people": len(self.added) + len(self.changed) + self.unchanged,
            "added": len(self.added),
            "changed": len(self.changed),
            "unchanged": self.unchanged,
            "dry_run": self.dry_run,
            "applied": self.applied,
            "problem_count": len(self.problems),
        }


def new_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def _hashed(phones: Iterable[str]) -> dict[str, tuple[str, str]]:
    """phone -> (password, its hash). Seconds for a city's staff: Argon2id is slow on purpose."""
    return {phone: (p, hash_password(p)) for phone in phones for p in [new_password()]}


async def import_people(
    roster: Roster,
    *,
    dry_run: bool = False,
    keep_accounts: Callable[[list[NewAccount]], None] | None = None,
) -> PeopleImport:
    """Check ``roster`` against the stored areas, grids, departments and posts, and write it
    all or nothing (nothing on a dry run or when there is any problem).

    ``keep_accounts`` receives the new people's passwords inside the transaction, before it
    commits: if it cannot keep them, it raises and nobody is added whom no one could tell.
    """
    planned = await _plan(roster, dry_run)
    if dry_run or planned.problems:
        return planned
    # Hashing takes tens of milliseconds a person: done before taking the write lock.
    prepared = await to_thread.run_sync(_hashed, [s.phone for s in planned.added])
    engine = Person._meta.db
    async with write_transaction(engine):
        await lock_imports(engine)
        result = await _plan(roster, dry_run)  # again under the lock: others may have written
        if result.problems:
            return result
        late = [s.phone for s in result.added if s.phone not in prepared]
        prepared |= await to_thread.run_sync(_hashed, late)
        hashes = {phone: hashed for phone, (_, hashed) in prepared.items()}
        deactivated = await _write(result, hashes)
        result.accounts = [NewAccount(s.name, s.phone, prepared[s.phone][0]) for s in result.added]
        if keep_accounts is not None and result.accounts:
            keep_accounts(result.accounts)
        result.applied = True
    forget(deactivated)
    return result


async def _plan(roster: Roster, dry_run: bool) -> PeopleImport:
    people, problems = check_roster(roster, await _reference())
    problems += await _taken_posts(people, roster.columns.get("post", "post"))
    problems.sort(key=lambda p: p.row)
    result = PeopleImport(len(roster.rows), roster.columns, problems, dry_run=dry_run)
    if problems:
        return result
    stored = await _stored(list(people))
    for phone, staff in people.items():
        before = stored.get(phone)
        if before is None:
            result.added.append(staff)
        elif before != _comparable(staff):
            result.changed.append(staff)
        else:
            result.unchanged += 1
    return result


def _comparable(staff: Staff) -> dict[str, Any]:
    return {
        "name": staff.name,
        "role": staff.role,
        "area": staff.area,
        "active": staff.active,
        "department": staff.department,
        "posts": set(staff.posts),
    }


async def _reference() -> Reference:
    areas = await Area.select(Area.id, Area.code, Area.level)
    grids = await Grid.select(Grid.id, Grid.code, Grid.community.code.as_alias("community"))
    departments: dict[str, int] = {}
    for d in await Department.select(
        Department.id, Department.code, Department.name, Department.full_name
    ):
        departments |= dict.fromkeys((d["full_name"], d["name"], d["code"]), d["id"])
    return Reference(
        {a["code"]: (a["id"], a["level"]) for a in areas},
        {g["code"]: (g["id"], g["community"]) for g in grids},
        departments,
    )


async def _taken_posts(people: dict[str, Staff], column: str) -> list[RowProblem]:
    """一格一长一警一专 across the file and the stored posts of people the file leaves alone."""
    # A holder taken off duty leaves the post vacant: the file may fill it.
    held = await GridPost.select(
        GridPost.grid, GridPost.post, GridPost.person.phone, GridPost.person.name
    ).where(
        GridPost.post.is_in(list(SINGLE_POSTS)) & (GridPost.person.active == True)  # noqa: E712 (SQL)
    )
    others = {
        (h["grid"], h["post"]): h for h in held if h["person.phone"] not in people
    }  # the file's own people give up or keep their posts as it says
    problems = []
    for staff in people.values():
        for key, (code, line) in staff.posts.items():
            holder = others.get(key)
            if holder is not None:
                problems.append(
                    RowProblem(
                        line,
                        column,
                        POST_LABELS[key[1]],
                        f"grid {code} already has one: {holder['person.name']} "
                        f"({holder['person.phone']}), not in this file",
                    )
                )
    return problems


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


async def _stored(phones: list[str]) -> dict[str, dict[str, Any]]:
    """The stored people among ``phones``, in the shape of ``_comparable`` plus their id."""
    found: dict[str, dict[str, Any]] = {}
    for part in _chunks(phones):
        for p in await Person.select(
            Person.id, Person.phone, Person.name, Person.role, Person.area, Person.active
        ).where(Person.phone.is_in(part)):
            phone = p.pop("phone")
            found[phone] = p | {"department": None, "posts": set()}
    by_id = {p["id"]: p for p in found.values()}
    for part in _chunks(list(by_id)):
        for g in await GridPost.select(GridPost.person, GridPost.grid, GridPost.post).where(
            GridPost.person.is_in(part)
        ):
            by_id[g["person"]]["posts"].add((g["grid"], g["post"]))
        for d in await DepartmentMember.select(
            DepartmentMember.person, DepartmentMember.department
        ).where(DepartmentMember.person.is_in(part)):
            by_id[d["person"]]["department"] = d["department"]
    # Compared without the id; kept aside for the writer.
    return {phone: {k: v for k, v in p.items() if k != "id"} for phone, p in found.items()}


async def _ids(phones: list[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for part in _chunks(phones):
        rows = await Person.select(Person.id, Person.phone).where(Person.phone.is_in(part))
        ids |= {r["phone"]: r["id"] for r in rows}
    return ids


async def _write(result: PeopleImport, hashes: dict[str, str]) -> list[int]:
    """Write the import; the ids of the people it took off duty, whose tokens it revoked."""
    for part in _chunks(result.added):
        await Person.insert(
            *(
                Person(
                    name=s.name,
                    phone=s.phone,
                    role=s.role,
                    area=s.area,
                    active=s.active,
                    password_hash=hashes[s.phone],
                    must_change_password=True,
                )
                for s in part
            )
        )
    touched = result.added + result.changed
    ids = await _ids([s.phone for s in touched])
    stored = await _stored([s.phone for s in result.changed])
    for staff in result.changed:
        await Person.update(
            {
                Person.name: staff.name,
                Person.role: staff.role,
                Person.area: staff.area,
                Person.active: staff.active,
            }
        ).where(Person.id == ids[staff.phone])
    for staff in touched:
        before = stored.get(staff.phone, {"posts": set(), "department": None})
        await _set_posts(ids[staff.phone], before["posts"], set(staff.posts))
        if before["department"] != staff.department:
            await DepartmentMember.delete().where(DepartmentMember.person == ids[staff.phone])
            if staff.department is not None:
                await DepartmentMember.insert(
                    DepartmentMember(person=ids[staff.phone], department=staff.department)
                )
    deactivated = [
        ids[s.phone] for s in result.changed if stored[s.phone]["active"] and not s.active
    ]
    if deactivated:
        await raise_generations(deactivated, "deactivated")  # last: it appends events
    return deactivated


async def _set_posts(
    person: int, before: set[tuple[int, str]], after: set[tuple[int, str]]
) -> None:
    for grid, post in before - after:
        await GridPost.delete().where(
            (GridPost.person == person) & (GridPost.grid == grid) & (GridPost.post == post)
        )
    for grid, post in after - before:
        if post in SINGLE_POSTS:
            # Whoever else holds it is off duty (an active holder is a problem of the plan).
            await GridPost.delete().where(
                (GridPost.grid == grid) & (GridPost.post == post) & (GridPost.person != person)
            )
    if after - before:
        await GridPost.insert(
            *(GridPost(grid=grid, person=person, post=post) for grid, post in after - before)
        )
