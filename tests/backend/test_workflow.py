"""The case workflow: every action from every status, and the rules each action carries.

Pure: no database, no app. The actor of each command is one the policy allows, so that what is
tested here is the workflow (``test_policy.py`` tests who may).
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace
from datetime import datetime, timedelta, timezone

import pytest

from backend.cases.allowed import can
from backend.cases.states import (
    FINAL,
    OPEN,
    Action,
    CaseState,
    Command,
    Kind,
    Pending,
    Status,
    WorkflowError,
)
from backend.cases.timing import is_overdue, time_limit
from backend.cases.workflow import submit, transition
from backend.core.areas import (
    Level,
    code_within,
    level_of_code,
    next_level,
    parent_code,
    scope_prefix,
)
from backend.core.territory import SYSTEM_ACTOR, Territory
from backend.core.worktime import WorkingCalendar, due_time

GRID = "15030200100101"
GRID_B = "15030200100102"  # the next grid of the same community
COMMUNITY = "150302001001"
STREET = "150302001"
DISTRICT = "150302"
CITY = "150300"

CST = timezone(timedelta(hours=8))
NOW = datetime(2025, 5, 6, 9, 0, tzinfo=CST)
DAY = timedelta(days=1)
LIMIT = timedelta(hours=72)

RESIDENT = Territory(1, "resident")
WORKER = Territory(2, "grid_worker", grid_codes={GRID})
LEADER = Territory(3, "grid_leader", grid_codes={GRID})
COMMUNITY_STAFF = Territory(5, "community_staff", area_code=COMMUNITY)
STREET_STAFF = Territory(6, "street_staff", area_code=STREET)
DISTRICT_ADMIN = Territory(7, "district_admin", area_code=DISTRICT)
CITY_ADMIN = Territory(8, "city_admin", area_code=CITY)
DEPT = Territory(9, "department", department="cg")


def cmd(action: str, actor: Territory, now: datetime = NOW, **payload) -> Command:
    return Command(Action(action), actor, now, **payload)


def request(**fields) -> CaseState:
    """A resident's request in the grid, as submitted."""
    base = CaseState(
        Kind.request, Status.submitted, GRID, reporter_id=RESIDENT.person_id, grid_code=GRID
    )
    return replace(base, **fields)


def error(state: CaseState, command: Command, **kw) -> WorkflowError:
    with pytest.raises(WorkflowError) as caught:
        transition(state, command, **kw)
    return caught.value


# ---------------------------------------------------------------------------------------------
# The whole matrix: every action from every status

OPEN_VALUES = ("submitted", "accepted", "dispatched", "handling", "handled", "verified")
# What each action does from each status it is allowed from; from any other it is refused.
EXPECTED_TRANSITIONS: dict[str, dict[str, str]] = {
    "accept": {"submitted": "accepted"},
    "reject": {"submitted": "rejected"},
    "dispatch": {"accepted": "dispatched", "dispatched": "dispatched"},
    "start": {"dispatched": "handling"},
    "handle": {"dispatched": "handled", "handling": "handled"},
    "self_handle": {"submitted": "handled"},
    "verify": {"handled": "verified"},
    "rework": {"handled": "handling"},
    "close": {"verified": "closed"},
    "escalate": {
        "submitted": "accepted",
        "accepted": "accepted",
        "dispatched": "accepted",
        "handling": "accepted",
        "handled": "accepted",
        "verified": "accepted",
    },
    "withdraw": {s: "withdrawn" for s in (*OPEN_VALUES, "shelved")},  # until closure
    "rate": {"closed": "closed"},
    "reopen": {"closed": "accepted"},
    "request_return": {"dispatched": "dispatched", "handling": "handling"},
    "request_extension": {"dispatched": "dispatched", "handling": "handling"},
    "approve_extension": {"dispatched": "dispatched", "handling": "handling"},
    "refuse_extension": {"dispatched": "dispatched", "handling": "handling"},
    "request_shelve": {"accepted": "accepted", "dispatched": "dispatched", "handling": "handling"},
    "unshelve": {"shelved": "accepted"},
    "request_void": {s: s for s in (*OPEN_VALUES, "shelved")},
    # Of a pending void (state_for): approved, the case is voided; refused, it stays.
    "approve": {s: "voided" for s in (*OPEN_VALUES, "shelved")},
    "refuse": {s: s for s in (*OPEN_VALUES, "shelved")},
    "verify_on_site": {s: s for s in OPEN_VALUES if s != "submitted"},
    "remind": {s: s for s in OPEN_VALUES},
    "supervise": {s: s for s in OPEN_VALUES},
    "transfer": {"submitted": "submitted", "accepted": "accepted"},
    "accept_transfer": {"submitted": "submitted", "accepted": "accepted"},
    "refuse_transfer": {"submitted": "submitted", "accepted": "accepted"},
    "add_department": {"dispatched": "dispatched", "handling": "handling"},
    "merge": {s: "merged" for s in ("submitted", "accepted", "dispatched", "handling")},
    "pause": {s: s for s in ("accepted", "dispatched", "handling")},
    "resume": {s: s for s in ("accepted", "dispatched", "handling")},
}

ASSIGNED = {Status.dispatched, Status.handling, Status.handled, Status.verified, Status.closed}

# Every payload field filled in, so that only the status decides.
FULL_PAYLOAD = {
    "reason": "why",
    "assignee": WORKER.person_id,
    "result": "fixed",
    "photo": "photo.jpg",
    "rating": 5,
    "comment": "thanks",
    "extension": DAY,
    "review_date": NOW.date() + timedelta(days=30),
    "time_limit": LIMIT,
    "target_code": GRID_B,
    "main_case": 7,
}
# Fields only one action takes (a department would send a grid's dispatch elsewhere).
ACTION_PAYLOAD: dict[Action, dict[str, object]] = {Action.add_department: {"department": "zj"}}


