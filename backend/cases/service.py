"""Cases: create (idempotent, routed to a grid), read, and move through the workflow.

Besides its own functions this module is what other features use of cases: the emergency
switch recomputes due times (``retime_area``), Open311 shows cases to other systems (statuses,
their labels, category and department names, the photos' folder) and hands requests in
(``submit_open311``), a party need is placed like a case
(``in_area``), the assessment groups cases by ``PRIORITIES``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec

from backend.cases.categories import PRIORITIES as PRIORITIES
from backend.cases.categories import calendar_for, limits_of
from backend.cases.categories import forget_categories as forget_categories
from backend.cases.departments import check_department
from backend.cases.departments import department_names as department_names
from backend.cases.intake import Draft, intake
from backend.cases.nearby import Similar, offered, similar_cases, support, supporter_counts
from backend.cases.placement import in_area as in_area
from backend.cases.policy import may, may_merge_into, shown_name
from backend.cases.public import STATUS_LABELS as STATUS_LABELS
from backend.cases.public import category_names as category_names
from backend.cases.records import case_out, columns_of, joined_list, split_list, state_of
from backend.cases.records import followers_of as followers_of
from backend.cases.retime import retime_area as retime_area
from backend.cases.schemas import CaseIn, CaseOut, Supported, SupportIn, TransitionIn
from backend.cases.states import (
    DEPARTMENT_LEVELS,
    OPEN,
    Action,
    Command,
    Kind,
    Source,
    Transition,
    WorkflowError,
)
from backend.cases.states import FINAL as FINAL
from backend.cases.states import Status as Status
from backend.cases.tables import Case
from backend.cases.targets import check_target, default_assignee
from backend.cases.timing import time_limit
from backend.cases.workflow import transition
from backend.core import clock
from backend.core.areas import Level, level_of_code
from backend.core.coords import wgs84_point
from backend.core.db import write_transaction
from backend.core.errors import ApiError, Conflict, Forbidden, Invalid, NotFound
from backend.core.events import EventType, case_event
from backend.core.principal import Principal
from backend.core.roles import ROLE_LABELS, Role
from backend.core.settings import Settings
from backend.core.territory import ANONYMOUS_ACTOR, Territory
from backend.core.worktime import WorkingCalendar
from backend.emergency.service import case_factor
from backend.events.service import NewEvent, append
from backend.events.tables import Event
from backend.grids.service import GridIndex, place_names
from backend.people.tables import Person

# Actions that start a new clock need the category's limit to close.
_CLOCKED = {Action.accept, Action.escalate, Action.reopen, Action.unshelve}
# The stage whose deadline an action starts: the assessment's on-time dispatch, handling and
# verification are counted against them (cases/actions.py sets them).
_NEXT_STAGE: Mapping[str, str] = {
    Action.accept: "dispatch",
    Action.dispatch: "handle",
    Action.handle: "verify",
    Action.self_handle: "verify",
}


def actor_of(principal: Principal) -> Territory:
    """The workflow's view of a signed-in person: their territory, read with the principal.
    403 for department staff whom no department lists (they act by department)."""
    actor = principal.territory
    if actor.role == Role.department and actor.department is None:
        raise Forbidden("no_department", "this account is not staff of any department")
    return actor


def _refused(exc: WorkflowError) -> ApiError:
    # The details may name the case's status: prefixed so they never collide with ours.
    details: dict[str, Any] = {
        f"case_{k}" if k == "status" else k: str(v) for k, v in exc.details.items()
    }
    return ApiError(exc.status, exc.code, exc.reason, **details)


# A signed-in report's door follows from what it is: a resident's (or a staff member's typed-in)
# request came by the app, an incident from patrol, a task from the level above.
_SOURCE_OF_KIND = {Kind.request: Source.app, Kind.incident: Source.patrol, Kind.task: Source.task}


async def create(data: CaseIn, principal: Principal, index: GridIndex) -> tuple[CaseOut, bool]:
    """The case, and whether it was made now (False: the same client id was sent before)."""
    actor = actor_of(principal)
    if principal.role == Role.resident and data.kind != "request":
        raise Forbidden("forbidden", "residents submit requests (诉求)")
    draft = Draft(
        client_id=data.client_id,
        kind=data.kind,
        category=data.category,
        description=data.description,
        lon=data.lon,
        lat=data.lat,
        crs=data.crs,
        address=data.address,
        contact_phone=data.contact_phone,
        priority=data.priority,
        reporter=principal.id,
        actor=actor,
        source=_SOURCE_OF_KIND[Kind(data.kind)],
    )
    done = await intake(draft, index)
    if not done.made:
        return _same_sender(done.row, principal, actor), False
    # The answer is what was written; the similar cases are read after the commit, off the
    # write lock.
    row = done.row
    case = case_out(row, actor)
    case.similar = await similar_cases(
        row["lon"], row["lat"], data.category, now=row["created_at"], exclude=row["id"]
    )
    return case, True


async def submit_open311(
    system: str,
    *,
    category: str,
    description: str,
    lon: float,
    lat: float,
    address: str,
    contact_phone: str | None,
    priority: str,
    index: GridIndex,
) -> dict[str, Any]:
    """A resident's request handed over by another city system through Open311 (a WGS 84
    point; ``system`` names it): submitted by no one signed in, as an anonymous report is.
    Returns the case as written."""
    draft = Draft(
        # The standard gives a POST no id of the client's: each one is a request of its own.
        client_id=uuid.uuid4(),
        kind=Kind.request,
        category=category,
        description=description,
        lon=lon,
        lat=lat,
        crs="wgs84",
        address=address,
        contact_phone=contact_phone,
        priority=priority,
        reporter=None,
        actor=ANONYMOUS_ACTOR,
        source=Source.open311,
        source_system=system,
    )
    return (await intake(draft, index)).row


def photos_folder(settings: Settings) -> Path:
    """Where case photos and their thumbnails are stored, each under its file id."""
    return settings.data_dir / "photos"


async def join(case_id: int, principal: Principal, where: SupportIn | None) -> Supported:
    """Say "me too" (附议) to an open case instead of reporting it again: one the person may
    read, or one ``nearby`` would offer them where they stand (404 otherwise, so that ids
    swept from afar tell nothing and write nothing)."""
    actor = actor_of(principal)
    point = None if where is None else wgs84_point(where.lon, where.lat, where.crs)
    async with write_transaction(Case._meta.db):
        row = await _row(case_id)
        if not (_visible(row, principal, actor) or (point and offered(row, *point))):
            raise NotFound("case", case_id)
        if row["status"] not in {str(s) for s in OPEN}:
            raise Conflict("case_not_open", f"case {case_id} is {row['status']}")
        if row["reporter"] == principal.id:
            raise Conflict("own_case", "you reported this case yourself")
        added = await support(case_id, row["owner_code"], principal.id)
    counts = await supporter_counts([case_id])
    return Supported(case_id, counts.get(case_id, 0), added)


async def nearby(lon: float, lat: float, crs: str, category: str) -> list[Similar]:
    x, y = wgs84_point(lon, lat, crs)
    return await similar_cases(x, y, category)


async def create_for_caller(
    *,
    client_id: UUID,
    category: str,
    description: str,
    lon: float,
    lat: float,
    crs: str,
    address: str,
    phone: str,
    priority: str,
    index: GridIndex,
    secret: str,
) -> tuple[str, dict[str, Any], bool]:
    """A 12345 caller's request, typed in at the hotline (source ``hotline``): made like an
    anonymous report (no reporter, ``phone`` the contact, followed by its tracking code). Its
    tracking code, the case row, and whether it was made now
    (False: the same client id was sent before, and this is its case and code)."""
    # Imported here: anonymous.py moves its cases through this module.
    from backend.cases import anonymous

    data = anonymous.AnonymousCaseIn(
        client_id=client_id,
        category=category,
        description=description,
        lon=lon,
        lat=lat,
        crs=crs,
        address=address,
        contact_phone=phone,
        priority=priority,  # type: ignore[arg-type]  # checked by the caller's own schema
    )
    tracked, made = await anonymous.create(data, index, secret, Source.hotline)
    return tracked.tracking_code, await _row(tracked.case.id), made


def _same_sender(row: dict[str, Any], principal: Principal, actor: Territory) -> CaseOut:
    if row["reporter"] != principal.id:
        raise Conflict("client_id_taken", "this client id belongs to another case")
    return case_out(row, actor)


_WORKFLOW_EVENTS = sorted(case_event(a) for a in Action)


async def _made_by(case_id: int, body: TransitionIn, actor: Territory) -> bool:
    """Whether the case's last workflow step was ``body``'s action by ``actor``: a send made
    from the version before it is then that step's repeat (one person does not mean the same
    action twice from one version), whatever its details."""
    last = (
        await Event.select(Event.type, Event.actor)
        .where((Event.subject == f"case:{case_id}") & Event.type.is_in(_WORKFLOW_EVENTS))
        .order_by(Event.id, ascending=False)
        .first()
    )
    return last == {"type": case_event(body.action), "actor": actor.person_id}


def _hours(hours: float | None) -> timedelta | None:
    try:
        return None if hours is None else timedelta(hours=hours)
    except (ValueError, OverflowError) as exc:  # OverflowError: 1e308 hours
        raise Invalid("invalid_value", str(exc), field="due_hours") from None


async def _fresh_photo(case_id: int, actor: Territory) -> str | None:
    """The newest photo ``actor`` added to the case since its last workflow step: the one an
    on-site verification was taken with (the phone sends the photo first, then the step)."""
    subject = f"case:{case_id}"
    last = (
        await Event.select(Event.id)
        .where((Event.subject == subject) & Event.type.is_in(_WORKFLOW_EVENTS))
        .order_by(Event.id, ascending=False)
        .first()
    )
    photo = (
        await Event.select(Event.payload)
        .where(
            (Event.subject == subject)
            & (Event.type == EventType.case_photo)
            & (Event.actor == actor.person_id)
            & (Event.id > (0 if last is None else last["id"]))
        )
        .order_by(Event.id, ascending=False)
        .first()
    )
    return None if photo is None else str(json.loads(photo["payload"])["photo"])


def _event(case_id: int, event: dict[str, Any], scope: str, actor: int | None) -> NewEvent:
    return NewEvent(case_event(event["type"]), f"case:{case_id}", scope, event, actor)


async def _row(case_id: int) -> dict[str, Any]:
    row = await Case.select().where(Case.id == case_id).first()
    if row is None:
        raise NotFound("case", case_id)
    return row


def _visible(row: dict[str, Any], principal: Principal, actor: Territory) -> bool:
    return (
        row["reporter"] == principal.id
        # Reporters of duplicates merged into it (并案) follow it as their own.
        or (principal.id is not None and principal.id in followers_of(row))
        or row["assignee"] == principal.id
        # A transfer's target reads what it is asked to take on.
        or (
            actor.role != Role.department
            and row["transfer_to"] is not None
            and actor.covers(row["transfer_to"])
        )
        # Joined departments (联办) as the lead one.
        or any(actor.serves(d, row["owner_code"]) for d in split_list(row["departments"]))
        # Department staff see by department, whatever area they serve.
        or (actor.role != Role.department and actor.covers(row["owner_code"]))
        # The grid where it happened (and the areas around it) keep reading it for good.
        or (
            actor.role != Role.department
            and row["grid_code"] is not None
            and actor.covers(row["grid_code"])
        )
        or actor.serves(row["department"], row["owner_code"])
    )


async def _readable(case_id: int, principal: Principal) -> tuple[dict[str, Any], Territory]:
    row = await _row(case_id)
    actor = actor_of(principal)
    if not _visible(row, principal, actor):
        raise NotFound("case", case_id)  # not 403: whether it exists is not theirs to know
    return row, actor


async def read(case_id: int, principal: Principal) -> CaseOut:
    row, actor = await _readable(case_id, principal)
    case = case_out(row, actor)
    case.owner_name = (await place_names([row["owner_code"]])).get(row["owner_code"])
    merged = await Case.select(Case.id).where(Case.merged_into == case_id).order_by(Case.id)
    case.merged = [r["id"] for r in merged]
    return case


async def timeline(case_id: int, principal: Principal) -> list[dict[str, Any]]:
    """The case's events, oldest first, each with who took the step: ``actor_name`` (masked
    as ``policy.shown_name`` says) and ``actor_post``, the role they acted in (None for the
    scheduler's steps)."""
    row, viewer = await _readable(case_id, principal)
    rows = (
        await Event.select(Event.id, Event.at, Event.type, Event.actor, Event.payload)
        .where(Event.subject == f"case:{case_id}")
        .order_by(Event.id)
    )
    ids = {r["actor"] for r in rows if r["actor"] is not None}
    people = (
        {
            p["id"]: p
            for p in await Person.select(Person.id, Person.name, Person.role).where(
                Person.id.is_in(sorted(ids))
            )
        }
        if ids
        else {}
    )
    state = state_of(row)
    out = []
    for r in rows:
        person = people.get(r["actor"])
        # The role the step was taken in, as logged; a person's role may have changed since.
        logged = json.loads(r["payload"]).get("actor_role")
        post = logged if logged in ROLE_LABELS else (person["role"] if person else None)
        name = shown_name(person["name"], person["id"], viewer, state) if person else None
        out.append({**r, "at": r["at"].isoformat(), "actor_name": name, "actor_post": post})
    return out


async def pending_requests(principal: Principal) -> list[CaseOut]:
    """The cases with a request (return, shelve, void) that ``principal`` may approve or refuse,
    oldest change first. Read whole: requests wait for hours, not by the thousand."""
    actor = actor_of(principal)
    rows = await Case.select().where(Case.pending.is_not_null()).order_by(Case.updated_at)
    return [case_out(r, actor) for r in rows if may(actor, Action.approve, state_of(r))]


def _command(
    body: TransitionIn,
    actor: Territory,
    now: datetime,
    limits: Mapping[str, timedelta | None],
    calendar: WorkingCalendar | None,
    department_levels: frozenset[Level],
) -> Command:
    """``limits``: the new clock to close (``close``), and the time the next stage has, by its
    name (``dispatch`` after an acceptance, ``handle`` after a dispatch, ``verify`` after a
    handling)."""
    try:
        return Command(
            action=Action(body.action),
            actor=actor,
            now=now,
            reason=body.reason,
            assignee=body.assignee,
            department=body.department,
            result=body.result,
            photo=body.photo,
            rating=body.rating,
            comment=body.comment,
            extension=None
            if body.extension_hours is None
            else timedelta(hours=body.extension_hours),
            review_date=None if body.review_date is None else date.fromisoformat(body.review_date),
            time_limit=limits.get("close"),
            dispatch_limit=limits.get("dispatch"),
            handle_limit=limits.get("handle"),
            verify_limit=limits.get("verify"),
            calendar=calendar,
            target_code=body.target_code,
            main_case=body.main_case,
            department_levels=department_levels,
        )
    except (ValueError, OverflowError) as exc:  # OverflowError: an extension of 1e308 hours
        raise Invalid("invalid_value", str(exc)) from None


def department_levels(settings: Settings) -> frozenset[Level]:
    """The levels whose cases the city lets go straight to a department."""
    return frozenset(Level(level) for level in settings.direct_dispatch_levels)


async def act(
    case_id: int,
    body: TransitionIn,
    principal: Principal,
    levels: frozenset[Level] = DEPARTMENT_LEVELS,
) -> CaseOut:
    """Apply one workflow action; 409 when someone else changed the case first. ``levels``:
    those whose cases may be dispatched to a department (``department_levels``)."""
    actor = actor_of(principal)
    row = await move(case_id, body, actor, lambda row: _visible(row, principal, actor), levels)
    return case_out(row, actor)


async def move(
    case_id: int,
    body: TransitionIn,
    actor: Territory,
    may_see: Callable[[dict[str, Any]], bool],
    levels: frozenset[Level] = DEPARTMENT_LEVELS,
) -> dict[str, Any]:
    """Apply ``body`` for ``actor`` to a case ``may_see`` lets them see (404 otherwise), in
    one write transaction with its event; the row after the change."""
    now = clock.now()
    async with write_transaction(Case._meta.db):
        row = await _row(case_id)
        if not may_see(row):
            raise NotFound("case", case_id)
        if body.version != row["version"]:
            if body.version + 1 == row["version"] and await _made_by(case_id, body, actor):
                # The same send again, its answer lost on the way (a phone in a stairwell):
                # the case as that send left it, not a conflict to resolve by hand.
                return row
            raise Conflict("stale_version", "the case changed since you loaded it; reload")
        limits = await limits_of(row["category"])
        clocks: dict[str, timedelta | None] = {}
        calendar = None
        if limits is not None:
            if body.action in _CLOCKED:
                clocks["close"] = time_limit(limits.close, row["priority"], await case_factor(row))
            stage = _NEXT_STAGE.get(body.action)
            if stage is not None and row["priority"] in limits.of_stage(stage):
                factor = await case_factor(row)
                clocks[stage] = time_limit(limits.of_stage(stage), row["priority"], factor)
            # A new clock to close, or an extension of the running one: both on its calendar.
            calendar = await calendar_for(limits, "close", row["priority"])
        if body.action == Action.supervise:
            clocks["close"] = _hours(body.due_hours)
        if body.action == Action.verify_on_site:
            # The photo is the one taken for it, whatever the client named (none: 422).
            body = msgspec.structs.replace(body, photo=await _fresh_photo(case_id, actor))
        if body.action == Action.dispatch and body.assignee is None and not body.department:
            # Nobody named: the holder of the post the category goes to (police for 治安).
            post = None if limits is None else limits.post
            body = msgspec.structs.replace(
                body, assignee=await default_assignee(row["owner_code"], post)
            )
        try:
            command = _command(body, actor, now, clocks, calendar, levels)
            moved = transition(state_of(row), command)
        except WorkflowError as exc:
            raise _refused(exc) from None
        # After the workflow and the policy: their 409 and 403 come before a bad payload.
        action = moved.event["type"]
        state = moved.state
        if action == Action.dispatch:
            await check_target(row["owner_code"], state.assignee, state.department, actor)
        elif action == Action.add_department:
            await check_department(moved.event["department"])
        elif action == Action.transfer:
            await _check_place(moved.event["target_code"])
        elif action == Action.merge:
            await _merge_into(row, moved, actor, now)
        changed = (
            await Case.update(**columns_of(moved.state), version=row["version"] + 1, updated_at=now)
            .where((Case.id == case_id) & (Case.version == row["version"]))
            .returning(Case.id)
        )
        if not changed:
            raise Conflict("conflict", "someone else changed the case at the same time")
        # At the moment the workflow acted on, which the row's times (firsts.py) hold too.
        event = _event(case_id, moved.event, moved.state.owner_code, actor.person_id)
        await append([event], at=now)
    return await _row(case_id)


async def _check_place(code: str) -> None:
    """422 unless ``code`` is a grid or an area the city has."""
    if code not in await place_names([code]):
        raise Invalid("invalid_value", f"no grid or area {code}", field="target_code")


async def _merge_into(
    row: dict[str, Any], moved: Transition, actor: Territory, now: datetime
) -> None:
    """The main case's side of a merge (并案), in the duplicate's transaction: the duplicate's
    reporter and followers follow it, and its log says which case was merged in. 422 for a main
    case that is the duplicate itself, missing, not open, a duplicate, or out of the actor's
    territory."""
    main_id = moved.state.merged_into
    main = None if main_id == row["id"] else await Case.select().where(Case.id == main_id).first()
    if main is None or not may_merge_into(actor, state_of(main)):
        raise Invalid(
            "invalid_value",
            f"case {main_id} cannot take duplicates: it must be another open case of yours",
            field="main_case",
        )
    followers = followers_of(main)
    for person in (row["reporter"], *followers_of(row)):
        if person is not None and person != main["reporter"] and person not in followers:
            followers.append(person)
    changed = (
        await Case.update(
            followers=joined_list(followers), version=main["version"] + 1, updated_at=now
        )
        .where((Case.id == main["id"]) & (Case.version == main["version"]))
        .returning(Case.id)
    )
    if not changed:
        raise Conflict("conflict", "someone else changed the main case at the same time")
    event = {
        "type": Action.merge.value,
        "from": main["status"],
        "to": main["status"],
        "level": level_of_code(main["owner_code"]).value,
        "owner_code": main["owner_code"],
        "actor_id": actor.person_id,
        "actor_role": str(actor.role),
        "at": now.isoformat(),
        "merged_case": row["id"],
        "reason": moved.event.get("reason"),
    }
    await append([_event(main["id"], event, main["owner_code"], actor.person_id)])
