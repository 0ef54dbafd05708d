"""Between a case row and the workflow's CaseState, and the case as the API shows it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from backend.cases.policy import actions_for, mask_phone, sees_contact
from backend.cases.schemas import CaseOut, PendingOut
from backend.cases.states import CaseState, Pending
from backend.cases.tables import Case
from backend.core.db import raw
from backend.core.phones import masked_text
from backend.core.territory import Territory


def state_of(row: dict[str, Any]) -> CaseState:
    extension = row["extension_seconds"]
    shelved = row["shelved_until"]
    return CaseState(
        kind=row["kind"],
        status=row["status"],
        owner_code=row["owner_code"],
        reporter_id=row["reporter"],
        assignee=row["assignee"],
        department=row["department"],
        due_at=row["due_at"],
        rework_count=row["rework_count"],
        reopen_count=row["reopen_count"],
        escalations=row["escalations"],
        closed_at=row["closed_at"],
        rating=row["rating"],
        extension_requested=None if extension is None else timedelta(seconds=extension),
        shelved_until=None if shelved is None else date.fromisoformat(shelved),
        pending=_pending(row["pending"]),
        voided_at=row["voided_at"],
        grid_code=row["grid_code"],
        supervise_due_at=row["supervise_due_at"],
        transfer_to=row["transfer_to"],
        grid_history=split_list(row["grid_history"]),
        departments=split_list(row["departments"]),
        merged_into=row["merged_into"],
        paused_at=row["paused_at"],
        dispatch_due_at=row["dispatch_due_at"],
        dispatched_at=row["dispatched_at"],
        accept_due_at=row["accept_due_at"],
        accepted_at=row["accepted_at"],
        accepted_by=row["accepted_by"],
        dispatched_by=row["dispatched_by"],
        handle_due_at=row["handle_due_at"],
        handled_at=row["handled_at"],
        handled_by=row["handled_by"],
        verify_due_at=row["verify_due_at"],
        verified_at=row["verified_at"],
        verified_by=row["verified_by"],
        self_handled=bool(row["self_handled"]),
        first_accepted_at=row["first_accepted_at"],
        first_accepted_by=row["first_accepted_by"],
        first_handled_at=row["first_handled_at"],
        first_handled_by=row["first_handled_by"],
        first_verified_at=row["first_verified_at"],
        first_verified_by=row["first_verified_by"],
        first_escalated_at=row["first_escalated_at"],
        first_escalated_by=row["first_escalated_by"],
        repeated_actions=bool(row["repeated_actions"]),
    )


def split_list(text: str | None) -> tuple[str, ...]:
    """A list column's members (",a,b," in the table, so that SQL finds one with LIKE).

    >>> split_list(",cg,sw,"), split_list(None)
    (('cg', 'sw'), ())
    """
    return tuple(m for m in (text or "").split(",") if m)


def joined_list(members: Sequence[object]) -> str | None:
    """The text of a list column; None for an empty list.

    >>> joined_list(("cg", "sw")), joined_list(())
    (',cg,sw,', None)
    """
    return f",{','.join(str(m) for m in members)}," if members else None


def followers_of(row: dict[str, Any]) -> list[int]:
    """The people who follow a case besides its reporter: the reporters of cases merged into it."""
    return [int(m) for m in split_list(row["followers"])]


def _pending(text: str | None) -> Pending | None:
    if text is None:
        return None
    data = json.loads(text)
    review = data.get("review_date")
    return Pending(
        data["action"],
        data["by"],
        data["reason"],
        None if review is None else date.fromisoformat(review),
    )


def _pending_text(pending: Pending | None) -> str | None:
    if pending is None:
        return None
    review = pending.review_date
    return json.dumps(
        {
            "action": pending.action.value,
            "by": pending.by,
            "reason": pending.reason,
            "review_date": None if review is None else review.isoformat(),
        },
        ensure_ascii=False,
    )


def columns_of(state: CaseState) -> dict[str, Any]:
    """The row's columns that the workflow owns."""
    extension = state.extension_requested
    return {
        "status": str(state.status),
        "owner_code": state.owner_code,
        "assignee": state.assignee,
        "department": state.department,
        "due_at": state.due_at,
        "rework_count": state.rework_count,
        "reopen_count": state.reopen_count,
        "escalations": state.escalations,
        "closed_at": state.closed_at,
        "rating": state.rating,
        "extension_seconds": None if extension is None else int(extension.total_seconds()),
        "shelved_until": None if state.shelved_until is None else state.shelved_until.isoformat(),
        "pending": _pending_text(state.pending),
        "voided_at": state.voided_at,
        "supervise_due_at": state.supervise_due_at,
        "transfer_to": state.transfer_to,
        "grid_code": state.grid_code,
        "grid_history": joined_list(state.grid_history),
        "departments": joined_list(state.departments),
        "merged_into": state.merged_into,
        "paused_at": state.paused_at,
        "dispatch_due_at": state.dispatch_due_at,
        "dispatched_at": state.dispatched_at,
        "accept_due_at": state.accept_due_at,
        "accepted_at": state.accepted_at,
        "accepted_by": state.accepted_by,
        "dispatched_by": state.dispatched_by,
        "handle_due_at": state.handle_due_at,
        "handled_at": state.handled_at,
        "handled_by": state.handled_by,
        "verify_due_at": state.verify_due_at,
        "verified_at": state.verified_at,
        "verified_by": state.verified_by,
        "self_handled": state.self_handled,
        "first_accepted_at": state.first_accepted_at,
        "first_accepted_by": state.first_accepted_by,
        "first_handled_at": state.first_handled_at,
        "first_handled_by": state.first_handled_by,
        "first_verified_at": state.first_verified_at,
        "first_verified_by": state.first_verified_by,
        "first_escalated_at": state.first_escalated_at,
        "first_escalated_by": state.first_escalated_by,
        "repeated_actions": state.repeated_actions,
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def case_out(row: dict[str, Any], viewer: Territory) -> CaseOut:
    state = state_of(row)
    # Reporters type their number into the description as often as into the phone field.
    whole = sees_contact(viewer, state)
    return CaseOut(
        id=row["id"],
        client_id=str(row["client_id"]),
        kind=row["kind"],
        source=row["source"],
        source_system=row["source_system"],
        category=row["category"],
        description=row["description"] if whole else masked_text(row["description"]),
        lon=row["lon"],
        lat=row["lat"],
        address=row["address"] if whole else masked_text(row["address"]),
        grid_code=row["grid_code"],
        owner_code=row["owner_code"],
        level=str(state.level),
        status=row["status"],
        priority=row["priority"],
        reporter_id=row["reporter"],
        contact_phone=mask_phone(row["contact_phone"], viewer, state),
        assignee_id=row["assignee"],
        department=row["department"],
        due_at=_iso(row["due_at"]),
        rework_count=row["rework_count"],
        rating=row["rating"],
        version=row["version"],
        created_at=row["created_at"].isoformat(),
        actions=[a.value for a in actions_for(viewer, state)],
        pending=_pending_out(state.pending),
        supervise_due_at=_iso(row["supervise_due_at"]),
        transfer_to=state.transfer_to,
        grid_history=list(state.grid_history),
        departments=list(state.departments),
        merged_into=state.merged_into,
        paused_at=_iso(state.paused_at),
    )


def _pending_out(pending: Pending | None) -> PendingOut | None:
    if pending is None:
        return None
    review = pending.review_date
    return PendingOut(
        pending.action.value,
        pending.by,
        pending.reason,
        None if review is None else review.isoformat(),
    )


@cache
def _insert_sql(columns: tuple[str, ...]) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("{}" for _ in columns)
    # A row with a tracking key has two unique keys, both the same for two sends of one case,
    # and PostgreSQL may find either first: no conflict target then, any unique key refuses
    # the second insert quietly.
    target = "" if "tracking_key" in columns else ' ("client_id")'
    return (
        f'INSERT INTO "{Case._meta.tablename}" ({names}) VALUES ({marks})'
        f' ON CONFLICT{target} DO NOTHING RETURNING "id"'
    )


async def insert_new(row: dict[str, Any]) -> int | None:
    """Insert a case row (column → value) unless its client id (or its tracking key, if it
    has one) is taken: its id, or None.

    One plain statement: Piccolo's insert builds a Table object and then a query of every
    column, which cost more than all the rest of a create (profiled with pyinstrument).
    """
    inserted = await raw(Case, _insert_sql(tuple(row)), *row.values())
    return inserted[0]["id"] if inserted else None