def actor_for(action: Action) -> Territory:
    """An actor the policy allows to take ``action`` on ``state_for(action, …)``."""
    if action in (
        Action.start,
        Action.handle,
        Action.request_extension,
        Action.self_handle,
    ):
        return WORKER
    if action is Action.verify_on_site:
        return LEADER  # of the grid where it happened, not its assignee
    if action is Action.request_return:
        return DEPT
    if action in (Action.withdraw, Action.rate, Action.reopen):
        return RESIDENT
    return COMMUNITY_STAFF


def state_for(action: Action, status: Status) -> CaseState:
    """A consistent case in ``status`` meeting every precondition of ``action`` but the status."""
    state = request(
        status=status,
        assignee=WORKER.person_id if status in ASSIGNED else None,
        due_at=NOW + DAY,
        closed_at=NOW - DAY if status is Status.closed else None,
        shelved_until=NOW.date() if status is Status.shelved else None,
    )
    if action is Action.self_handle:
        state = replace(state, kind=Kind.incident, reporter_id=WORKER.person_id)
    if action in (Action.approve_extension, Action.refuse_extension):
        state = replace(state, extension_requested=DAY)
    if action is Action.request_return:
        state = replace(state, owner_code=STREET, assignee=None, department=DEPT.department)
    if action in (Action.approve, Action.refuse):
        state = replace(state, pending=Pending(Action.request_void, LEADER.person_id, "重复"))
    if action in (Action.accept_transfer, Action.refuse_transfer):
        state = replace(state, transfer_to=GRID_B)
    if action is Action.add_department:
        state = replace(state, department="cg")
    if action is Action.resume:
        state = replace(state, paused_at=NOW - DAY)
    return state


def test_every_action_from_every_status():
    actual: dict[str, dict[str, str]] = {}
    for action in Action:
        actual[action.value] = {}
        for status in Status:
            state = state_for(action, status)
            try:
                payload = {**FULL_PAYLOAD, **ACTION_PAYLOAD.get(action, {})}
                t = transition(state, cmd(action, actor_for(action), **payload))
            except WorkflowError as e:
                assert e.code == "invalid_transition", (action, status, e.code, e.reason)
                assert e.status == 409
                assert not can(action, state)
                continue
            assert can(action, state)
            assert (t.event["type"], t.event["from"]) == (action.value, status.value)
            assert t.event["to"] == t.state.status.value
            actual[action.value][status.value] = t.state.status.value
    assert actual == EXPECTED_TRANSITIONS


def test_open_and_final_sets():
    assert {s.value for s in OPEN} == {
        "submitted",
        "accepted",
        "dispatched",
        "handling",
        "handled",
        "verified",
    }
    assert {s.value for s in FINAL} == {"rejected", "withdrawn", "voided", "merged"}
    assert Action.request_return.value == "request_return"


# ---------------------------------------------------------------------------------------------
# Happy paths


def test_happy_path_end_to_end():
    log = []
    t = submit("request", GRID, RESIDENT, NOW, time_limit=timedelta(hours=2))
    assert t.state.due_at == NOW + timedelta(hours=2)
    log.append(t.event)
    steps = [
        cmd("accept", LEADER, NOW + timedelta(hours=1), time_limit=LIMIT),
        cmd("dispatch", LEADER, NOW + timedelta(hours=2), assignee=WORKER.person_id),
        cmd("start", WORKER, NOW + timedelta(hours=3)),
        cmd("handle", WORKER, NOW + timedelta(hours=5), result="路灯已修复", photo="a.jpg"),
        cmd("verify", LEADER, NOW + timedelta(hours=6), comment="亮了"),
        cmd("close", LEADER, NOW + timedelta(hours=7)),
        cmd("rate", RESIDENT, NOW + timedelta(hours=8), rating=5, comment="满意"),
    ]
    state = t.state
    for c in steps:
        t = transition(state, c)
        state = t.state
        log.append(t.event)
    assert [e["type"] for e in log] == [
        "submit",
        "accept",
        "dispatch",
        "start",
        "handle",
        "verify",
        "close",
        "rate",
    ]
    assert [e["to"] for e in log][-2:] == ["closed", "closed"]
    assert state.status is Status.closed
    assert state.closed_at == NOW + timedelta(hours=7)
    assert state.due_at == NOW + timedelta(hours=1) + LIMIT  # set by accept
    assert state.rating == 5 and state.assignee == WORKER.person_id
    assert (state.rework_count, state.reopen_count, state.escalations) == (0, 0, 0)
    assert log[1]["due_at"] == (NOW + timedelta(hours=1) + LIMIT).isoformat()
    assert log[2]["assignee"] == WORKER.person_id and "department" not in log[2]
    assert log[4]["result"] == "路灯已修复" and log[4]["photo"] == "a.jpg"
    assert log[7]["rating"] == 5 and log[7]["comment"] == "满意"
    assert all(e["level"] == "grid" and e["owner_code"] == GRID for e in log)
    assert log[3]["actor_id"] == WORKER.person_id and log[3]["actor_role"] == "grid_worker"
    assert log[3]["at"] == (NOW + timedelta(hours=3)).isoformat()


