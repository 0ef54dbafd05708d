"""What each action does to a case: one function per action, from (state, command) to the new
state and the event's own fields.

Each checks its own payload (``missing_field``, ``invalid_value``), and reopen its window too
(``too_late``); ``transition`` has checked the status and the actor before calling one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from backend.cases.states import Action, CaseState, Command, Pending, Status, WorkflowError
from backend.cases.timing import check_reopen_window
from backend.core.areas import Level, code_within, level_of_code, next_level, parent_code
from backend.core.worktime import due_time

# ---------------------------------------------------------------------------------------------
# Payload checks


def _missing(field: str, action: Action) -> WorkflowError:
    return WorkflowError("missing_field", f"{action} needs {field}", field=field)


def _text(command: Command, field: str) -> str:
    """A required text field; blank counts as missing."""
    value = getattr(command, field)
    if value is None or not str(value).strip():
        raise _missing(field, command.action)
    return str(value).strip()


def _new_due(command: Command) -> datetime:
    if command.time_limit is None:
        raise _missing("time_limit", command.action)
    if command.time_limit <= timedelta(0):
        raise WorkflowError("invalid_value", "time_limit must be positive", field="time_limit")
    return due_time(command.now, command.time_limit, command.calendar)


def _positive_extension(command: Command) -> timedelta:
    if command.extension is None:
        raise _missing("extension", command.action)
    if command.extension <= timedelta(0):
        raise WorkflowError("invalid_value", "an extension must be positive", field="extension")
    return command.extension


def _seconds(delta: timedelta) -> int:
    return round(delta.total_seconds())


def _deadline(command: Command, limit: timedelta | None) -> datetime | None:
    """When a stage's ``limit`` runs out from now, on the case's calendar; None without one."""
    return None if limit is None else due_time(command.now, limit, command.calendar)


# A new clock (escalate, reopen, unshelve) starts a new round of handling: the next
# dispatch sets the time to handle, and what an earlier round did is no longer the answer.
_NEW_ROUND: Mapping[str, Any] = {
    "handle_due_at": None,
    "handled_at": None,
    "handled_by": None,
    "verify_due_at": None,
    "verified_at": None,
    "verified_by": None,
}


def _entered(s: CaseState, c: Command) -> Mapping[str, Any]:
    """The acceptance (立案) of a case leaving ``submitted`` for the workflow, its first."""
    if s.accepted_at is not None:
        return {}
    return {"accepted_at": c.now, "accepted_by": c.actor.person_id}


# ---------------------------------------------------------------------------------------------
# One function per action: (state, command) -> (new state, the event's own fields)

Step = tuple[CaseState, dict[str, Any]]


def _accept(s: CaseState, c: Command) -> Step:
    due = _new_due(c)
    # The dispatch deadline (派遣时限) of the assessment's 按时派遣率, on the same calendar.
    dispatch_due = _deadline(c, c.dispatch_limit)
    new = replace(
        s,
        status=Status.accepted,
        due_at=due,
        dispatch_due_at=dispatch_due,
        **_entered(s, c),
    )
    return new, {"due_at": due, "dispatch_due_at": dispatch_due}


def _reject(s: CaseState, c: Command) -> Step:
    return replace(s, status=Status.rejected), {"reason": _text(c, "reason")}


def _dispatch(s: CaseState, c: Command) -> Step:
    if c.assignee is None and not c.department:
        raise _missing("assignee or department", c.action)
    # Departments are called in by the street or above (街道吹哨、部门报到) unless the city lets
    # lower levels call them directly: elsewhere a case that needs one is escalated first, so
    # that its owner is the level that coordinates.
    if c.department and s.level not in c.department_levels:
        raise WorkflowError(
            "invalid_value",
            f"a {s.level} case cannot go to a department here: escalate it first",
            field="department",
        )
    # The time to handle (处置时限) runs from the dispatch of this round: a re-dispatch (改派)
    # or a dispatch after a return (回退) keeps it, a wrong handler earns no time.
    handle_due = s.handle_due_at or _deadline(c, c.handle_limit)
    new = replace(
        s,
        status=Status.dispatched,
        assignee=c.assignee,
        department=c.department or None,
        extension_requested=None,  # a pending request was the previous assignee's
        dispatched_at=s.dispatched_at or c.now,  # the first dispatch: a re-dispatch keeps it
        dispatched_by=s.dispatched_by if s.dispatched_at else c.actor.person_id,
        handle_due_at=handle_due,
    )
    return new, {
        "assignee": c.assignee,
        "department": c.department or None,
        "from_assignee": s.assignee,
        "from_department": s.department,
        "handle_due_at": handle_due,
    }


def _start(s: CaseState, c: Command) -> Step:
    return replace(s, status=Status.handling), {}


def _handled(s: CaseState, c: Command) -> dict[str, Any]:
    """A handling's marks: who and when, and the time to verify it (核查时限) from now."""
    return {
        "handled_at": c.now,
        "handled_by": c.actor.person_id,
        "verify_due_at": _deadline(c, c.verify_limit),
        "verified_at": None,
        "verified_by": None,
    }


