"""Which actions a case's status allows, whoever asks: the workflow's diagram as data.

This module answers *when* (from which status), ``policy`` answers *who*; ``workflow.transition``
asks this module first (409) and the policy then (403), and ``policy.actions_for`` asks both.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

from backend.cases.states import OPEN, REQUESTS, Action, CaseState, Kind, Status

_WORKING = frozenset({Status.dispatched, Status.handling})
# Registered and not yet solved: what can be shelved or paused.
_UNSOLVED = frozenset({Status.accepted, Status.dispatched, Status.handling})
# Before anyone works it: a case dispatched to the wrong place comes back by 回退 first.
_UNDISPATCHED = frozenset({Status.submitted, Status.accepted})

# From which statuses each action may be taken (the diagram in ``workflow``, as data).
ALLOWED_FROM: Mapping[Action, frozenset[Status]] = {
    Action.accept: frozenset({Status.submitted}),
    Action.reject: frozenset({Status.submitted}),
    # Again from dispatched: re-dispatch (改派) to someone else before work starts.
    Action.dispatch: frozenset({Status.accepted, Status.dispatched}),
    Action.start: frozenset({Status.dispatched}),
    # Straight from dispatched too: a worker offline in a stairwell may never press "start".
    Action.handle: _WORKING,
    Action.self_handle: frozenset({Status.submitted}),
    Action.verify: frozenset({Status.handled}),
    Action.rework: frozenset({Status.handled}),
    Action.close: frozenset({Status.verified}),
    Action.escalate: OPEN,
    # 12345 allows 撤件 until closure: whatever stage, shelved included.
    Action.withdraw: OPEN | {Status.shelved},
    Action.rate: frozenset({Status.closed}),
    Action.reopen: frozenset({Status.closed}),
    Action.request_return: _WORKING,
    Action.request_extension: _WORKING,
    Action.approve_extension: _WORKING,
    Action.refuse_extension: _WORKING,
    # Only registered cases that nobody has solved yet can be shelved.
    Action.request_shelve: _UNSOLVED,
    Action.unshelve: frozenset({Status.shelved}),
    Action.request_void: OPEN | {Status.shelved},
    # Wherever a request can be pending: any change of status drops it (``workflow``).
    Action.approve: OPEN | {Status.shelved},
    Action.refuse: OPEN | {Status.shelved},
    # Once registered, whatever stage: the owner may want the spot seen before or after work.
    Action.verify_on_site: OPEN - {Status.submitted},
    Action.remind: OPEN,
    Action.supervise: OPEN,
    Action.transfer: _UNDISPATCHED,
    Action.accept_transfer: _UNDISPATCHED,
    Action.refuse_transfer: _UNDISPATCHED,
    Action.add_department: _WORKING,
    # A duplicate, until someone has solved it (then it is no longer the same problem's).
    Action.merge: OPEN - {Status.handled, Status.verified},
    Action.pause: _UNSOLVED,
    Action.resume: _UNSOLVED,
}

# What a paused case allows: it waits for resume, its reporter may still urge it on or
# withdraw, a level above may still order it done.
_WHILE_PAUSED = frozenset({Action.resume, Action.remind, Action.supervise, Action.withdraw})
# What a case waiting for its new owner allows: that owner's answer, and the same three.
_WHILE_TRANSFERRED = frozenset(
    {
        Action.accept_transfer,
        Action.refuse_transfer,
        Action.remind,
        Action.supervise,
        Action.withdraw,
    }
)


def refusal(action: Action | str, state: CaseState) -> str | None:
    """Why the workflow refuses ``action`` on ``state`` whoever asks, or ``None`` if it may.

    Beyond the status: only incidents are self-handled, a case is rated once per closing, one
    extension request and one other request (return, shelve, void, pause) are pending at a
    time; a paused case and one waiting for its transfer to be answered allow little else
    (``_WHILE_PAUSED``, ``_WHILE_TRANSFERRED``); only a case with a lead department takes
    another (联办).

    >>> refusal("close", CaseState("request", "handled", "15030200100101"))
    'cannot close a handled case'
    """
    if not isinstance(action, Action):  # a member already: every button listed comes here
        action = Action(action)
    if state.status not in ALLOWED_FROM[action]:
        return f"cannot {action} a {state.status} case"
    if state.paused_at is not None and action not in _WHILE_PAUSED:
        return f"cannot {action} a paused case: resume it first"
    if action is Action.resume and state.paused_at is None:
        return "the case is not paused"
    if state.transfer_to is not None and action not in _WHILE_TRANSFERRED:
        return f"a transfer to {state.transfer_to} is waiting for its answer"
    if action in (Action.accept_transfer, Action.refuse_transfer) and state.transfer_to is None:
        return "no transfer is waiting"
    if action is Action.transfer and state.pending is not None:
        return f"a {state.pending.action} is pending"
    if action is Action.add_department and state.department is None:
        return "only a case dispatched to a lead department is handled jointly"
    if action is Action.self_handle and state.kind is not Kind.incident:
        return "only an incident report can be handled on the spot"
    if action is Action.rate and state.rating is not None:
        return "this closing has already been rated"
    if action is Action.request_extension and state.extension_requested is not None:
        return "an extension request is already pending"
    if action in (Action.approve_extension, Action.refuse_extension) and (
        state.extension_requested is None
    ):
        return "no extension request is pending"
    if action in REQUESTS and state.pending is not None:
        return f"a {state.pending.action} is already pending"
    if action in (Action.approve, Action.refuse) and state.pending is None:
        return "no request is pending"
    return None


def can(action: Action | str, state: CaseState) -> bool:
    """Whether the workflow allows ``action`` on ``state`` (whoever asks; see ``policy.may``).

    >>> can("accept", CaseState("request", "submitted", "15030200100101"))
    True
    """
    return refusal(action, state) is None


# The actions each status allows at all, in the order of ``Action``.
_FROM: Mapping[Status, tuple[Action, ...]] = {
    s: tuple(a for a in Action if s in ALLOWED_FROM[a]) for s in Status
}


def _shape(state: CaseState) -> Hashable:
    """What ``refusal`` reads of a state, and nothing else: states of one shape are refused
    the same actions. Kept beside ``refusal``; tests/backend/test_policy.py compares the two on
    every shape."""
    return (
        state.status,
        state.kind,
        state.paused_at is None,
        state.transfer_to is None,
        state.pending is None,
        state.department is None,
        state.rating is None,
        state.extension_requested is None,
    )


# A list answers every case's buttons: a page of 50 asked ``refusal`` some 750 times.
_ALLOWED: dict[Hashable, tuple[Action, ...]] = {}


def allowed_actions(state: CaseState) -> tuple[Action, ...]:
    """The actions the workflow allows on ``state`` whoever asks, in the order of ``Action``.

    >>> [a.value for a in allowed_actions(CaseState("request", "verified", "15030200100101"))]
    ['close', 'escalate', 'withdraw', 'request_void', 'verify_on_site', 'remind', 'supervise']
    """
    shape = _shape(state)
    found = _ALLOWED.get(shape)
    if found is None:  # a few hundred shapes at most: statuses × kinds × six flags
        found = tuple(a for a in _FROM[state.status] if refusal(a, state) is None)
        _ALLOWED[shape] = found
    return found
