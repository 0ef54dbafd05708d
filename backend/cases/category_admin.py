"""The category tree as the city admin changes it: add, rename, move, set the limits, the
default post and department, retire.

A category is never deleted: cases keep its code for ever, and their pages and the assessment
show its name. A retired one takes no new case (intake answers 422 ``retired_category``) and
is still listed, marked, so old cases show it. Every change is a ``category.changed`` event
(the audit); each process forgets its copy of the table when its live hub reads the event.

Groups (big classes, 大类) have no parent and no limits; leaves (small classes, 小类) lie in a
group and have, for each priority, the hours to accept and to close at least.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import msgspec

from backend.cases.categories import PRIORITIES, STAGES, forget_categories
from backend.cases.departments import check_department
from backend.cases.schemas import CategoryIn, CategoryOut, CategoryPatch, LimitOut
from backend.cases.tables import Category
from backend.core.db import write_transaction
from backend.core.errors import Conflict, Invalid, NotFound
from backend.core.events import EventType
from backend.core.principal import Principal, require_role
from backend.core.roles import Role
from backend.events.service import NewEvent, append
from backend.grids.tables import Post

# Each stage's column of hours by priority.
_COLUMNS = {
    "accept": "accept_hours",
    "dispatch": "dispatch_hours",
    "handle": "handle_hours",
    "verify": "verify_hours",
    "close": "limits",
}
_REQUIRED_STAGES = ("accept", "close")  # the workflow's two clocks
_POSTS = frozenset(p.value for p in Post)
MAX_HOURS = 24 * 365


def category_out(row: dict[str, Any]) -> CategoryOut:
    """A row as the API shows it: each limit with its hours and whether they are on the clock."""
    on_clock = json.loads(row["calendar_hours"])
    limits = {
        stage: {
            p: LimitOut(h, p in on_clock.get(stage, ())) for p, h in json.loads(row[column]).items()
        }
        for stage, column in _COLUMNS.items()
    }
    return CategoryOut(
        code=row["code"],
        name=row["name"],
        parent=row["parent"],
        post=row["post"],
        department=row["department"],
        retired=bool(row["retired"]),
        limits_hours=json.loads(row["limits"]),
        limits={stage: table for stage, table in limits.items() if table},
    )


async def all_categories() -> list[CategoryOut]:
    return [category_out(r) for r in await Category.select().order_by(Category.code)]


async def _row(code: str) -> dict[str, Any]:
    row = await Category.select().where(Category.code == code).first()
    if row is None:
        raise NotFound("category", code)
    return row


async def _check_parent(parent: str | None, code: str) -> None:
    if parent is None:
        return
    row = await Category.select().where(Category.code == parent).first()
    if row is None or row["parent"] is not None or parent == code:
        raise Invalid("invalid_parent", f"{parent!r} is not a group to put {code!r} in")
    if row["retired"]:
        raise Invalid("invalid_parent", f"group {parent!r} is retired", field="parent")


async def _check_routing(post: str | None, department: str | None) -> None:
    if post is not None and post not in _POSTS:
        raise Invalid("unknown_post", f"no grid post {post!r}", field="post")
    if department is not None:
        await check_department(department)


def _limit_columns(limits: dict[str, dict[str, Any]], row: dict[str, Any] | None) -> dict[str, str]:
    """The columns ``limits`` sets ({stage: {priority: {hours, calendar}}}), over ``row``'s:
    the priorities a stage gives replace that stage's, the others are kept."""
    on_clock = {} if row is None else json.loads(row["calendar_hours"])
    columns: dict[str, str] = {}
    for stage, table in limits.items():
        if stage not in _COLUMNS:
            raise Invalid("invalid_limits", f"no stage {stage!r}: one of {STAGES}", field=stage)
        hours = {} if row is None else json.loads(row[_COLUMNS[stage]])
        clock = set(on_clock.get(stage, ()))
        for priority, limit in table.items():
            if priority not in PRIORITIES:
                raise Invalid("invalid_limits", f"no priority {priority!r}", field=stage)
            if not 0 < limit.hours <= MAX_HOURS:
                raise Invalid(
                    "invalid_limits", f"{stage} {priority}: hours in (0, {MAX_HOURS}]", field=stage
                )
            hours[priority] = limit.hours
            (clock.add if limit.calendar else clock.discard)(priority)
        columns[_COLUMNS[stage]] = json.dumps(hours)
        on_clock[stage] = sorted(clock)
    columns["calendar_hours"] = json.dumps({s: p for s, p in on_clock.items() if p})
    return columns