def _handle(s: CaseState, c: Command) -> Step:
    result = _text(c, "result")
    marks = _handled(s, c)
    new = replace(s, status=Status.handled, extension_requested=None, **marks)
    return new, {"result": result, "photo": c.photo, "verify_due_at": marks["verify_due_at"]}


def _self_handle(s: CaseState, c: Command) -> Step:
    result = _text(c, "result")
    marks = _handled(s, c)
    # The finder is the handler: recorded as assignee so that nobody verifies their own work.
    new = replace(s, status=Status.handled, assignee=c.actor.person_id, self_handled=True, **marks)
    return new, {"result": result, "photo": c.photo, "verify_due_at": marks["verify_due_at"]}


def _checked(s: CaseState, c: Command) -> dict[str, Any]:
    # Verified or sent back, the last handling has been checked (核查): by whom, and when.
    return {"verified_at": c.now, "verified_by": c.actor.person_id}


def _verify(s: CaseState, c: Command) -> Step:
    return replace(s, status=Status.verified, **_checked(s, c)), {"comment": c.comment}


def _rework(s: CaseState, c: Command) -> Step:
    # The reason is required (not in GB/T 30428's words, but the worker must know what to redo).
    reason = _text(c, "reason")
    # Sent back, the handling does not count as done: the next one answers the time to handle.
    new = replace(
        s,
        status=Status.handling,
        rework_count=s.rework_count + 1,
        handled_at=None,
        handled_by=None,
        **_checked(s, c),
    )
    return new, {"reason": reason, "rework_count": new.rework_count}


def _close(s: CaseState, c: Command) -> Step:
    return replace(s, status=Status.closed, closed_at=c.now), {}


def _escalate(s: CaseState, c: Command) -> Step:
    upper = next_level(s.level)
    if upper is None:
        raise WorkflowError("invalid_value", "a city case cannot be escalated further")
    owner = c.next_owner_code or parent_code(s.owner_code)
    assert owner is not None  # only the city has no parent, and it was refused above
    if not _is_parent(owner, s.owner_code, upper):
        raise WorkflowError(
            "invalid_value",
            f"{owner} is not the {upper} above {s.owner_code}",
            field="next_owner_code",
        )
    due = _new_due(c)
    new = replace(
        s,
        status=Status.accepted,
        owner_code=owner,
        assignee=None,
        department=None,
        departments=(),
        extension_requested=None,
        escalations=s.escalations + 1,
        due_at=due,
        # Escalated unaccepted, it entered the workflow at the level above: that is its 立案.
        **(_entered(s, c) if s.status is Status.submitted else {}),
        **_NEW_ROUND,
    )
    return new, {
        "from_level": s.level,
        "from_owner_code": s.owner_code,
        "reason": c.reason,
        "escalations": new.escalations,
        "due_at": due,
    }


def _is_parent(owner: str, child: str, level: Level) -> bool:
    try:
        return level_of_code(owner) is level and code_within(child, owner)
    except ValueError:
        return False


def _withdraw(s: CaseState, c: Command) -> Step:
    return replace(s, status=Status.withdrawn), {"reason": c.reason}


def _rate(s: CaseState, c: Command) -> Step:
    if c.rating is None:
        raise _missing("rating", c.action)
    if isinstance(c.rating, bool) or not isinstance(c.rating, int) or not 1 <= c.rating <= 5:
        raise WorkflowError(
            "invalid_value", f"a rating is 1 to 5, not {c.rating!r}", field="rating"
        )
    return replace(s, rating=c.rating), {"rating": c.rating, "comment": c.comment}


def reopen(s: CaseState, c: Command, window: timedelta) -> Step:
    assert s.closed_at is not None  # CaseState guarantees it for a closed case
    check_reopen_window(s.closed_at, c.now, window)
    due = _new_due(c)
    new = replace(
        s,
        status=Status.accepted,
        reopen_count=s.reopen_count + 1,
        closed_at=None,
        rating=None,  # the next closing is rated afresh; the old rating stays in the log
        assignee=None,
        department=None,
        departments=(),
        due_at=due,
        **_NEW_ROUND,
    )
    return new, {
        "reason": c.reason,
        "comment": c.comment,
        "reopen_count": new.reopen_count,
        "due_at": due,
    }


def _request(s: CaseState, c: Command, review_date: date | None = None) -> Step:
    reason = _text(c, "reason")
    new = replace(s, pending=Pending(c.action, c.actor.person_id, reason, review_date))
    return new, {"reason": reason, "review_date": review_date}


