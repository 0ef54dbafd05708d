"""Who may do what to a case, and who sees a reporter's phone number.

``may`` answers *who* and ``allowed.can`` *when* (from which status); ``workflow.transition``
asks ``can`` (409), then ``check`` (403); ``actions_for`` combines them into client buttons.

Scope is by code (see ``actors``). Higher levels may act directly on cases owned at any lower
level in their area (supervision, 督办): design.md has the community and street centres
dispatching across grids, and a street that waited for a grid to escalate could not step in on
an overdue case. Taking a case over still goes by escalation, one level at a time.

"Manage" below is: accept, reject, dispatch, verify, rework, close, escalate, request_shelve,
unshelve, request_void, approve_extension, refuse_extension, and approve or refuse a pending
return, shelving or pause. A pending void is approved or refused by a manager of a level above the
case's owner (which accepted it: escalation re-accepts a case at the level it moves to), and
at the city by another city admin.

=====================  =========================================  ================================
role                   may                                        on
=====================  =========================================  ================================
resident               withdraw (until it is closed)              their own case
                       rate, reopen                               their own case
anonymous              withdraw, rate, reopen                     the case whose tracking code
                                                                  they hold (reporter_id None)
grid_worker,           start, handle, request_extension,          cases assigned to them
grid_police            request_return, request_shelve
                       self_handle                                their own incident, in their grid
                       withdraw                                   their own case
grid_leader            manage                                     cases owned by one of their grids
                       start, handle, request_extension           cases assigned to them
                       self_handle, withdraw                      as a grid worker
community_staff,       manage                                     cases owned inside their area,
street_staff,                                                     at their level or below
district_admin,        start, handle, request_extension           cases assigned to them
city_admin             withdraw                                   their own case (a task they sent)
grid_worker,           verify_on_site (核查 on the spot, with a   cases that happened in their
grid_police,           photo)                                     grid, whoever owns them, but
grid_leader                                                       not their own work
anyone above the       remind (催办)                              open cases owned below them;
owner, the reporter                                               the reporter their own
anyone above the       supervise (督办)                           open cases owned below them
owner
manager of the owner   transfer (移交), add_department (联办),      cases they manage; a merge's
                       merge (并案, into a main case they manage  main case is checked by
                       or that happened in their territory),      ``may_merge_into``
                       resume
manager of the target  accept_transfer, refuse_transfer           a case transferred to a grid
                                                                  or area they cover
the handler, a manager pause (挂起: a request, decided as a       cases they work on or manage
                       shelving is)
joined department      request_extension (their part's time)      cases their department joined
department             start, handle, request_extension,          cases dispatched to their
                       request_return, request_shelve
                                                                  department (inside area_code,
                                                                  if the actor has one)
system                 escalate                                   any case (the overdue scheduler)
=====================  =========================================  ================================

And for everybody:

- nobody verifies their own work or approves their own extension: not the assignee, whatever
  their role (a leader's self-handled incident is verified by the community); nobody approves
  or refuses a request (return, shelve, void) they made;
- the assignee may act wherever the case is owned (a community case may be dispatched to a grid
  worker); whether a dispatch's assignee belongs to the owner's grid or area is the caller's to
  check, as this module knows nobody but the actor;
- nobody acts on a rejected, withdrawn or voided case, and on a closed one only its reporter
  rates and reopens.

>>> leader = Territory(3, "grid_leader", grid_codes={"15030200100101"})
>>> case = CaseState("request", "submitted", "15030200100101", reporter_id=1)
>>> may(leader, Action.accept, case), may(Territory(1, "resident"), Action.accept, case)
(True, False)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from backend.cases.allowed import allowed_actions
from backend.cases.states import FINAL, OPEN, Action, CaseState, Status, WorkflowError
from backend.core.areas import Level, rank
from backend.core.phones import masked_name, masked_phone
from backend.core.roles import AREA_ROLES, GRID_ROLES, MANAGERS, Role
from backend.core.territory import ANONYMOUS, SYSTEM, Territory

# ---------------------------------------------------------------------------------------------
# The rules, one small predicate each

Rule = Callable[[Territory, CaseState], bool]


def _is_reporter(actor: Territory, state: CaseState) -> bool:
    if actor.role == ANONYMOUS:
        return state.reporter_id is None
    return actor.person_id is not None and actor.person_id == state.reporter_id


def _is_assignee(actor: Territory, state: CaseState) -> bool:
    # Residents are never assignees; a stray id match must not let one in.
    return (
        actor.role != Role.resident
        and actor.person_id is not None
        and actor.person_id == state.assignee
    )


def _manages(actor: Territory, state: CaseState) -> bool:
    return actor.role in MANAGERS and actor.covers(state.owner_code)


def _manages_others_work(actor: Territory, state: CaseState) -> bool:
    return _manages(actor, state) and not _is_assignee(actor, state)


def _escalates(actor: Territory, state: CaseState) -> bool:
    return actor.role == SYSTEM or _manages(actor, state)


def _of_the_department(actor: Territory, state: CaseState) -> bool:
    return actor.serves(state.department, state.owner_code)


def _works_on(actor: Territory, state: CaseState) -> bool:
    return _is_assignee(actor, state) or _of_the_department(actor, state)


def _of_a_joined_department(actor: Territory, state: CaseState) -> bool:
    return any(actor.serves(d, state.owner_code) for d in state.departments)


def _works_on_a_part(actor: Territory, state: CaseState) -> bool:
    # 联办: a joined department answers for its part's time; the result is the lead's.
    return _works_on(actor, state) or _of_a_joined_department(actor, state)


def _receives(actor: Territory, state: CaseState) -> bool:
    # The managers of the grid or area a transfer goes to, as they would manage it there.
    target = state.transfer_to
    return target is not None and actor.role in MANAGERS and actor.covers(target)


def _self_handles(actor: Territory, state: CaseState) -> bool:
    return (
        actor.role in GRID_ROLES and _is_reporter(actor, state) and actor.covers(state.owner_code)
    )


def _requests_shelving(actor: Territory, state: CaseState) -> bool:
    return _works_on(actor, state) or _manages(actor, state)


def _level_of(actor: Territory) -> Level | None:
    return Level.grid if actor.role == Role.grid_leader else AREA_ROLES.get(actor.role)


def _above_the_owner(actor: Territory, state: CaseState) -> bool:
    level = _level_of(actor)
    if level is None or not _manages(actor, state):
        return False
    # Nobody is above the city: there another city admin than the one who asked decides.
    return rank(level) > rank(state.level) or level is state.level is Level.city


def _decides(actor: Territory, state: CaseState) -> bool:
    pending = state.pending
    if pending is None or (actor.person_id is not None and actor.person_id == pending.by):
        return False
    if pending.action is Action.request_void:
        return _above_the_owner(actor, state)
    return _manages(actor, state)


def _of_the_grid(actor: Territory, state: CaseState) -> bool:
    # The grid where it happened, whoever owns the case now (after an escalation too); not
    # the handler, who would be verifying their own work.
    return (
        actor.role in GRID_ROLES
        and state.grid_code is not None
        and actor.covers(state.grid_code)
        and not _is_assignee(actor, state)
    )


def _reminds(actor: Territory, state: CaseState) -> bool:
    # A tracking code's holder follows the case; urging it on needs a name the owner can answer.
    signed_in_reporter = actor.role != ANONYMOUS and _is_reporter(actor, state)
    return signed_in_reporter or _above_the_owner(actor, state)


def _resident_reporter(actor: Territory, state: CaseState) -> bool:
    return actor.role in (Role.resident, ANONYMOUS) and _is_reporter(actor, state)


RULES: Mapping[Action, Rule] = {
    Action.accept: _manages,
    Action.reject: _manages,
    Action.dispatch: _manages,
    Action.start: _works_on,
    Action.handle: _works_on,
    Action.self_handle: _self_handles,
    Action.verify: _manages_others_work,
    Action.rework: _manages,
    Action.close: _manages,
    Action.escalate: _escalates,
    Action.withdraw: _is_reporter,
    Action.rate: _resident_reporter,
    Action.reopen: _resident_reporter,
    Action.request_return: _works_on,
    Action.request_extension: _works_on_a_part,
    Action.approve_extension: _manages_others_work,
    Action.refuse_extension: _manages,
    Action.request_shelve: _requests_shelving,
    Action.unshelve: _manages,
    Action.request_void: _manages,
    Action.approve: _decides,
    Action.refuse: _decides,
    Action.verify_on_site: _of_the_grid,
    Action.remind: _reminds,
    Action.supervise: _above_the_owner,
    Action.transfer: _manages,
    Action.accept_transfer: _receives,
    Action.refuse_transfer: _receives,
    Action.add_department: _manages,
    Action.merge: _manages,
    Action.pause: _requests_shelving,
    Action.resume: _manages,
}

_AFTER_CLOSING = frozenset({Action.rate, Action.reopen})


# ---------------------------------------------------------------------------------------------
# The public functions


def may(actor: Territory, action: Action | str, state: CaseState) -> bool:
    """Whether ``actor`` may take ``action`` on ``state``, as far as *who* goes.

    >>> worker = Territory(2, "grid_worker", grid_codes={"15030200100101"})
    >>> case = CaseState("request", "dispatched", "15030200100101", assignee=2)
    >>> may(worker, "start", case), may(worker, "close", case)
    (True, False)
    """
    if not isinstance(action, Action):  # a member already: every button listed comes here
        action = Action(action)
    if state.status in FINAL:
        return False
    if state.status is Status.closed and action not in _AFTER_CLOSING:
        return False
    return RULES[action](actor, state)


def check(actor: Territory, action: Action | str, state: CaseState) -> None:
    """Raise WorkflowError("forbidden") unless ``may(actor, action, state)``.

    >>> case = CaseState("request", "submitted", "15030200100101", reporter_id=1)
    >>> check(Territory(11, "resident"), "withdraw", case)
    Traceback (most recent call last):
    ...
    backend.cases.states.WorkflowError: a resident may not withdraw this case
    """
    if not may(actor, action, state):
        action = Action(action)
        raise WorkflowError(
            "forbidden",
            f"a {actor.role} may not {action} this case",
            action=action.value,
            role=actor.role,
        )


def may_merge_into(actor: Territory, main: CaseState) -> bool:
    """Whether ``actor``, who may merge a duplicate, may merge it into ``main``: an open case
    that is no duplicate itself, that they manage or that happened in their territory.

    >>> street = Territory(6, "street_staff", area_code="150302001")
    >>> may_merge_into(street, CaseState("request", "handling", "15030200100101"))
    True
    >>> may_merge_into(street, CaseState("request", "handling", "15030300100101"))
    False
    """
    if main.status not in OPEN or main.merged_into is not None:
        return False
    return actor.covers(main.owner_code) or (
        main.grid_code is not None and actor.covers(main.grid_code)
    )


def actions_for(actor: Territory, state: CaseState) -> list[Action]:
    """The actions ``actor`` can take on ``state`` now, in the order of ``Action``.

    Payload checks and the reopen window are not looked at: a button may still be refused.

    >>> leader = Territory(3, "grid_leader", grid_codes={"15030200100101"})
    >>> [a.value for a in actions_for(leader, CaseState("request", "verified", "15030200100101"))]
    ['close', 'escalate', 'request_void']
    """
    status = state.status
    if status in FINAL:
        return []
    allowed = allowed_actions(state)
    if status is Status.closed:
        allowed = tuple(a for a in allowed if a in _AFTER_CLOSING)
    # ``may`` for each, without asking again of every action what only the status decides.
    return [a for a in allowed if RULES[a](actor, state)]


def sees_contact(actor: Territory, state: CaseState) -> bool:
    """Whether the actor needs the reporter's phone: the reporter, the assignee, and the
    managers (grid leader, centre staff, admins) of the owning scope.

    Department staff reach the reporter through the assignee or the owner, and see it only
    when they are the named assignee.
    """
    return (
        _is_reporter(actor, state)
        or _is_assignee(actor, state)
        or (actor.role in MANAGERS and actor.covers(state.owner_code))
    )


def mask_phone(phone: str | None, actor: Territory, state: CaseState) -> str | None:
    """The phone as ``actor`` may see it: whole, or masked (backend/core/phones.py).

    >>> case = CaseState("request", "accepted", "15030200100101", reporter_id=1)
    >>> mask_phone("13812345678", Territory(11, "resident"), case)
    '138****5678'
    >>> mask_phone("13812345678", Territory(1, "resident"), case)
    '13812345678'
    """
    if phone is None or sees_contact(actor, state):
        return phone
    return masked_phone(phone)


def shown_name(name: str, person_id: int, viewer: Territory, state: CaseState) -> str:
    """The name of whoever took a step of the case, as ``viewer`` may see it on its timeline.

    Staff see each other whole (they work together on it) and the reporter whole when they
    may have the reporter's phone; a resident or a tracking code's holder sees their own name
    and, of everyone else, the family name only (``王**``) beside the post.

    >>> case = CaseState("request", "handled", "15030200100101", reporter_id=1, assignee=2)
    >>> leader = Territory(3, "grid_leader", grid_codes={"15030200100101"})
    >>> shown_name("王小明", 2, leader, case), shown_name("李四", 1, leader, case)
    ('王小明', '李四')
    >>> shown_name("王小明", 2, Territory(1, "resident"), case)
    '王**'
    >>> shown_name("李四", 1, Territory(1, "resident"), case)
    '李四'
    >>> shown_name("李四", 1, Territory(9, "department", department="cg"), case)
    '李*'
    """
    if viewer.person_id is not None and viewer.person_id == person_id:
        return name
    if viewer.role in (Role.resident, ANONYMOUS):
        return masked_name(name)
    if person_id == state.reporter_id and not sees_contact(viewer, state):
        return masked_name(name)
    return name