def test_a_department_case_at_the_street():
    state = request(status=Status.accepted, due_at=NOW + DAY)
    state = transition(state, cmd("escalate", LEADER, time_limit=LIMIT)).state
    state = transition(state, cmd("escalate", COMMUNITY_STAFF, time_limit=LIMIT)).state
    assert (state.level, state.owner_code) == (Level.street, STREET)
    state = transition(state, cmd("dispatch", STREET_STAFF, department="cg")).state
    assert (state.status, state.department, state.assignee) == (Status.dispatched, "cg", None)
    state = transition(state, cmd("start", DEPT)).state
    state = transition(state, cmd("handle", DEPT, result="占道摊点已清理")).state
    state = transition(state, cmd("verify", STREET_STAFF)).state
    state = transition(state, cmd("close", STREET_STAFF)).state
    assert state.status is Status.closed and state.escalations == 2


def test_transition_is_pure():
    state = request(status=Status.accepted, due_at=NOW)
    c = cmd("dispatch", LEADER, assignee=2)
    first, second = transition(state, c), transition(state, c)
    assert first == second
    assert state.status is Status.accepted and state.assignee is None
    with pytest.raises(FrozenInstanceError):
        state.status = Status.closed  # type: ignore[misc]


def test_strings_are_accepted_for_enums():
    state = CaseState("incident", "submitted", GRID)
    assert state.kind is Kind.incident and state.status is Status.submitted
    assert Command("accept", LEADER, NOW).action is Action.accept


# ---------------------------------------------------------------------------------------------
# Rework, escalation, reopening


def test_rework_goes_back_to_handling_and_counts():
    state = request(status=Status.handled, assignee=2, due_at=NOW + DAY, rework_count=1)
    t = transition(state, cmd("rework", LEADER, reason="照片看不清"))
    assert t.state.status is Status.handling
    assert t.state.rework_count == 2
    assert t.state.assignee == 2  # the same worker redoes it
    assert t.state.due_at == NOW + DAY  # the clock is not reset by a rework
    assert t.event["reason"] == "照片看不清" and t.event["rework_count"] == 2


def test_escalate_moves_level_and_owner_and_unassigns():
    state = request(
        status=Status.handling,
        assignee=2,
        due_at=NOW - DAY,
        extension_requested=DAY,
    )
    t = transition(state, cmd("escalate", LEADER, reason="超出网格能力", time_limit=LIMIT))
    s = t.state
    assert (s.status, s.level, s.owner_code) == (Status.accepted, Level.community, COMMUNITY)
    assert (s.assignee, s.department, s.extension_requested) == (None, None, None)
    assert s.escalations == 1 and s.due_at == NOW + LIMIT
    assert t.event["from_level"] == "grid" and t.event["level"] == "community"
    assert t.event["from_owner_code"] == GRID and t.event["owner_code"] == COMMUNITY
    assert t.event["reason"] == "超出网格能力"


def test_escalate_climbs_to_the_city_and_no_further():
    state = request(status=Status.accepted, due_at=NOW)
    owners = []
    while state.level is not Level.city:
        state = transition(state, cmd("escalate", CITY_ADMIN, time_limit=LIMIT)).state
        owners.append((state.level.value, state.owner_code))
    assert owners == [
        ("community", COMMUNITY),
        ("street", STREET),
        ("district", DISTRICT),
        ("city", CITY),
    ]
    assert state.escalations == 4
    e = error(state, cmd("escalate", CITY_ADMIN, time_limit=LIMIT))
    assert e.code == "invalid_value" and e.status == 422


def test_escalate_takes_the_callers_next_owner_only_if_it_is_the_parent():
    state = request(status=Status.accepted, due_at=NOW)
    ok = transition(state, cmd("escalate", LEADER, next_owner_code=COMMUNITY, time_limit=LIMIT))
    assert ok.state.owner_code == COMMUNITY
    for wrong in ["150302001002", STREET, "garbage"]:
        e = error(state, cmd("escalate", LEADER, next_owner_code=wrong, time_limit=LIMIT))
        assert (e.code, e.details["field"]) == ("invalid_value", "next_owner_code")


def test_the_system_escalates_overdue_cases():
    state = request(status=Status.dispatched, assignee=2, due_at=NOW - DAY)
    assert is_overdue(state, NOW)
    t = transition(state, cmd("escalate", SYSTEM_ACTOR, reason="overdue", time_limit=LIMIT))
    assert t.state.level is Level.community and not is_overdue(t.state, NOW)
    assert t.event["actor_id"] is None and t.event["actor_role"] == "system"


def closed(**fields) -> CaseState:
    return request(
        status=Status.closed, assignee=2, due_at=NOW - DAY, closed_at=NOW - DAY, **fields
    )


def test_reopen_within_the_window():
    state = closed(rating=1)
    t = transition(state, cmd("reopen", RESIDENT, reason="又坏了", time_limit=LIMIT))
    s = t.state
    assert (s.status, s.reopen_count, s.closed_at, s.rating) == (Status.accepted, 1, None, None)
    assert (s.assignee, s.due_at) == (None, NOW + LIMIT)
    assert t.event["reopen_count"] == 1 and t.event["reason"] == "又坏了"
    # The new closing can be rated again.
    assert can(Action.rate, replace(s, status=Status.closed, closed_at=NOW))


@pytest.mark.parametrize(
    ("closed_ago", "window", "ok"),
    [
        (timedelta(days=7), timedelta(days=7), True),  # the last moment still counts
        (timedelta(days=7, seconds=1), timedelta(days=7), False),
        (timedelta(days=20), timedelta(days=30), True),
        (timedelta(days=2), timedelta(days=1), False),
    ],
)
def test_reopen_window(closed_ago, window, ok):
    state = replace(closed(), closed_at=NOW - closed_ago)
    c = cmd("reopen", RESIDENT, time_limit=LIMIT)
    if ok:
        assert transition(state, c, reopen_window=window).state.status is Status.accepted
    else:
        e = error(state, c, reopen_window=window)
        assert (e.code, e.status) == ("too_late", 409)


