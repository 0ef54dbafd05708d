"""Every type of event the log holds (backend/events/), named once: the code that appends an
event and the code that listens for one use the same member, never a string built or typed
twice. The values are what the ``event.type`` column and the live stream carry.

>>> case_event("return"), layer_changed("grids")
(<EventType.case_return: 'case.return'>, <EventType.grids_changed: 'grids.changed'>)
>>> case_event("fly")
Traceback (most recent call last):
...
ValueError: 'case.fly' is not a valid EventType
"""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    # A case's workflow: its submission, then one per action (backend/cases/states.py's
    # Action; tests/backend/test_events.py checks that none is missing).
    case_submit = "case.submit"
    case_accept = "case.accept"
    case_reject = "case.reject"
    case_dispatch = "case.dispatch"
    case_start = "case.start"
    case_handle = "case.handle"
    case_self_handle = "case.self_handle"
    case_verify = "case.verify"
    case_rework = "case.rework"
    case_close = "case.close"
    case_escalate = "case.escalate"
    case_withdraw = "case.withdraw"
    case_rate = "case.rate"
    case_reopen = "case.reopen"
    case_return = "case.return"
    case_request_extension = "case.request_extension"
    case_approve_extension = "case.approve_extension"
    case_refuse_extension = "case.refuse_extension"
    case_shelve = "case.shelve"
    case_unshelve = "case.unshelve"
    case_void = "case.void"  # before approvals (issue 17): kept for the logs that hold it
    case_request_return = "case.request_return"
    case_request_shelve = "case.request_shelve"
    case_request_void = "case.request_void"
    case_approve = "case.approve"
    case_refuse = "case.refuse"
    case_verify_on_site = "case.verify_on_site"
    case_remind = "case.remind"
    case_supervise = "case.supervise"
    case_transfer = "case.transfer"
    case_accept_transfer = "case.accept_transfer"
    case_refuse_transfer = "case.refuse_transfer"
    case_add_department = "case.add_department"
    # On the duplicate (merged_into) and on its main case (merged_case).
    case_merge = "case.merge"
    case_pause = "case.pause"
    case_resume = "case.resume"
    # Around the workflow.
    case_support = "case.support"  # 附议: "me too" to an open case
    case_photo = "case.photo"
    case_overdue = "case.overdue"
    case_due_changed = "case.due_changed"  # an emergency switch moved its due time
    # An area switched into emergency or back.
    mode_changed = "mode.changed"
    # Broadcast tasks.
    task_created = "task.created"
    task_assigned = "task.assigned"
    task_item_done = "task.item_done"
    # 双报到, service hours, grades and stars.
    party_member_registered = "party.member_registered"
    party_member_updated = "party.member_updated"
    party_need_published = "party.need_published"
    party_need_claimed = "party.need_claimed"
    party_claim_withdrawn = "party.claim_withdrawn"
    party_hours_reported = "party.hours_reported"
    party_hours_confirmed = "party.hours_confirmed"
    party_hours_refused = "party.hours_refused"
    party_grade_set = "party.grade_set"
    party_stars_set = "party.stars_set"
    assessment_weights = "assessment.weights"
    assessment_published = "assessment.published"  # a period's figures frozen (公示)
    # An import changed the areas or the grids (backend/imports/): the map is another.
    areas_changed = "areas.changed"
    grids_changed = "grids.changed"
    # ... or the buildings or service points: the geocoder's places (backend/geocode/).
    buildings_changed = "buildings.changed"
    points_changed = "points.changed"
    auth_revoked = "auth.revoked"  # a token or every token of a person
    # The city admin changed the working calendar or the category tree: every process forgets
    # its copy when its live hub reads the event (backend/live/hub.py).
    calendar_changed = "calendar.changed"
    category_changed = "category.changed"
    # People managed by their centres (backend/people/): the audit of every change.
    person_created = "person.created"
    person_updated = "person.updated"
    person_deactivated = "person.deactivated"
    person_reactivated = "person.reactivated"
    person_password_reset = "person.password_reset"
    person_post_assigned = "person.post_assigned"
    person_post_vacated = "person.post_vacated"


# Every event about a case (its subject is "case:<id>").
CASE_EVENTS: frozenset[str] = frozenset(t for t in EventType if t.startswith("case."))


def case_event(step: str) -> EventType:
    """The event of a case's workflow step: ``"submit"`` or an action."""
    return EventType(f"case.{step}")


def layer_changed(layer: str) -> EventType:
    """The event of an import that changed ``layer`` (areas, grids, buildings or points)."""
    return EventType(f"{layer}.changed")