def _request_return(s: CaseState, c: Command) -> Step:
    return _request(s, c)


def _request_shelve(s: CaseState, c: Command) -> Step:
    if c.review_date is None:
        _text(c, "reason")  # a missing reason is named first, as before
        raise _missing("review_date", c.action)
    # "Today" is now's date in now's timezone: pass now in the city's time (Asia/Shanghai).
    if c.review_date < c.now.date():
        raise WorkflowError("invalid_value", "the review date is in the past", field="review_date")
    return _request(s, c, c.review_date)


def _request_void(s: CaseState, c: Command) -> Step:
    return _request(s, c)


def _returned(s: CaseState, c: Command) -> CaseState:
    return replace(s, status=Status.accepted, assignee=None, department=None, departments=())


def _shelved(s: CaseState, c: Command) -> CaseState:
    assert s.pending is not None and s.pending.review_date is not None  # request_shelve's
    # Unassigned while shelved, so that it leaves every worker's list; unshelve re-dispatches.
    return replace(
        s,
        status=Status.shelved,
        shelved_until=s.pending.review_date,
        assignee=None,
        department=None,
        departments=(),
    )


def _voided(s: CaseState, c: Command) -> CaseState:
    return replace(s, status=Status.voided, voided_at=c.now)


def _paused(s: CaseState, c: Command) -> CaseState:
    # The status stays (the work stands where it was); paused_at stops the clock.
    return replace(s, paused_at=c.now)


_APPROVED: Mapping[Action, Callable[[CaseState, Command], CaseState]] = {
    Action.request_return: _returned,
    Action.request_shelve: _shelved,
    Action.request_void: _voided,
    Action.pause: _paused,
}


def _approve(s: CaseState, c: Command) -> Step:
    assert s.pending is not None  # checked by allowed.refusal
    new = replace(_APPROVED[s.pending.action](s, c), pending=None, extension_requested=None)
    return new, {
        **_asked(s),
        "comment": c.comment,
        "from_assignee": s.assignee,
        "from_department": s.department,
    }


def _refuse(s: CaseState, c: Command) -> Step:
    reason = _text(c, "reason")
    return replace(s, pending=None), {**_asked(s), "reason": reason}


def _asked(s: CaseState) -> dict[str, Any]:
    """The request an approval or refusal answers, in its event."""
    assert s.pending is not None
    return {
        "request": s.pending.action,
        "requested_by": s.pending.by,
        "request_reason": s.pending.reason,
    }


def _request_extension(s: CaseState, c: Command) -> Step:
    extension = _positive_extension(c)
    new = replace(s, extension_requested=extension)
    return new, {"extension_seconds": _seconds(extension), "reason": c.reason}


def _approve_extension(s: CaseState, c: Command) -> Step:
    assert s.extension_requested is not None  # checked by allowed.refusal
    # The deadline moves, not "now": an extension granted late does not reward the delay.
    due = due_time(s.due_at or c.now, s.extension_requested, c.calendar)
    new = replace(s, due_at=due, extension_requested=None)
    return new, {"extension_seconds": _seconds(s.extension_requested), "due_at": due}


def _refuse_extension(s: CaseState, c: Command) -> Step:
    assert s.extension_requested is not None  # checked by allowed.refusal
    reason = _text(c, "reason")
    new = replace(s, extension_requested=None)
    return new, {"extension_seconds": _seconds(s.extension_requested), "reason": reason}


def _unshelve(s: CaseState, c: Command) -> Step:
    due = _new_due(c)  # the clock stopped while shelved; it starts afresh
    new = replace(s, status=Status.accepted, shelved_until=None, due_at=due, **_NEW_ROUND)
    return new, {"reason": c.reason, "due_at": due}


def _verify_on_site(s: CaseState, c: Command) -> Step:
    # A finding for the owner to act on (verify, rework, close): the case itself stays put.
    result = _text(c, "result")
    return s, {"result": result, "photo": _text(c, "photo")}


def _remind(s: CaseState, c: Command) -> Step:
    # Told to the owner through the event; the clock and the case stay as they are.
    return s, {"comment": c.comment}


def _supervise(s: CaseState, c: Command) -> Step:
    reason = _text(c, "reason")
    if c.time_limit is None:
        raise _missing("due_hours", c.action)
    if c.time_limit <= timedelta(0):
        raise WorkflowError("invalid_value", "due_hours must be positive", field="due_hours")
    # Its own due time, beside the case's: the order is answered for on its own.
    due = due_time(c.now, c.time_limit, c.calendar)
    return replace(s, supervise_due_at=due), {"reason": reason, "supervise_due_at": due}