def test_reopen_window_defaults_to_seven_days():
    c = cmd("reopen", RESIDENT, time_limit=LIMIT)
    assert transition(replace(closed(), closed_at=NOW - timedelta(days=6)), c)
    assert error(replace(closed(), closed_at=NOW - timedelta(days=8)), c).code == "too_late"


def test_rate_once_per_closing():
    state = transition(closed(), cmd("rate", RESIDENT, rating=4)).state
    assert state.rating == 4
    e = error(state, cmd("rate", RESIDENT, rating=5))
    assert e.code == "invalid_transition"


# ---------------------------------------------------------------------------------------------
# Exception paths


def test_self_handle_an_incident():
    state = CaseState(Kind.incident, Status.submitted, GRID, reporter_id=WORKER.person_id)
    t = transition(state, cmd("self_handle", WORKER, result="井盖已盖好", photo="b.jpg"))
    assert t.state.status is Status.handled and t.state.assignee == WORKER.person_id
    assert t.event["result"] == "井盖已盖好" and t.event["from"] == "submitted"
    verified = transition(t.state, cmd("verify", LEADER)).state
    assert verified.status is Status.verified  # still verified, by someone else


def test_only_incidents_are_self_handled():
    for kind in (Kind.request, Kind.task):
        state = CaseState(kind, Status.submitted, GRID, reporter_id=WORKER.person_id)
        e = error(state, cmd("self_handle", WORKER, result="done"))
        assert e.code == "invalid_transition"


def test_return_by_a_department_waits_for_approval_then_clears_the_assignment():
    state = request(
        status=Status.dispatched,
        owner_code=STREET,
        department="cg",
        assignee=99,
        due_at=NOW + DAY,
        extension_requested=DAY,
    )
    asked = transition(state, cmd("request_return", DEPT, reason="不属于城管职责"))
    assert asked.state.status is Status.dispatched and asked.state.department == "cg"
    assert asked.state.pending == Pending(Action.request_return, DEPT.person_id, "不属于城管职责")
    assert asked.event["reason"] == "不属于城管职责"
    t = transition(asked.state, cmd("approve", STREET_STAFF, comment="转住建"))
    s = t.state
    assert (s.status, s.assignee, s.department, s.extension_requested, s.pending) == (
        Status.accepted,
        None,
        None,
        None,
        None,
    )
    assert s.due_at == NOW + DAY and s.owner_code == STREET
    assert t.event["from_department"] == "cg" and t.event["from_assignee"] == 99
    assert (t.event["request"], t.event["request_reason"]) == ("request_return", "不属于城管职责")
    assert t.event["requested_by"] == DEPT.person_id and t.event["comment"] == "转住建"


def test_a_refused_request_leaves_the_case_as_it_was():
    state = request(status=Status.handling, assignee=2, due_at=NOW + DAY)
    asked = transition(state, cmd("request_return", WORKER, reason="不归我管")).state
    t = transition(asked, cmd("refuse", LEADER, reason="属于本网格"))
    assert t.state == state
    assert (t.event["request"], t.event["reason"]) == ("request_return", "属于本网格")
    e = error(asked, cmd("refuse", LEADER))
    assert (e.code, e.details["field"]) == ("missing_field", "reason")


def test_one_request_at_a_time_and_none_to_answer_without_one():
    state = request(status=Status.handling, assignee=2, due_at=NOW + DAY)
    asked = transition(state, cmd("request_return", WORKER, reason="r")).state
    again = cmd("request_shelve", WORKER, reason="r", review_date=NOW.date())
    assert error(asked, again).code == "invalid_transition"
    for action in ("approve", "refuse"):
        assert error(state, cmd(action, LEADER, reason="r")).code == "invalid_transition"


def test_a_change_of_status_or_handler_drops_a_pending_request():
    state = request(status=Status.dispatched, assignee=2, due_at=NOW + DAY)
    asked = transition(state, cmd("request_return", WORKER, reason="r")).state
    handled = transition(asked, cmd("handle", WORKER, result="done"))
    assert handled.state.pending is None
    assert handled.event["dropped_request"] == "request_return"
    redispatched = transition(asked, cmd("dispatch", LEADER, assignee=12))
    assert redispatched.state.pending is None
    # An extension request is a request of its own, answered on its own.
    extended = transition(asked, cmd("request_extension", WORKER, extension=DAY)).state
    assert extended.pending == asked.pending


def extension_case(**fields) -> CaseState:
    return request(status=Status.handling, assignee=2, due_at=NOW + DAY, **fields)


def test_extension_approved_moves_the_due_time():
    t = transition(extension_case(), cmd("request_extension", WORKER, extension=2 * DAY))
    assert t.state.extension_requested == 2 * DAY and t.state.due_at == NOW + DAY
    assert t.event["extension_seconds"] == 2 * 86400
    assert t.state.status is Status.handling
    approved = transition(t.state, cmd("approve_extension", LEADER))
    assert approved.state.due_at == NOW + 3 * DAY
    assert approved.state.extension_requested is None
    assert approved.event["due_at"] == (NOW + 3 * DAY).isoformat()