def _check_leaf(columns: dict[str, str], code: str) -> None:
    for stage in _REQUIRED_STAGES:
        given = json.loads(columns.get(_COLUMNS[stage], "{}"))
        if set(given) != set(PRIORITIES):
            raise Invalid(
                "invalid_limits",
                f"{code}: a category in a group needs its {stage} hours for {PRIORITIES}",
                field=stage,
            )


def _event(code: str, change: str, fields: dict[str, Any], actor: int) -> NewEvent:
    payload = {"code": code, "change": change, **fields}
    return NewEvent(EventType.category_changed, f"category:{code}", "", payload, actor)


async def add(body: CategoryIn, principal: Principal) -> CategoryOut:
    """A new group (no parent, no limits) or a new leaf in a group, with its limits."""
    require_role(principal, Role.city_admin)
    async with write_transaction(Category._meta.db):
        if await Category.exists().where(Category.code == body.code):
            raise Conflict("code_taken", f"category {body.code!r} exists already")
        await _check_parent(body.parent, body.code)
        await _check_routing(body.post, body.department)
        columns = _limit_columns(body.limits or {}, None)
        if body.parent is None and body.limits:
            raise Invalid("invalid_limits", "a group has no limits: its categories do")
        if body.parent is not None:
            _check_leaf(columns, body.code)
        row: dict[str, Any] = {
            "code": body.code,
            "name": body.name.strip(),
            "parent": body.parent,
            "post": body.post,
            "department": body.department,
            **columns,
        }
        await Category.insert(Category(**row))
        await append([_event(body.code, "created", {"name": row["name"]}, principal.id)])
    forget_categories()
    return category_out(await _row(body.code))


async def change(code: str, body: CategoryPatch, principal: Principal) -> CategoryOut:
    """Rename, move to another group, set limits, default post or department."""
    require_role(principal, Role.city_admin)
    async with write_transaction(Category._meta.db):
        row = await _row(code)
        sent = {
            f: getattr(body, f)
            for f in body.__struct_fields__
            if getattr(body, f) is not msgspec.UNSET
        }
        values: dict[str, Any] = {}
        if "name" in sent:
            values["name"] = sent["name"].strip()
        if "parent" in sent:
            if (row["parent"] is None) != (sent["parent"] is None):
                raise Invalid("invalid_parent", "a group stays a group, a category in one stays")
            await _check_parent(sent["parent"], code)
            values["parent"] = sent["parent"]
        if "post" in sent or "department" in sent:
            await _check_routing(sent.get("post"), sent.get("department"))
            values.update({f: sent[f] for f in ("post", "department") if f in sent})
        if sent.get("limits"):
            if row["parent"] is None:
                raise Invalid("invalid_limits", "a group has no limits: its categories do")
            columns = _limit_columns(sent["limits"], row)
            _check_leaf({**{c: row[c] for c in _COLUMNS.values()}, **columns}, code)
            values.update(columns)
        if values:
            await Category.update(**values).where(Category.code == code)
            audit = {
                k: v for k, v in values.items() if k in ("name", "parent", "post", "department")
            }
            if sent.get("limits"):
                audit["limits"] = True
            await append([_event(code, "updated", audit, principal.id)])
    forget_categories()
    return category_out(await _row(code))


async def retire(code: str, principal: Principal) -> CategoryOut:
    """Take the category (a group: with its categories) out of use for new cases."""
    require_role(principal, Role.city_admin)
    async with write_transaction(Category._meta.db):
        row = await _row(code)
        if not row["retired"]:
            await Category.update({Category.retired: True}).where(
                (Category.code == code) | (Category.parent == code)
            )
            await append(
                [_event(code, "retired", {"at": datetime.now(UTC).isoformat()}, principal.id)]
            )
    forget_categories()
    return category_out(await _row(code))
