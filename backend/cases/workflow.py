"""The case workflow: the one pure function that moves a case, and the one that creates it.

Residents' requests (诉求), workers' incident reports (事件) and tasks from above (任务) follow
one workflow, modelled on digital city management (GB/T 30428) and 接诉即办::

    submitted  ─accept─▶ accepted ─dispatch─▶ dispatched ─start─▶ handling ─handle─▶ handled
    submitted  ─reject─▶ rejected ✕        (with a reason)
    any open status, shelved ─withdraw─▶ withdrawn ✕   (撤件, by the reporter, until closure)
    dispatched ─handle─▶ handled           (starting is optional)
    dispatched ─dispatch─▶ dispatched      (改派: to someone else)
    dispatched, handling ─request_return─▶ (pending) ─approve─▶ accepted   (回退)
    handled    ─verify─▶ verified ─close─▶ closed ─rate─▶ closed
    handled    ─rework─▶ handling          (返工: rework_count + 1)
    closed     ─reopen─▶ accepted          (by the reporter, within 7 days: reopen_count + 1)

    escalate       any open status ─▶ accepted, one level up, owned by that level, unassigned
    self_handle    a submitted incident ─▶ handled by its finder on the spot (自处理), then verified
    *_extension    while dispatched or handling (延期): requested, then approved or refused
    request_shelve accepted, dispatched, handling ─approve─▶ shelved (挂账) ─unshelve─▶ accepted
    request_void   any open status or shelved ─approve─▶ voided ✕ (作废: a duplicate, a false
                   report)
    approve/refuse the pending request (one at a time) takes effect, or is dropped with a
                   reason; any other change of status, a re-dispatch or an escalation drops it
    transfer       submitted, accepted (移交, target_code) ─▶ waits (transfer_to) ─accept_transfer─▶
                   owned by the target, same status, unassigned (a grid target becomes grid_code,
                   the old one goes to grid_history) │ ─refuse_transfer─▶ stays with the sender
    add_department dispatched, handling with a lead department (联办) ─▶ departments + one
    merge          submitted … handling (并案, main_case) ─▶ merged ✕ (merged_into); the main
                   case's followers gain the duplicate's reporter
    pause          accepted, dispatched, handling (挂起) ─approve─▶ paused_at set, status kept,
                   clock stopped ─resume─▶ due_at later by the paused working time
    dispatch       to a department only from the levels the city allows (department_levels:
                   street and above unless WANGGE_DIRECT_DISPATCH_LEVELS says otherwise)

That table is ``allowed.ALLOWED_FROM`` as data, what each action does is in ``actions``, and
the words (``Status``, ``Action``, ``CaseState`` …) are in ``states``.

``transition`` refuses, in this order: an action the status does not allow, or that a paused
case or one waiting for its transfer's answer does not (``invalid_transition``, 409), an actor
the policy does not allow (``forbidden``, 403, see ``policy``), then the action's own checks: a
missing or bad payload field (``missing_field`` and ``invalid_value``, 422), a reopening after
its window (``too_late``, 409).

A case that is accepted (after accept, escalate, return, reopen or unshelve) is always
unassigned: it waits for a dispatch. Time limits are the caller's: each command that starts a
clock (accept, escalate, reopen, unshelve) carries ``time_limit``, computed with
:func:`timing.time_limit` from the category's limits, the priority and the emergency factor,
and the ``calendar`` it runs on (none: the wall clock); ``worktime.due_time`` says when it runs
out.

>>> from datetime import datetime, timedelta, timezone
>>> from backend.core.territory import Territory
>>> now = datetime(2025, 5, 6, 9, 0, tzinfo=timezone.utc)
>>> case = CaseState(Kind.request, Status.submitted, "15030200100101", reporter_id=1)
>>> leader = Territory(3, "grid_leader", grid_codes={"15030200100101"})
>>> t = transition(case, Command("accept", leader, now, time_limit=timedelta(hours=48)))
>>> t.state.status, t.state.due_at.isoformat(), t.event["to"]
(<Status.accepted: 'accepted'>, '2025-05-08T09:00:00+00:00', 'accepted')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from backend.cases.actions import STEPS, reopen
from backend.cases.allowed import refusal
from backend.cases.firsts import noted
from backend.cases.policy import check
from backend.cases.states import Action, CaseState, Command, Kind, Status, Transition, WorkflowError
from backend.cases.timing import REOPEN_WINDOW
from backend.core.territory import Territory
from backend.core.worktime import WorkingCalendar, due_time


def transition(
    state: CaseState, command: Command, *, reopen_window: timedelta = REOPEN_WINDOW
) -> Transition:
    """Apply ``command`` to ``state``: the new state and the event to log, or a WorkflowError.

    Pure and deterministic: the same state and command always give the same answer, and the
    state passed in is not changed (it is frozen). ``reopen_window`` is the time after closing
    in which the reporter may reopen (a setting of the deployment).
    """
    action = command.action
    why = refusal(action, state)
    if why is not None:
        raise WorkflowError("invalid_transition", why, action=action, status=state.status)
    check(command.actor, action, state)
    if action is Action.reopen:
        new, fields = reopen(state, command, reopen_window)
    else:
        new, fields = STEPS[action](state, command)
    if (
        state.pending is not None
        and action not in _ANSWERS
        and (new.status is not state.status or action in (Action.dispatch, Action.escalate))
    ):
        # The request was about the case as it stood: its handler or status changed under it.
        new = replace(new, pending=None)
        fields = {**fields, "dropped_request": state.pending.action}
    new = noted(new, action, command.now, command.actor.person_id)
    return Transition(new, _event(state, new, command, fields))


_ANSWERS = frozenset({Action.approve, Action.refuse})


def submit(
    kind: Kind | str,
    owner_code: str,
    reporter: Territory,
    now: datetime,
    *,
    time_limit: timedelta | None = None,
    calendar: WorkingCalendar | None = None,
) -> Transition:
    """A new case, submitted by ``reporter`` and owned by ``owner_code``, with its first event.

    ``time_limit``, if given, is the time to accept it (the response limit of 接诉即办), in
    working time on ``calendar``, or on the wall clock without one.
    Who may submit which kind is left to the caller.

    >>> from datetime import timezone
    >>> from backend.core.territory import Territory
    >>> now = datetime(2025, 5, 6, 9, tzinfo=timezone.utc)
    >>> t = submit("request", "15030200100101", Territory(1, "resident"), now)
    >>> t.state.status, t.event["type"], t.event["to"]
    (<Status.submitted: 'submitted'>, 'submit', 'submitted')
    """
    due = None if time_limit is None else due_time(now, time_limit, calendar)
    # The time to accept is kept apart (accept_due_at): accepting sets due_at to the time to close.
    state = CaseState(
        Kind(kind),
        Status.submitted,
        owner_code,
        reporter_id=reporter.person_id,
        due_at=due,
        accept_due_at=due,
    )
    event = {
        "type": "submit",
        "from": None,
        "to": Status.submitted.value,
        "kind": state.kind.value,
        "level": state.level.value,
        "owner_code": owner_code,
        "actor_id": reporter.person_id,
        "actor_role": str(reporter.role),
        "at": now.isoformat(),
    }
    if due is not None:
        event["due_at"] = due.isoformat()
    return Transition(state, event)


def _event(old: CaseState, new: CaseState, c: Command, fields: Mapping[str, Any]) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": c.action.value,
        "from": old.status.value,
        "to": new.status.value,
        "level": new.level.value,
        "owner_code": new.owner_code,
        "actor_id": c.actor.person_id,
        "actor_role": str(c.actor.role),
        "at": c.now.isoformat(),
    }
    # Fields left empty are left out, so that the log says only what happened.
    event.update({k: _json(v) for k, v in fields.items() if v is not None})
    return event


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    return value