def test_extension_refused_keeps_the_due_time():
    state = extension_case(extension_requested=DAY)
    t = transition(state, cmd("refuse_extension", LEADER, reason="可以按时完成"))
    assert t.state.due_at == NOW + DAY and t.state.extension_requested is None
    assert t.event["reason"] == "可以按时完成" and t.event["extension_seconds"] == 86400


def test_one_extension_request_at_a_time():
    pending = extension_case(extension_requested=DAY)
    assert error(pending, cmd("request_extension", WORKER, extension=DAY)).code == (
        "invalid_transition"
    )
    for action in ("approve_extension", "refuse_extension"):
        e = error(extension_case(), cmd(action, LEADER, reason="r"))
        assert e.code == "invalid_transition"


def test_handling_drops_a_pending_extension_request():
    state = extension_case(extension_requested=DAY)
    t = transition(state, cmd("handle", WORKER, result="done"))
    assert t.state.extension_requested is None


def test_redispatch_changes_the_assignee():
    state = request(status=Status.dispatched, assignee=2, due_at=NOW, extension_requested=DAY)
    t = transition(state, cmd("dispatch", LEADER, assignee=12))
    assert t.state.assignee == 12 and t.state.extension_requested is None
    assert t.event["from_assignee"] == 2 and t.event["assignee"] == 12


def test_shelve_approved_and_unshelve():
    state = request(status=Status.dispatched, assignee=2, due_at=NOW - DAY)
    review = NOW.date() + timedelta(days=90)
    asked = transition(
        state, cmd("request_shelve", WORKER, reason="待旧改立项", review_date=review)
    )
    assert asked.state.status is Status.dispatched and asked.state.shelved_until is None
    assert asked.event["review_date"] == review.isoformat()
    t = transition(asked.state, cmd("approve", LEADER))
    s = t.state
    assert (s.status, s.shelved_until, s.assignee, s.pending) == (
        Status.shelved,
        review,
        None,
        None,
    )
    assert s.status not in OPEN and not is_overdue(s, NOW)
    assert t.event["request_reason"] == "待旧改立项"
    later = NOW + timedelta(days=90)
    back = transition(s, cmd("unshelve", LEADER, later, time_limit=LIMIT)).state
    assert (back.status, back.shelved_until, back.due_at) == (Status.accepted, None, later + LIMIT)


def test_shelve_review_date_today_is_fine_but_not_yesterday():
    state = request(status=Status.accepted, due_at=NOW)
    today = transition(state, cmd("request_shelve", LEADER, reason="r", review_date=NOW.date()))
    assert today.state.pending is not None and today.state.pending.review_date == NOW.date()
    e = error(state, cmd("request_shelve", LEADER, reason="r", review_date=NOW.date() - DAY))
    assert (e.code, e.details["field"]) == ("invalid_value", "review_date")


def test_void_approved_above_the_owner_is_final_and_remembers_when():
    state = request(status=Status.accepted, due_at=NOW - DAY)
    asked = transition(state, cmd("request_void", LEADER, reason="重复上报")).state
    later = NOW + timedelta(hours=2)
    t = transition(asked, cmd("approve", COMMUNITY_STAFF, later))
    assert t.state.status is Status.voided and t.state.voided_at == later
    assert t.event["request_reason"] == "重复上报" and t.event["to"] == "voided"
    assert not any(can(a, t.state) for a in Action)


def test_an_on_site_verification_needs_a_finding_and_a_photo_and_moves_nothing():
    state = request(status=Status.handled, owner_code=STREET, assignee=99, due_at=NOW)
    t = transition(state, cmd("verify_on_site", WORKER, result="已清理干净", photo="p1"))
    assert t.state == state
    assert (t.event["result"], t.event["photo"], t.event["to"]) == ("已清理干净", "p1", "handled")
    e = error(state, cmd("verify_on_site", WORKER, result="已清理干净"))
    assert (e.code, e.details["field"]) == ("missing_field", "photo")


def test_a_supervision_order_has_its_own_due_time():
    state = request(status=Status.dispatched, assignee=2, due_at=NOW + 3 * DAY)
    t = transition(state, cmd("supervise", STREET_STAFF, reason="群众反映强烈", time_limit=DAY))
    assert t.state.supervise_due_at == NOW + DAY and t.state.due_at == NOW + 3 * DAY
    assert t.event["supervise_due_at"] == (NOW + DAY).isoformat()
    e = error(state, cmd("supervise", STREET_STAFF, reason="r"))
    assert (e.code, e.details["field"]) == ("missing_field", "due_hours")
    e = error(state, cmd("supervise", STREET_STAFF, time_limit=DAY))
    assert (e.code, e.details["field"]) == ("missing_field", "reason")


def test_withdraw_before_acceptance():
    t = transition(request(), cmd("withdraw", RESIDENT, reason="已自行解决"))
    assert t.state.status is Status.withdrawn and t.event["reason"] == "已自行解决"
    assert not any(can(a, t.state) for a in Action)


# ---------------------------------------------------------------------------------------------
# Missing and invalid fields


