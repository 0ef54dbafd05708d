"""Who may do what to a case: every action for every kind of actor, in scope and out of it.

The expected answers are written out by hand below; the test compares ``may`` with them for
every (action, case, actor), so that a widened or narrowed rule shows up as a named difference.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from backend.cases.allowed import can
from backend.cases.policy import RULES, actions_for, check, mask_phone, may, may_merge_into
from backend.cases.states import (
    FINAL,
    Action,
    CaseState,
    Kind,
    Pending,
    Status,
    WorkflowError,
)
from backend.core.roles import Role
from backend.core.territory import ACTOR_ROLES, ANONYMOUS_ACTOR, SYSTEM_ACTOR, Territory

GRID = "15030200100101"
GRID_B = "15030200100102"  # the next grid of the same community
COMMUNITY = "150302001001"
STREET = "150302001"
DISTRICT = "150302"
CITY = "150300"

ACTORS: dict[str, Territory] = {
    "reporter": Territory(1, "resident"),  # the resident who filed the request
    "resident": Territory(11, "resident", area_code=COMMUNITY),  # a neighbour: home area, no rights
    "worker": Territory(2, "grid_worker", grid_codes={GRID}),
    "worker2": Territory(12, "grid_worker", grid_codes={GRID}),  # same grid, not the assignee
    "worker_out": Territory(22, "grid_worker", grid_codes={GRID_B}),
    "police": Territory(4, "grid_police", grid_codes={GRID}),
    "police_out": Territory(14, "grid_police", grid_codes={GRID_B}),
    "leader": Territory(3, "grid_leader", grid_codes={GRID}),
    "leader_out": Territory(13, "grid_leader", grid_codes={GRID_B}),
    "community": Territory(5, "community_staff", area_code=COMMUNITY),
    "community_out": Territory(15, "community_staff", area_code="150302001002"),
    "street": Territory(6, "street_staff", area_code=STREET),
    "street_out": Territory(16, "street_staff", area_code="150302002"),
    "district": Territory(7, "district_admin", area_code=DISTRICT),
    "district_out": Territory(17, "district_admin", area_code="150303"),
    "city": Territory(8, "city_admin", area_code=CITY),
    "city_out": Territory(18, "city_admin", area_code="150200"),  # 包头
    "dept": Territory(9, "department", department="cg"),  # 城管
    "dept_other": Territory(19, "department", department="zj"),  # 住建
    # Enters callers' requests and rates for them (the case's anonymous reporter): no workflow
    # action of their own, even in their centre's area.
    "hotline": Territory(10, "hotline_operator", area_code=CITY),
    "system": SYSTEM_ACTOR,
    # Holds a tracking code; the four cases below all have a signed-in reporter.
    "anonymous": ANONYMOUS_ACTOR,
}

# A status from which the workflow allows each action: the policy is asked about a case
# where the question makes sense.
STATUS_FOR: dict[Action, Status] = {
    Action.accept: Status.submitted,
    Action.reject: Status.submitted,
    Action.dispatch: Status.accepted,
    Action.start: Status.dispatched,
    Action.handle: Status.handling,
    Action.self_handle: Status.submitted,
    Action.verify: Status.handled,
    Action.rework: Status.handled,
    Action.close: Status.verified,
    Action.escalate: Status.handling,
    Action.withdraw: Status.submitted,
    Action.rate: Status.closed,
    Action.reopen: Status.closed,
    Action.request_return: Status.dispatched,
    Action.request_extension: Status.handling,
    Action.approve_extension: Status.handling,
    Action.refuse_extension: Status.handling,
    Action.request_shelve: Status.accepted,
    Action.unshelve: Status.shelved,
    Action.request_void: Status.accepted,
    Action.approve: Status.accepted,
    Action.refuse: Status.accepted,
    Action.verify_on_site: Status.handled,
    Action.remind: Status.accepted,
    Action.supervise: Status.accepted,
    Action.transfer: Status.accepted,
    Action.accept_transfer: Status.accepted,
    Action.refuse_transfer: Status.accepted,
    Action.add_department: Status.dispatched,
    Action.merge: Status.accepted,
    Action.pause: Status.accepted,
    Action.resume: Status.dispatched,
}
# The request that approve and refuse answer in ``test_who_may``: the grid leader's void.
VOID_BY_THE_LEADER = Pending(Action.request_void, 3, "重复上报")

ASSIGNED = {Status.dispatched, Status.handling, Status.handled, Status.verified, Status.closed}
NOW = datetime(2025, 5, 6, 9, tzinfo=timezone(timedelta(hours=8)))

# The four cases: (kind, owner, reporter, assignee once dispatched, department once dispatched)
SCENARIOS: dict[str, tuple[Kind, str, int, int | None, str | None]] = {
    # a resident's dispute in the grid, dispatched to the grid's police officer
    "request": (Kind.request, GRID, 1, 4, None),
    # a resident's request escalated to the street and dispatched to 城管
    "street": (Kind.request, STREET, 1, None, "cg"),
    # an incident a worker found and handles
    "worker_incident": (Kind.incident, GRID, 2, 2, None),
    # an incident the grid leader found and handled on the spot
    "leader_incident": (Kind.incident, GRID, 3, 3, None),
}


def case(scenario: str, status: Status) -> CaseState:
    kind, owner, reporter, assignee, department = SCENARIOS[scenario]
    assigned = status in ASSIGNED
    return CaseState(
        kind,
        status,
        owner,
        reporter_id=reporter,
        assignee=assignee if assigned else None,
        department=department if assigned else None,
        due_at=NOW,
        closed_at=NOW if status is Status.closed else None,
        shelved_until=date(2025, 8, 1) if status is Status.shelved else None,
        grid_code=GRID,  # where all four happened
    )


MANAGERS_OF_GRID = {"leader", "community", "street", "district", "city"}
MANAGERS_OF_STREET = {"street", "district", "city"}
ABOVE_THE_LEADER = {"community", "street", "district", "city"}
GRID_STAFF = {"worker", "worker2", "police", "leader"}
RECEIVERS = {"leader_out", "community", "street", "district", "city"}  # managers of GRID_B


def both(grid: set[str], street: set[str]) -> dict[str, set[str]]:
    """The same answer for the three grid cases, another for the street case."""
    return {"request": grid, "street": street, "worker_incident": grid, "leader_incident": grid}


# Who may, per action and case; every actor not named may not.
EXPECTED: dict[str, dict[str, set[str]]] = {
    "accept": both(MANAGERS_OF_GRID, MANAGERS_OF_STREET),
    "reject": both(MANAGERS_OF_GRID, MANAGERS_OF_STREET),
    "dispatch": both(MANAGERS_OF_GRID, MANAGERS_OF_STREET),
    "start": {
        "request": {"police"},
        "street": {"dept"},
        "worker_incident": {"worker"},
        "leader_incident": {"leader"},
    },
    "handle": {
        "request": {"police"},
        "street": {"dept"},
        "worker_incident": {"worker"},
        "leader_incident": {"leader"},
    },
    "self_handle": {
        "request": set(),  # a resident's request is nobody's to self-handle
        "street": set(),
        "worker_incident": {"worker"},
        "leader_incident": {"leader"},
    },
    # Nobody verifies their own work: the leader's own incident goes to the community.
    "verify": {
        "request": MANAGERS_OF_GRID,
        "street": MANAGERS_OF_STREET,
        "worker_incident": MANAGERS_OF_GRID,
        "leader_incident": ABOVE_THE_LEADER,
    },
    "rework": both(MANAGERS_OF_GRID, MANAGERS_OF_STREET),
    "close": both(MANAGERS_OF_GRID, MANAGERS_OF_STREET),
    "escalate": both(MANAGERS_OF_GRID | {"system"}, MANAGERS_OF_STREET | {"system"}),
    "withdraw": {
        "request": {"reporter"},
        "street": {"reporter"},
        "worker_incident": {"worker"},
        "leader_incident": {"leader"},
    },
    "rate": {
        "request": {"reporter"},
        "street": {"reporter"},
        "worker_incident": set(),  # residents rate; workers do not rate their own reports
        "leader_incident": set(),
    },
    "reopen": {
        "request": {"reporter"},
        "street": {"reporter"},
        "worker_incident": set(),
        "leader_incident": set(),
    },
    # The handler asks; the owner's managers decide (approve, refuse).
    "request_return": {
        "request": {"police"},
        "street": {"dept"},
        "worker_incident": {"worker"},
        "leader_incident": {"leader"},
    },
    "request_extension": {
        "request": {"police"},
        "street": {"dept"},
        "worker_incident": {"worker"},
        "leader_incident": {"leader"},
    },
    # Nobody grants their own extension either.
    "approve_extension": {
        "request": MANAGERS_OF_GRID,
        "street": MANAGERS_OF_STREET,
        "worker_incident": MANAGERS_OF_GRID,
        "leader_incident": ABOVE_THE_LEADER,
    },
    "refuse_extension": both(MANAGERS_OF_GRID, MANAGERS_OF_STREET),
    "request_shelve": both(MANAGERS_OF_GRID, MANAGERS_OF_STREET),
    "unshelve": both(MANAGERS_OF_GRID, MANAGERS_OF_STREET),
    "request_void": both(MANAGERS_OF_GRID, MANAGERS_OF_STREET),
    # A void is decided above the level that accepted the case (its owner).
    "approve": both(ABOVE_THE_LEADER, {"district", "city"}),
    "refuse": both(ABOVE_THE_LEADER, {"district", "city"}),
    # The staff of the grid where it happened, whoever owns the case (the street case too),
    # but not the handler.
    "verify_on_site": {
        "request": GRID_STAFF - {"police"},
        "street": GRID_STAFF,
        "worker_incident": GRID_STAFF - {"worker"},
        "leader_incident": GRID_STAFF - {"leader"},
    },
    # 督办: a level above the owner.
    "supervise": both(ABOVE_THE_LEADER, {"district", "city"}),
    # 催办: the signed-in reporter, or a level above the owner.
    "remind": {
        "request": ABOVE_THE_LEADER | {"reporter"},
        "street": {"district", "city", "reporter"},
        "worker_incident": ABOVE_THE_LEADER | {"worker"},
        "leader_incident": ABOVE_THE_LEADER | {"leader"},
    },
    # 移交 by the owner's managers; answered by the managers of the target (GRID_B below),
    # whoever owned it.
    "transfer": both(MANAGERS_OF_GRID, MANAGERS_OF_STREET),
    "accept_transfer": both(RECEIVERS, RECEIVERS),
    "refuse_transfer": both(RECEIVERS, RECEIVERS),
    "add_department": both(MANAGERS_OF_GRID, MANAGERS_OF_STREET),
    "merge": both(MANAGERS_OF_GRID, MANAGERS_OF_STREET),
    # 挂起 asked as a shelving is (here of an accepted case: by its managers), resumed by them.
    "pause": both(MANAGERS_OF_GRID, MANAGERS_OF_STREET),
    "resume": both(MANAGERS_OF_GRID, MANAGERS_OF_STREET),
}


def test_the_expected_table_is_complete():
    assert set(EXPECTED) == {a.value for a in Action} == {a.value for a in RULES}
    assert all(set(row) == set(SCENARIOS) for row in EXPECTED.values())
    named = set().union(*(who for row in EXPECTED.values() for who in row.values()))
    assert named <= set(ACTORS)
    # Every role is among the actors, in scope and out of it.
    assert {a.role for a in ACTORS.values()} == set(ACTOR_ROLES)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("action", [a.value for a in Action])
def test_who_may(action, scenario):
    state = case(scenario, STATUS_FOR[Action(action)])
    if action in ("approve", "refuse"):
        state = replace(state, pending=VOID_BY_THE_LEADER)
    if action in ("accept_transfer", "refuse_transfer"):
        state = replace(state, transfer_to=GRID_B)
    allowed = {name for name, actor in ACTORS.items() if may(actor, action, state)}
    expected = EXPECTED[action][scenario]
    assert allowed == expected, (
        f"{action} on the {scenario} case: "
        f"wrongly allowed {sorted(allowed - expected)}, "
        f"wrongly refused {sorted(expected - allowed)}"
    )


@pytest.mark.parametrize("status", sorted(FINAL))
def test_nobody_acts_on_a_final_case(status):
    for scenario in SCENARIOS:
        state = case(scenario, status)
        for name, actor in ACTORS.items():
            for action in Action:
                assert not may(actor, action, state), (status, scenario, name, action)


def test_on_a_closed_case_only_the_reporter_rates_and_reopens():
    state = case("request", Status.closed)
    allowed = {
        (name, action.value)
        for name, actor in ACTORS.items()
        for action in Action
        if may(actor, action, state)
    }
    assert allowed == {("reporter", "rate"), ("reporter", "reopen")}


def test_check_raises_forbidden():
    state = case("request", Status.submitted)
    check(ACTORS["leader"], Action.accept, state)  # no error
    with pytest.raises(WorkflowError) as caught:
        check(ACTORS["leader_out"], Action.accept, state)
    e = caught.value
    assert (e.code, e.status, e.details) == (
        "forbidden",
        403,
        {"action": "accept", "role": "grid_leader"},
    )


def test_the_assignee_acts_wherever_the_case_is_owned():
    # A community case dispatched to a worker of one of its grids.
    state = CaseState(
        Kind.request, Status.dispatched, COMMUNITY, reporter_id=1, assignee=2, due_at=NOW
    )
    worker = ACTORS["worker"]
    assert not worker.covers(COMMUNITY)
    assert may(worker, Action.start, state) and may(worker, Action.request_extension, state)
    assert not may(worker, Action.close, state)
    assert not may(ACTORS["worker2"], Action.start, state)


def test_a_resident_is_never_an_assignee():
    state = replace(case("request", Status.dispatched), assignee=1)
    assert not may(ACTORS["reporter"], Action.start, state)


def test_police_self_handle_only_their_own_incident_in_their_grid():
    def incident(reporter: int, owner: str = GRID) -> CaseState:
        return CaseState(Kind.incident, Status.submitted, owner, reporter_id=reporter)

    cases = [
        # (actor, case, may self-handle)
        ("police", incident(4), True),
        ("police", incident(2), False),  # someone else's report
        ("police_out", incident(14), False),  # their own, in a grid that is not theirs
        ("worker_out", incident(22, GRID_B), True),
        ("community", incident(5), False),  # centre staff do not self-handle
        ("dept", incident(9, STREET), False),
    ]
    for name, state, expected in cases:
        assert may(ACTORS[name], Action.self_handle, state) is expected, name


def test_a_department_may_be_limited_to_an_area():
    haibowan_cg = Territory(29, "department", department="cg", area_code=DISTRICT)
    here = case("street", Status.dispatched)
    wuda = replace(here, owner_code="150304001")
    assert may(haibowan_cg, Action.start, here)
    assert not may(haibowan_cg, Action.start, wuda)
    assert may(ACTORS["dept"], Action.start, wuda)  # a city-wide department
    assert not may(ACTORS["dept"], Action.start, replace(here, department=None))


def test_the_holder_of_a_tracking_code_is_the_reporter_of_an_anonymous_case():
    submitted = CaseState(Kind.request, Status.submitted, GRID)  # no signed-in reporter
    closed = replace(submitted, status=Status.closed, closed_at=NOW)
    assert actions_for(ACTORS["anonymous"], submitted) == [Action.withdraw]
    assert actions_for(ACTORS["anonymous"], closed) == [Action.rate, Action.reopen]
    for name, actor in ACTORS.items():
        if name != "anonymous":
            assert not {Action.withdraw, Action.rate, Action.reopen} & set(
                actions_for(actor, submitted) + actions_for(actor, closed)
            ), name
    assert mask_phone(PHONE, ACTORS["anonymous"], case("request", Status.handling)) == MASKED


def test_supervision_reaches_every_lower_level():
    # Higher levels act on lower cases in their area; lower levels never on higher cases.
    for owner, managers in [
        (GRID, {"leader", "community", "street", "district", "city"}),
        (COMMUNITY, {"community", "street", "district", "city"}),
        (STREET, {"street", "district", "city"}),
        (DISTRICT, {"district", "city"}),
        (CITY, {"city"}),
    ]:
        state = CaseState(Kind.request, Status.submitted, owner, reporter_id=1)
        allowed = {n for n, a in ACTORS.items() if may(a, Action.accept, state)}
        assert allowed == managers, owner


@pytest.mark.parametrize("action", [Action.request_return, Action.request_shelve])
def test_a_return_or_shelving_is_decided_by_the_owners_managers_but_not_the_one_who_asked(action):
    asked = Pending(action, 4, "不归本岗", date(2025, 8, 1))
    state = replace(case("request", Status.handling), pending=asked)
    for answer in (Action.approve, Action.refuse):
        allowed = {name for name, actor in ACTORS.items() if may(actor, answer, state)}
        assert allowed == MANAGERS_OF_GRID
    by_the_leader = replace(state, pending=replace(asked, by=3))
    assert not may(ACTORS["leader"], Action.approve, by_the_leader)


def test_a_city_case_is_voided_by_another_city_admin():
    state = CaseState(Kind.request, Status.accepted, CITY, reporter_id=1, due_at=NOW)
    asked = replace(state, pending=Pending(Action.request_void, 8, "重复"))
    other = Territory(28, "city_admin", area_code=CITY)
    assert may(other, Action.approve, asked)
    assert not may(ACTORS["city"], Action.approve, asked)


def test_actions_for_combine_workflow_and_policy():
    state = case("request", Status.handling)
    assert actions_for(ACTORS["police"], state) == [
        Action.handle,
        Action.request_return,
        Action.request_extension,
        Action.request_shelve,
        Action.pause,
    ]
    assert actions_for(ACTORS["leader"], state) == [
        Action.escalate,
        Action.request_shelve,
        Action.request_void,
        Action.verify_on_site,
        Action.merge,
        Action.pause,
    ]
    assert actions_for(ACTORS["reporter"], case("request", Status.submitted)) == [
        Action.withdraw,
        Action.remind,
    ]
    assert actions_for(ACTORS["resident"], case("request", Status.submitted)) == []


def test_actions_for_answers_as_each_action_asked_of_the_workflow_and_the_policy():
    # actions_for keeps the workflow's answer per shape of state (allowed._shape): every
    # shape, twice (the second time from the kept answer), against each action asked alone.
    flags = {
        "paused_at": NOW,
        "transfer_to": GRID_B,
        "pending": Pending(Action.request_return, 3, "派错了"),
        "department": "cg",
        "rating": 4,
        "extension_requested": timedelta(days=1),
    }
    actors = [ACTORS[name] for name in ("reporter", "worker", "police", "leader", "leader_out")]
    actors += [ACTORS[name] for name in ("street", "city", "dept", "system", "anonymous")]
    for status, scenario in itertools.product(Status, SCENARIOS):
        for chosen in itertools.product((False, True), repeat=len(flags)):
            changes = {k: v for (k, v), on in zip(flags.items(), chosen, strict=True) if on}
            state = replace(case(scenario, status), **changes)
            for actor in actors:
                expected = [a for a in Action if can(a, state) and may(actor, a, state)]
                assert actions_for(actor, state) == expected, (status, scenario, changes, actor)
                assert actions_for(actor, state) == expected


# ---------------------------------------------------------------------------------------------
# covers()


@pytest.mark.parametrize(
    ("actor", "code", "expected"),
    [
        ("worker", GRID, True),
        ("worker", GRID_B, False),
        ("worker", COMMUNITY, False),  # a grid role covers grids, not the area above
        ("leader", GRID, True),
        ("leader_out", GRID, False),
        ("community", GRID, True),
        ("community", GRID_B, True),
        ("community", COMMUNITY, True),
        ("community", STREET, False),
        ("community_out", GRID, False),
        ("street", GRID, True),
        ("street", STREET, True),
        ("street", DISTRICT, False),
        ("street_out", GRID, False),
        ("district", "15030200200301", True),
        ("district", "15030300100101", False),
        ("district_out", "15030300100101", True),
        ("district", CITY, False),
        ("city", "15030400100101", True),
        ("city", CITY, True),
        ("city", "150202", False),
        ("city_out", GRID, False),
        ("city_out", "150202", True),
        ("resident", COMMUNITY, False),  # a home area grants nothing
        ("reporter", GRID, False),
        ("dept", GRID, False),  # departments act by department, not territory
        ("system", GRID, True),
    ],
)
def test_covers(actor, code, expected):
    assert ACTORS[actor].covers(code) is expected


def test_covers_with_several_grids():
    both_grids = Territory(30, "grid_worker", grid_codes=[GRID, GRID_B])
    assert both_grids.covers(GRID) and both_grids.covers(GRID_B)
    assert not Territory(31, "grid_worker").covers(GRID)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"person_id": 1, "role": "mayor"},
        {"person_id": None, "role": "resident"},
        {"person_id": 1, "role": "system"},
        {"person_id": 1, "role": "anonymous"},
        {"person_id": 5, "role": "community_staff", "area_code": STREET},
        {"person_id": 8, "role": "city_admin", "area_code": DISTRICT},
        {"person_id": 7, "role": "district_admin", "area_code": CITY},
        {"person_id": 2, "role": "grid_worker", "grid_codes": {COMMUNITY}},
    ],
)
def test_actors_must_be_consistent(kwargs):
    with pytest.raises(ValueError):
        Territory(**kwargs)


def test_staff_without_an_area_or_a_department_cover_nothing():
    """An account whose area or department is missing is read like any other (every signed-in
    request carries its territory); it covers, and serves, nothing."""
    community = Territory(5, "community_staff")
    dept = Territory(9, "department", area_code=DISTRICT)
    assert not community.covers(GRID) and not dept.serves("cg", GRID)


def test_actor_takes_role_members():
    actor = Territory(3, Role.grid_leader, grid_codes=[GRID])
    assert actor.role == "grid_leader" and actor.grid_codes == frozenset({GRID})


# ---------------------------------------------------------------------------------------------
# mask_phone()

PHONE = "13812345678"
MASKED = "138****5678"


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("reporter", PHONE),
        ("resident", MASKED),
        ("police", PHONE),  # the assignee
        ("worker", MASKED),  # same grid, not assigned
        ("worker_out", MASKED),
        ("leader", PHONE),
        ("leader_out", MASKED),
        ("community", PHONE),
        ("community_out", MASKED),
        ("street", PHONE),
        ("street_out", MASKED),
        ("district", PHONE),
        ("district_out", MASKED),
        ("city", PHONE),
        ("city_out", MASKED),
        ("dept", MASKED),
        ("dept_other", MASKED),
        ("system", MASKED),
    ],
)
def test_mask_phone(actor, expected):
    assert mask_phone(PHONE, ACTORS[actor], case("request", Status.handling)) == expected


def test_department_staff_see_the_phone_only_as_the_named_assignee():
    state = case("street", Status.handling)
    assert mask_phone(PHONE, ACTORS["dept"], state) == MASKED
    named = replace(state, assignee=ACTORS["dept"].person_id)
    assert mask_phone(PHONE, ACTORS["dept"], named) == PHONE


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        (None, None),
        ("0473-3123456", "047****3456"),
        ("+8613812345678", "138****5678"),
        ("0473312345", "****"),  # 10 characters: showing 7 would give it away
        ("12345", "****"),
        ("", "****"),
    ],
)
def test_mask_phone_formats(phone, expected):
    assert mask_phone(phone, ACTORS["resident"], case("request", Status.handling)) == expected


def test_a_joined_department_answers_for_its_part_and_the_lead_handles():
    state = replace(case("street", Status.handling), departments=("zj",))
    assert may(ACTORS["dept_other"], Action.request_extension, state)
    assert not may(ACTORS["dept_other"], Action.handle, state)
    assert may(ACTORS["dept"], Action.handle, state)


def test_a_paused_case_or_one_waiting_for_its_transfer_allows_little():
    paused = replace(case("request", Status.handling), paused_at=NOW)
    assert actions_for(ACTORS["leader"], paused) == [Action.resume]
    assert actions_for(ACTORS["police"], paused) == []
    sent = replace(case("request", Status.accepted), transfer_to=GRID_B)
    assert actions_for(ACTORS["leader"], sent) == []
    assert actions_for(ACTORS["leader_out"], sent) == [
        Action.accept_transfer,
        Action.refuse_transfer,
    ]
    assert actions_for(ACTORS["reporter"], sent) == [Action.withdraw, Action.remind]


def test_a_duplicate_goes_into_an_open_case_of_the_actors_territory():
    main = case("request", Status.handling)
    assert may_merge_into(ACTORS["leader"], main)
    assert not may_merge_into(ACTORS["leader_out"], main)
    assert not may_merge_into(ACTORS["leader"], replace(main, merged_into=7))
    assert not may_merge_into(ACTORS["leader"], case("request", Status.closed))
    # A street case that happened in the grid: the grid's leader may name it.
    assert may_merge_into(ACTORS["leader"], case("street", Status.handling))
