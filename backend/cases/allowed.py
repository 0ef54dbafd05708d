"""Which actions a case's status allows, whoever asks: the workflow's diagram as data.

This module answers *when* (from which status), ``policy`` answers *who*; ``workflow.transition``
asks this module first (409) and the policy then (403), and ``policy.actions_for`` asks both.
"""

from __future__ import annotations

from collections.abc import Mapping

from backend.cases.states import OPEN, REQUESTS, Action, CaseState, Kind, Status

_WORKING = frozenset({Status.dispatched, Status.handling})

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
    Action.withdraw: frozenset({Status.submitted}),
    Action.rate: frozenset({Status.closed}),
    Action.reopen: frozenset({Status.closed}),
    Action.request_return: _WORKING,
    Action.request_extension: _WORKING,
    Action.approve_extension: _WORKING,
    Action.refuse_extension: _WORKING,
    # Only registered cases that nobody has solved yet can be shelved.
    Action.request_shelve: frozenset({Status.accepted, Status.dispatched, Status.handling}),
    Action.unshelve: frozenset({Status.shelved}),
    Action.request_void: OPEN | {Status.shelved},
    # Wherever a request can be pending: any change of status drops it (``workflow``).
    Action.approve: OPEN | {Status.shelved},
    Action.refuse: OPEN | {Status.shelved},
    # Once registered, whatever stage: the owner may want the spot seen before or after work.
    Action.verify_on_site: OPEN - {Status.submitted},
    Action.remind: OPEN,
    Action.supervise: OPEN,
}


def refusal(action: Action | str, state: CaseState) -> str | None:
    """Why the workflow refuses ``action`` on ``state`` whoever asks, or ``None`` if it may.

    Beyond the status: only incidents are self-handled, a case is rated once per closing, one
    extension request and one other request (return, shelve, void) are pending at a time.

    >>> refusal("close", CaseState("request", "handled", "15030200100101"))
    'cannot close a handled case'
    """
    action = Action(action)
    if state.status not in ALLOWED_FROM[action]:
        return f"cannot {action} a {state.status} case"
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
