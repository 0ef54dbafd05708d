"""Who hears what on the live stream besides their territory: the cases they follow in person
wherever those lie.

Besides the codes of their subscription, everybody follows the cases they reported and those
assigned to them: a resident hears nothing else, and a grid worker hears a case a community
dispatched to them although the community owns it. The hub keeps that set current from the
events themselves (``becomes_personal``): a case is submitted by its reporter, and a dispatch
names its assignee.
"""

from __future__ import annotations

import msgspec

from backend.cases.tables import Case
from backend.core.events import CASE_EVENTS, EventType
from backend.events.service import StoredEvent

_ASSIGNEE = b'"assignee"'


async def personal_subjects(person_id: int) -> set[str]:
    """The subjects ("case:42") of the cases ``person_id`` reported or is assigned."""
    rows = await Case.select(Case.id).where(
        (Case.reporter == person_id) | (Case.assignee == person_id)
    )
    return {f"case:{r['id']}" for r in rows}


def becomes_personal(event: StoredEvent) -> int | None:
    """The person for whom this event makes its case one they follow: the reporter of a new
    case, the assignee of a dispatch; None for any other event."""
    if event.type == EventType.case_submit:
        return event.actor
    if event.type in CASE_EVENTS and _ASSIGNEE in bytes(event.payload):
        payload = msgspec.json.decode(event.payload)
        assignee = payload.get("assignee") if isinstance(payload, dict) else None
        return assignee if isinstance(assignee, int) else None
    return None