def missing_cases():
    accepted = request(status=Status.accepted, due_at=NOW)
    handled = request(status=Status.handled, assignee=2, due_at=NOW)
    handling = extension_case()
    street = request(status=Status.accepted, owner_code=STREET, due_at=NOW)
    dispatched_dept = replace(street, status=Status.dispatched, department="cg")
    return [
        # (state, command, code, field)
        (request(), cmd("reject", LEADER), "missing_field", "reason"),
        (request(), cmd("reject", LEADER, reason="  "), "missing_field", "reason"),
        (accepted, cmd("request_void", LEADER), "missing_field", "reason"),
        (
            accepted,
            cmd("request_shelve", LEADER, review_date=NOW.date()),
            "missing_field",
            "reason",
        ),
        (accepted, cmd("request_shelve", LEADER, reason="r"), "missing_field", "review_date"),
        (dispatched_dept, cmd("request_return", DEPT), "missing_field", "reason"),
        (
            extension_case(extension_requested=DAY),
            cmd("refuse_extension", LEADER),
            "missing_field",
            "reason",
        ),
        (handled, cmd("rework", LEADER), "missing_field", "reason"),
        (accepted, cmd("dispatch", LEADER), "missing_field", "assignee or department"),
        (
            replace(accepted, status=Status.dispatched, assignee=2),
            cmd("handle", WORKER),
            "missing_field",
            "result",
        ),
        (
            CaseState(Kind.incident, Status.submitted, GRID, reporter_id=2),
            cmd("self_handle", WORKER, result=""),
            "missing_field",
            "result",
        ),
        (closed(), cmd("rate", RESIDENT), "missing_field", "rating"),
        (closed(), cmd("rate", RESIDENT, rating=0), "invalid_value", "rating"),
        (closed(), cmd("rate", RESIDENT, rating=6), "invalid_value", "rating"),
        (closed(), cmd("rate", RESIDENT, rating=True), "invalid_value", "rating"),
        (handling, cmd("request_extension", WORKER), "missing_field", "extension"),
        (
            handling,
            cmd("request_extension", WORKER, extension=timedelta(0)),
            "invalid_value",
            "extension",
        ),
        (
            handling,
            cmd("request_extension", WORKER, extension=-DAY),
            "invalid_value",
            "extension",
        ),
        (request(), cmd("accept", LEADER), "missing_field", "time_limit"),
        (request(), cmd("accept", LEADER, time_limit=-DAY), "invalid_value", "time_limit"),
        (accepted, cmd("escalate", LEADER), "missing_field", "time_limit"),
        (closed(), cmd("reopen", RESIDENT), "missing_field", "time_limit"),
        (
            request(status=Status.shelved, shelved_until=NOW.date()),
            cmd("unshelve", LEADER),
            "missing_field",
            "time_limit",
        ),
        # Departments are called in at the street and above.
        (accepted, cmd("dispatch", LEADER, department="cg"), "invalid_value", "department"),
        (
            request(status=Status.accepted, owner_code=COMMUNITY, due_at=NOW),
            cmd("dispatch", COMMUNITY_STAFF, department="cg"),
            "invalid_value",
            "department",
        ),
    ]


@pytest.mark.parametrize(("state", "command", "code", "field"), missing_cases())
def test_missing_and_invalid_fields(state, command, code, field):
    e = error(state, command)
    assert (e.code, e.details.get("field"), e.status) == (code, field, 422)


def test_dispatch_to_a_department_at_street_level_and_above():
    for owner, actor in [(STREET, STREET_STAFF), (DISTRICT, DISTRICT_ADMIN), (CITY, CITY_ADMIN)]:
        state = request(status=Status.accepted, owner_code=owner, due_at=NOW)
        t = transition(state, cmd("dispatch", actor, department="zj", assignee=42))
        assert (t.state.department, t.state.assignee) == ("zj", 42)


def test_the_status_is_checked_before_the_actor_and_the_actor_before_the_payload():
    # A resident accepting a closed case: the status answers first.
    assert error(closed(), cmd("accept", RESIDENT)).code == "invalid_transition"
    # A resident rejecting a submitted case without a reason: the actor answers first.
    e = error(request(), cmd("reject", RESIDENT))
    assert (e.code, e.status) == ("forbidden", 403)
    # A reporter out of the window but also not the reporter: forbidden, not too late.
    other = Territory(11, "resident")
    old = replace(closed(), closed_at=NOW - 30 * DAY)
    assert error(old, cmd("reopen", other, time_limit=LIMIT)).code == "forbidden"


def test_commands_need_aware_times():
    with pytest.raises(ValueError, match="timezone-aware"):
        Command(Action.accept, LEADER, datetime(2025, 5, 6, 9))


def test_case_state_rejects_inconsistent_data():
    with pytest.raises(ValueError):
        CaseState(Kind.request, Status.closed, GRID)  # no closed_at
    with pytest.raises(ValueError):
        CaseState(Kind.request, Status.shelved, GRID)  # no review date
    with pytest.raises(ValueError):
        CaseState(Kind.request, Status.submitted, "1503-02")
    with pytest.raises(ValueError):
        CaseState(Kind.request, Status.submitted, GRID, rework_count=-1)
    with pytest.raises(ValueError):
        CaseState("complaint", Status.submitted, GRID)


def test_error_codes_map_to_http_statuses():
    assert WorkflowError("forbidden", "no").status == 403
    with pytest.raises(ValueError):
        WorkflowError("teapot", "no")


# ---------------------------------------------------------------------------------------------
# Time limits


LIMITS = {"urgent": timedelta(hours=2), "normal": timedelta(hours=72)}