def _transfer(s: CaseState, c: Command) -> Step:
    reason = _text(c, "reason")
    target = _text(c, "target_code")
    try:
        level_of_code(target)
    except ValueError:
        raise WorkflowError(
            "invalid_value", f"{target!r} is no grid or area code", field="target_code"
        ) from None
    if target == s.owner_code:
        raise WorkflowError(
            "invalid_value", f"the case is owned by {target} already", field="target_code"
        )
    # Nothing moves until the target accepts: the sender keeps it (and its clock) till then.
    return replace(s, transfer_to=target), {"reason": reason, "target_code": target}


def _accept_transfer(s: CaseState, c: Command) -> Step:
    assert s.transfer_to is not None  # checked by allowed.refusal
    target = s.transfer_to
    grid_code, history = s.grid_code, s.grid_history
    if level_of_code(target) is Level.grid and target != s.grid_code:
        # Sent to the wrong grid: it happened in the target; the old grid stays on record.
        grid_code = target
        history = history if s.grid_code is None else (*history, s.grid_code)
    # Owned anew, as an escalation leaves it: the new owner dispatches; the reporter's clock
    # (due_at) runs on, a wrong routing earns no time.
    new = replace(
        s,
        owner_code=target,
        transfer_to=None,
        grid_code=grid_code,
        grid_history=history,
        assignee=None,
        department=None,
        departments=(),
        extension_requested=None,
    )
    return new, {
        "from_owner_code": s.owner_code,
        "grid_code": grid_code,
        "grid_history": list(history),
        "comment": c.comment,
    }


def _refuse_transfer(s: CaseState, c: Command) -> Step:
    reason = _text(c, "reason")
    return replace(s, transfer_to=None), {"target_code": s.transfer_to, "reason": reason}


def _add_department(s: CaseState, c: Command) -> Step:
    department = _text(c, "department")
    if department == s.department or department in s.departments:
        raise WorkflowError(
            "invalid_value", f"{department} handles this case already", field="department"
        )
    new = replace(s, departments=(*s.departments, department))
    return new, {
        "department": department,
        "lead_department": s.department,
        "departments": list(new.departments),
        "reason": c.reason,
    }


def _merge(s: CaseState, c: Command) -> Step:
    if c.main_case is None:
        raise _missing("main_case", c.action)
    # Final, as a void is, but not counted as one: the main case answers for the problem.
    new = replace(
        s, status=Status.merged, merged_into=c.main_case, extension_requested=None, paused_at=None
    )
    return new, {"merged_into": c.main_case, "reason": c.reason}


def _pause(s: CaseState, c: Command) -> Step:
    return _request(s, c)


def _resume(s: CaseState, c: Command) -> Step:
    assert s.paused_at is not None  # checked by allowed.refusal
    # The paused time on the clock the case runs on (working time, or the wall clock).
    paused = c.now - s.paused_at if c.calendar is None else c.calendar.between(s.paused_at, c.now)

    def later(moment: datetime | None) -> datetime | None:
        return None if moment is None else due_time(moment, paused, c.calendar)

    due = later(s.due_at)
    # The stages' clocks stood still too, those still running: to dispatch, to handle.
    new = replace(
        s,
        paused_at=None,
        due_at=due,
        dispatch_due_at=s.dispatch_due_at if s.dispatched_at else later(s.dispatch_due_at),
        handle_due_at=s.handle_due_at if s.handled_at else later(s.handle_due_at),
    )
    return new, {
        "paused_at": s.paused_at,
        "paused_seconds": _seconds(paused),
        "due_at": due,
        "dispatch_due_at": new.dispatch_due_at
        if new.dispatch_due_at != s.dispatch_due_at
        else None,
        "handle_due_at": new.handle_due_at if new.handle_due_at != s.handle_due_at else None,
        "reason": c.reason,
    }


STEPS: Mapping[Action, Callable[[CaseState, Command], Step]] = {
    Action.accept: _accept,
    Action.reject: _reject,
    Action.dispatch: _dispatch,
    Action.start: _start,
    Action.handle: _handle,
    Action.self_handle: _self_handle,
    Action.verify: _verify,
    Action.rework: _rework,
    Action.close: _close,
    Action.escalate: _escalate,
    Action.withdraw: _withdraw,
    Action.rate: _rate,
    Action.request_return: _request_return,
    Action.request_extension: _request_extension,
    Action.approve_extension: _approve_extension,
    Action.refuse_extension: _refuse_extension,
    Action.request_shelve: _request_shelve,
    Action.unshelve: _unshelve,
    Action.request_void: _request_void,
    Action.approve: _approve,
    Action.refuse: _refuse,
    Action.verify_on_site: _verify_on_site,
    Action.remind: _remind,
    Action.supervise: _supervise,
    Action.transfer: _transfer,
    Action.accept_transfer: _accept_transfer,
    Action.refuse_transfer: _refuse_transfer,
    Action.add_department: _add_department,
    Action.merge: _merge,
    Action.pause: _pause,
    Action.resume: _resume,
}  # reopen is applied with its window, in transition
