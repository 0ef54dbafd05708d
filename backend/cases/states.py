"""The words of the case workflow: kinds, statuses and actions, the state of a case, a command
and its outcome, and the error a refused command raises.

Types only: from which status each action may be taken is ``allowed``'s, what each action does is
``actions``', and ``workflow.transition`` puts them together with ``policy``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from backend.core.areas import Level, level_of_code
from backend.core.territory import Territory
from backend.core.worktime import WorkingCalendar


class Kind(StrEnum):
    request = "request"  # 诉求: a resident's
    incident = "incident"  # 事件: found by a worker on patrol
    task = "task"  # 任务: sent down by a higher level


class Source(StrEnum):
    """The door a case came in by: kept for good, filtered on, counted in the assessment."""

    app = "app"  # a signed-in person's report in the app
    anonymous = "anonymous"  # a visitor's report, followed by its tracking code
    hotline = "hotline"  # typed in by a 12345 operator for a caller
    patrol = "patrol"  # a worker's incident found on patrol
    task = "task"  # sent down by a higher level
    open311 = "open311"  # handed over by another city system (source_system names it)


class Status(StrEnum):
    submitted = "submitted"
    accepted = "accepted"  # 立案
    rejected = "rejected"
    dispatched = "dispatched"  # 派遣
    handling = "handling"  # 处置
    handled = "handled"
    verified = "verified"  # 核查
    closed = "closed"  # 结案
    withdrawn = "withdrawn"
    shelved = "shelved"  # 挂账
    voided = "voided"  # 作废
    merged = "merged"  # 并案: a duplicate, merged into its main case (merged_into)


# Still being worked: these count towards the open set, the live map and overdue checks.
OPEN: frozenset[Status] = frozenset(
    {
        Status.submitted,
        Status.accepted,
        Status.dispatched,
        Status.handling,
        Status.handled,
        Status.verified,
    }
)
# Nothing more happens. A closed case is final too, except for its reporter's rate and reopen;
# a shelved one waits for its review date.
FINAL: frozenset[Status] = frozenset(
    {Status.rejected, Status.withdrawn, Status.voided, Status.merged}
)


class Action(StrEnum):
    accept = "accept"
    reject = "reject"
    dispatch = "dispatch"
    start = "start"
    handle = "handle"
    self_handle = "self_handle"  # 自处理
    verify = "verify"
    rework = "rework"  # 返工
    close = "close"
    escalate = "escalate"
    withdraw = "withdraw"
    rate = "rate"
    reopen = "reopen"
    request_return = "request_return"  # 回退, by the handler: waits for approval
    request_extension = "request_extension"  # 延期
    approve_extension = "approve_extension"
    refuse_extension = "refuse_extension"
    request_shelve = "request_shelve"  # 挂账: waits for approval
    unshelve = "unshelve"
    request_void = "request_void"  # 作废: waits for a manager above the accepting level
    approve = "approve"  # the pending request (return, shelve or void) takes effect
    refuse = "refuse"  # the pending request is dropped, with a reason
    verify_on_site = "verify_on_site"  # 核查 by the staff of the grid where it happened
    remind = "remind"  # 催办: the reporter or a level above urges the owner on
    supervise = "supervise"  # 督办: a level above orders it done by a due time of its own
    transfer = "transfer"  # 移交: to another grid or area, which accepts or refuses it
    accept_transfer = "accept_transfer"
    refuse_transfer = "refuse_transfer"
    add_department = "add_department"  # 联办: another department joins the lead one
    merge = "merge"  # 并案: a duplicate into its main case
    pause = "pause"  # 挂起: waits for approval, then the clock stops
    resume = "resume"  # the clock runs again, due_at later by the paused working time


# What each request does once approved: the old one-step actions, kept as the approvals' words.
REQUESTS: frozenset[Action] = frozenset(
    {Action.request_return, Action.request_shelve, Action.request_void, Action.pause}
)


# The HTTP status each error code maps to when a route reports it.
HTTP_STATUS: Mapping[str, int] = {
    "invalid_transition": 409,
    "forbidden": 403,
    "missing_field": 422,
    "invalid_value": 422,
    "too_late": 409,
}


class WorkflowError(Exception):
    """A refused command: ``code`` for machines (a key of ``HTTP_STATUS``), ``reason`` for people.

    >>> WorkflowError("too_late", "closed more than 7 days ago").status
    409
    """

    def __init__(self, code: str, reason: str, **details: Any) -> None:
        if code not in HTTP_STATUS:
            raise ValueError(f"unknown workflow error code {code!r}")
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.details = details

    @property
    def status(self) -> int:
        return HTTP_STATUS[self.code]


# Departments are called in by the street or above (街道吹哨、部门报到) unless the city lets
# grids or communities dispatch to them directly (WANGGE_DIRECT_DISPATCH_LEVELS).
DEPARTMENT_LEVELS: frozenset[Level] = frozenset({Level.street, Level.district, Level.city})


@dataclass(frozen=True)
class Pending:
    """A request (回退, 挂账, 作废, 挂起) waiting for its approver: who asked, why, and for a
    shelving its review date."""

    action: Action
    by: int | None
    reason: str
    review_date: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "action", Action(self.action))
        if self.action not in REQUESTS:
            raise ValueError(f"{self.action} is not a request")


@dataclass(frozen=True)
class CaseState:
    """What the workflow needs to know of a case; the rest (text, photos, place) is the table's.

    The level is read off ``owner_code``, so the two cannot disagree. Strings are accepted for
    ``kind`` and ``status`` (as a table row holds them) and turned into enum members.
    """

    kind: Kind
    status: Status
    owner_code: str  # the grid or area that owns the case
    reporter_id: int | None = None
    assignee: int | None = None  # a person
    department: str | None = None  # a functional department's code, e.g. 城管
    due_at: datetime | None = None
    rework_count: int = 0
    reopen_count: int = 0
    escalations: int = 0
    closed_at: datetime | None = None
    rating: int | None = None
    extension_requested: timedelta | None = None  # pending, not yet approved or refused
    shelved_until: date | None = None  # the review date of a shelved case
    pending: Pending | None = None  # a request waiting for approval
    grid_code: str | None = None  # the grid where it happened, kept whoever owns it now
    supervise_due_at: datetime | None = None  # the due time a supervision order (督办) set
    voided_at: datetime | None = None  # when a void was approved: lateness before it counts
    transfer_to: str | None = None  # 移交 waiting for this grid or area to accept it
    grid_history: tuple[str, ...] = ()  # the grids it was placed in before grid_code, oldest first
    departments: tuple[str, ...] = ()  # 联办: departments joined to the lead ``department``
    merged_into: int | None = None  # 并案: the main case of a merged duplicate
    paused_at: datetime | None = None  # 挂起 since then (approved): the clock stands still
    dispatch_due_at: datetime | None = None  # to be dispatched by then (set at acceptance)
    dispatched_at: datetime | None = None  # its first dispatch
    # The stages' deadlines and who met them, for the assessment (read off the row):
    accept_due_at: datetime | None = None  # to be accepted by then (set at submission)
    accepted_at: datetime | None = None  # it entered the workflow: accepted, or escalated
    accepted_by: int | None = None
    dispatched_by: int | None = None  # who dispatched it first
    handle_due_at: datetime | None = None  # to be handled by then (set at its dispatch)
    handled_at: datetime | None = None  # its last handling (处置), which a verification answers
    handled_by: int | None = None
    verify_due_at: datetime | None = None  # its last handling to be verified by then
    verified_at: datetime | None = None  # that handling verified (核查), or sent back (返工)
    verified_by: int | None = None
    self_handled: bool = False  # first handled on the spot by its finder (自处置)
    # The first acceptance, handling (on the spot or not), verification and escalation, and
    # who took each (cases/firsts.py): the assessment counts a period's actions by them.
    first_accepted_at: datetime | None = None
    first_accepted_by: int | None = None
    first_handled_at: datetime | None = None
    first_handled_by: int | None = None
    first_verified_at: datetime | None = None
    first_verified_by: int | None = None
    first_escalated_at: datetime | None = None
    first_escalated_by: int | None = None
    repeated_actions: bool = False  # accepted, verified or escalated a second time

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", Kind(self.kind))
        object.__setattr__(self, "status", Status(self.status))
        object.__setattr__(self, "grid_history", tuple(self.grid_history))
        object.__setattr__(self, "departments", tuple(self.departments))
        level_of_code(self.owner_code)  # raises ValueError on a malformed code
        if min(self.rework_count, self.reopen_count, self.escalations) < 0:
            raise ValueError("counts cannot be negative")
        if self.status is Status.closed and self.closed_at is None:
            raise ValueError("a closed case needs closed_at")
        if self.status is Status.shelved and self.shelved_until is None:
            raise ValueError("a shelved case needs shelved_until")

    @property
    def level(self) -> Level:
        return level_of_code(self.owner_code)


@dataclass(frozen=True)
class Command:
    """One action by one actor at ``now``, with the payload fields that action uses.

    ``now`` must be timezone-aware: the tables' timestamps are, and comparing the two kinds
    raises. ``action`` may be given as its string value.
    """

    action: Action
    actor: Territory
    now: datetime
    reason: str | None = None
    assignee: int | None = None
    department: str | None = None
    result: str | None = None
    photo: str | None = None
    rating: int | None = None
    comment: str | None = None
    extension: timedelta | None = None
    review_date: date | None = None
    next_owner_code: str | None = None  # escalate: the area one level up (derived if omitted)
    time_limit: timedelta | None = None  # accept, escalate, reopen, unshelve: the new clock
    dispatch_limit: timedelta | None = None  # accept: the time it has to be dispatched in
    handle_limit: timedelta | None = None  # dispatch: the time it has to be handled in
    verify_limit: timedelta | None = None  # handle, self_handle: the time to verify it in
    target_code: str | None = None  # transfer: the grid or area it goes to
    main_case: int | None = None  # merge: the case the duplicate is merged into
    # dispatch: the levels whose cases may go straight to a department (a city setting).
    department_levels: frozenset[Level] = DEPARTMENT_LEVELS
    # What the clock's limit and an extension run on: the city's working time, or the wall
    # clock when None (an emergency category, urgent cases: see categories.Limits).
    calendar: WorkingCalendar | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "action", Action(self.action))
        if self.now.utcoffset() is None:
            raise ValueError("Command.now must be timezone-aware")


@dataclass(frozen=True)
class Transition:
    """The case after the command, and the event to append to its log (JSON-ready values)."""

    state: CaseState
    event: dict[str, Any]