def test_time_limit_and_due_time():
    assert time_limit(LIMITS, "urgent") == timedelta(hours=2)
    assert time_limit(LIMITS, "normal", factor=0.5) == timedelta(hours=36)
    assert time_limit(LIMITS, "urgent", factor=1 / 3) == timedelta(minutes=40)
    # Wall-clock hours (no calendar): a Friday evening case is due over the weekend.
    friday = datetime(2025, 5, 9, 18, tzinfo=CST)
    normal = LIMITS["normal"]
    assert due_time(friday, normal, None) == datetime(2025, 5, 12, 18, tzinfo=CST)
    assert due_time(friday, normal, None, factor=0.5) == datetime(2025, 5, 11, 6, tzinfo=CST)
    # Working time: 72 h are 10 working days of 7 h and 2 h more; from Friday 18:00, after
    # the weekend, Monday 05-12 … Friday 05-23 (10 days), then Monday 05-26 08:30 + 2 h.
    work = WorkingCalendar()
    assert due_time(friday, normal, work) == datetime(2025, 5, 26, 10, 30, tzinfo=CST)
    # The factor shrinks working time: 36 h are 5 days of 7 h and 1 h more.
    assert due_time(friday, normal, work, factor=0.5) == datetime(2025, 5, 19, 9, 30, tzinfo=CST)


def test_a_clock_and_an_extension_run_on_the_command_s_calendar():
    work = WorkingCalendar()
    friday = datetime(2026, 11, 27, 17, tzinfo=CST)
    accepted = transition(
        request(), cmd("accept", LEADER, friday, time_limit=timedelta(hours=2), calendar=work)
    )
    assert accepted.state.due_at == datetime(2026, 11, 30, 9, 30, tzinfo=CST)
    handling = replace(accepted.state, status=Status.handling, assignee=2, extension_requested=DAY)
    # A day of extension is 24 working hours from the due time, not a calendar day: 6 h left
    # on Monday, Tuesday and Wednesday 14 h, Thursday 3.5 h in the morning and 0.5 h after.
    approved = transition(handling, cmd("approve_extension", LEADER, friday, calendar=work))
    assert approved.state.due_at == datetime(2026, 12, 3, 15, tzinfo=CST)


@pytest.mark.parametrize(("priority", "factor"), [("low", 1.0), ("urgent", 0), ("urgent", -1)])
def test_time_limit_refuses_bad_input(priority, factor):
    with pytest.raises(WorkflowError) as caught:
        time_limit(LIMITS, priority, factor)
    assert caught.value.code == "invalid_value"


def test_is_overdue():
    due = NOW
    assert not is_overdue(request(status=Status.dispatched, assignee=2, due_at=due), NOW)
    assert is_overdue(request(status=Status.dispatched, assignee=2, due_at=due), NOW + DAY)
    assert is_overdue(request(due_at=due), NOW + DAY)  # not even accepted in time
    assert not is_overdue(request(), NOW + DAY)  # no clock yet
    assert not is_overdue(closed(), NOW + DAY)
    assert not is_overdue(request(status=Status.voided, due_at=due), NOW + DAY)
    shelved = request(status=Status.shelved, due_at=due, shelved_until=NOW.date())
    assert not is_overdue(shelved, NOW + DAY)


# ---------------------------------------------------------------------------------------------
# Levels and codes


def test_levels_escalate_in_order():
    assert [next_level(lv) for lv in Level] == [
        Level.community,
        Level.street,
        Level.district,
        Level.city,
        None,
    ]


@pytest.mark.parametrize(
    ("code", "level", "parent"),
    [
        (GRID, Level.grid, COMMUNITY),
        (COMMUNITY, Level.community, STREET),
        (STREET, Level.street, DISTRICT),
        (DISTRICT, Level.district, CITY),
        (CITY, Level.city, None),
        ("150304200101", Level.community, "150304200"),  # a village under a township
    ],
)
def test_codes_tell_level_and_parent(code, level, parent):
    assert level_of_code(code) is level
    assert parent_code(code) == parent


@pytest.mark.parametrize(
    "bad", ["", "1503", "15030200", "1503020010011234567", "15030a", "１５０３００"]
)
def test_malformed_codes_are_refused(bad):
    with pytest.raises(ValueError):
        level_of_code(bad)


def test_code_within():
    assert scope_prefix(CITY) == "1503"
    assert code_within(GRID, CITY) and code_within("150304", CITY)
    assert not code_within("150202", CITY)  # 包头's districts are not Wuhai's
    assert code_within(GRID, COMMUNITY) and code_within(COMMUNITY, COMMUNITY)
    assert not code_within(COMMUNITY, GRID)
    assert not code_within("15030200100201", COMMUNITY)


# ---------------------------------------------------------------------------------------------
# Moves (issue 17)


def test_an_accepted_transfer_to_a_grid_keeps_the_old_one_in_the_history():
    sent = transition(
        request(status=Status.accepted),
        cmd("transfer", LEADER, reason="隔壁网格", target_code=GRID_B),
    ).state
    assert (sent.owner_code, sent.transfer_to) == (GRID, GRID_B)
    taken = transition(sent, cmd("accept_transfer", COMMUNITY_STAFF)).state
    assert (taken.owner_code, taken.grid_code, taken.grid_history) == (GRID_B, GRID_B, (GRID,))
    assert (taken.status, taken.transfer_to, taken.assignee) == (Status.accepted, None, None)
    # To an area: where it happened stays as it was.
    up = transition(
        transition(
            request(status=Status.accepted),
            cmd("transfer", LEADER, reason="需社区统筹", target_code=COMMUNITY),
        ).state,
        cmd("accept_transfer", COMMUNITY_STAFF),
    ).state
    assert (up.owner_code, up.grid_code, up.grid_history) == (COMMUNITY, GRID, ())


