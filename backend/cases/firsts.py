"""The first of each workflow action the assessment counts a period by, kept on the case as the
workflow takes it: its first acceptance, handling (on the spot or not), verification and
escalation, and who took each. Its first dispatch is ``dispatched_at`` and ``dispatched_by``.

A period's figures then read the cases whose first action of a kind fell in it off their rows,
instead of grouping every workflow event of the period by case (backend/assessment/case_sql.py).
A period counts the first acceptance, verification and escalation *in the period*: a case that
takes one of them a second time may take it in a later period, so it is marked
(``repeated_actions``) and the assessment reads that case's actions from its events. A second
dispatch or handling changes no figure: only the first counts, in whichever period it fell.

>>> from datetime import datetime, timezone
>>> from backend.cases.states import CaseState
>>> at = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
>>> s = noted(CaseState("request", "submitted", "15030200100101"), Action.accept, at, 7)
>>> s.first_accepted_at == at, s.first_accepted_by, s.repeated_actions
(True, 7, False)
>>> noted(s, Action.accept, at, 8).repeated_actions
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from backend.cases.states import Action, CaseState

# The actions the assessment counts by, and the name of the first one's fields.
FIRSTS: Mapping[Action, str] = {
    Action.accept: "accepted",
    Action.handle: "handled",
    Action.self_handle: "handled",
    Action.verify: "verified",
    Action.escalate: "escalated",
}
# Those counted at their first in a period rather than their first ever.
_AGAIN = frozenset({Action.accept, Action.verify, Action.escalate})


def noted(state: CaseState, action: Action, at: datetime, actor: int | None) -> CaseState:
    """``state`` after ``actor`` took ``action`` at ``at``, with its first such action noted."""
    name = FIRSTS.get(action)
    if name is None:
        return state
    if getattr(state, f"first_{name}_at") is None:
        first: dict[str, Any] = {f"first_{name}_at": at, f"first_{name}_by": actor}
        return replace(state, **first)
    if action in _AGAIN and not state.repeated_actions:
        return replace(state, repeated_actions=True)
    return state