def test_resume_moves_the_due_time_by_the_paused_working_time():
    calendar = WorkingCalendar()
    monday = datetime(2026, 12, 7, 10, 0, tzinfo=CST)
    due = datetime(2026, 12, 9, 12, 0, tzinfo=CST)
    paused = request(status=Status.handling, assignee=WORKER.person_id, due_at=due)
    paused = replace(paused, paused_at=monday)
    tuesday = datetime(2026, 12, 8, 10, 0, tzinfo=CST)  # 2 + 3.5 + 1.5 working hours later
    t = transition(paused, cmd("resume", LEADER, tuesday, calendar=calendar))
    assert t.event["paused_seconds"] == 7 * 3600
    assert t.state.due_at == due_time(due, timedelta(hours=7), calendar)
    assert t.state.paused_at is None
    # On the wall clock (a limit in calendar hours): the whole day.
    t = transition(paused, cmd("resume", LEADER, tuesday))
    assert t.state.due_at == due + DAY


def test_a_department_is_dispatched_to_from_the_levels_the_city_allows():
    accepted = request(status=Status.accepted, owner_code=COMMUNITY)
    e = error(accepted, cmd("dispatch", COMMUNITY_STAFF, department="cg"))
    assert (e.code, e.details["field"]) == ("invalid_value", "department")
    levels = frozenset({Level.community, Level.street})
    t = transition(
        accepted, cmd("dispatch", COMMUNITY_STAFF, department="cg", department_levels=levels)
    )
    assert (t.state.status, t.state.department) == (Status.dispatched, "cg")


def test_each_stage_leaves_its_deadline_and_who_met_it():
    hour = timedelta(hours=1)
    started = submit("request", GRID, RESIDENT, NOW, time_limit=LIMIT).state
    assert started.accept_due_at == started.due_at == NOW + LIMIT  # kept apart from due_at
    accepted = transition(started, cmd("accept", LEADER, time_limit=5 * DAY)).state
    assert (accepted.accepted_at, accepted.accepted_by) == (NOW, LEADER.person_id)
    assert (accepted.accept_due_at, accepted.due_at) == (NOW + LIMIT, NOW + 5 * DAY)
    sent = transition(
        accepted,
        cmd("dispatch", LEADER, NOW + hour, assignee=WORKER.person_id, handle_limit=10 * hour),
    ).state
    assert (sent.dispatched_by, sent.handle_due_at) == (LEADER.person_id, NOW + 11 * hour)
    # A re-dispatch (改派) keeps who dispatched first and the time to handle.
    again = transition(
        sent, cmd("dispatch", LEADER, NOW + 2 * hour, assignee=4, handle_limit=10 * hour)
    ).state
    assert (again.dispatched_by, again.handle_due_at) == (LEADER.person_id, NOW + 11 * hour)
    handled = transition(
        sent, cmd("handle", WORKER, NOW + 3 * hour, result="修好", verify_limit=2 * hour)
    ).state
    assert (handled.handled_at, handled.handled_by) == (NOW + 3 * hour, WORKER.person_id)
    assert handled.verify_due_at == NOW + 5 * hour
    # Sent back (返工) is the verification's other answer; the handling no longer counts.
    back = transition(handled, cmd("rework", LEADER, NOW + 4 * hour, reason="没修好")).state
    assert (back.verified_at, back.verified_by) == (NOW + 4 * hour, LEADER.person_id)
    assert (back.handled_at, back.handled_by) == (None, None)
    redone = transition(
        back, cmd("handle", WORKER, NOW + 6 * hour, result="换了", verify_limit=2 * hour)
    ).state
    assert (redone.verify_due_at, redone.verified_at) == (NOW + 8 * hour, None)
    checked = transition(redone, cmd("verify", LEADER, NOW + 7 * hour)).state
    assert (checked.verified_at, checked.verified_by) == (NOW + 7 * hour, LEADER.person_id)
    # A new clock starts a new round: the next dispatch sets the time to handle afresh.
    closed = transition(checked, cmd("close", LEADER, NOW + 8 * hour)).state
    reopened = transition(closed, cmd("reopen", RESIDENT, NOW + DAY, time_limit=LIMIT)).state
    assert (reopened.handle_due_at, reopened.handled_at, reopened.verify_due_at) == (None,) * 3
    assert reopened.accepted_at == NOW  # its acceptance stays the first


def test_escalated_unaccepted_a_case_enters_the_workflow_and_self_handled_is_marked():
    up = transition(request(), cmd("escalate", LEADER, time_limit=LIMIT)).state
    assert (up.status, up.accepted_at, up.accepted_by) == (Status.accepted, NOW, LEADER.person_id)
    found = replace(request(), kind=Kind.incident, reporter_id=WORKER.person_id)
    spot = transition(found, cmd("self_handle", WORKER, result="当场处理")).state
    assert (spot.self_handled, spot.handled_at, spot.accepted_at) == (True, NOW, None)


def test_resume_moves_the_running_stage_deadlines_too():
    calendar = WorkingCalendar()
    monday = datetime(2026, 12, 7, 10, 0, tzinfo=CST)
    tuesday = datetime(2026, 12, 8, 10, 0, tzinfo=CST)  # 7 working hours later
    deadline = datetime(2026, 12, 9, 12, 0, tzinfo=CST)
    paused = request(status=Status.dispatched, assignee=WORKER.person_id, due_at=deadline)
    paused = replace(paused, paused_at=monday, handle_due_at=deadline, dispatched_at=monday)
    paused = replace(paused, dispatch_due_at=monday)  # met already: it stays
    t = transition(paused, cmd("resume", LEADER, tuesday, calendar=calendar))
    later = due_time(deadline, timedelta(hours=7), calendar)
    assert (t.state.handle_due_at, t.state.dispatch_due_at) == (later, monday)
    assert t.event["handle_due_at"] == later.isoformat() and "dispatch_due_at" not in t.event
