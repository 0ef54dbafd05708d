"""What is sent, to whom: :data:`RULES`, one row per kind of notification.

A row names the events it is made from, who receives it (a function of the event), its text,
the screen a tap opens, whether it is urgent (sent in quiet hours too), and the text message
sent instead to someone without a push subscription, if the kind warrants one. ``contact_sms``
goes to the contact phone of a case no account reported (a hotline caller, an anonymous
visitor): the phone its tracking code was sent to.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from backend.cases.service import followers_of
from backend.cases.tables import Case
from backend.core.areas import scope_prefix
from backend.core.events import EventType
from backend.core.roles import AREA_ROLES, Role
from backend.events.service import StoredEvent
from backend.events.tables import Event
from backend.grids.tables import GridPost
from backend.party.tables import PartyMember
from backend.people.tables import Person

Recipients = Callable[[StoredEvent, dict[str, Any]], Awaitable[list[int]]]


@dataclass(frozen=True)
class Rule:
    kind: str
    events: frozenset[str]
    who: Recipients
    title: str  # str.format over the event's payload, the case's row ``case`` and ``id``
    body: str
    url: str
    urgent: bool = False
    sms: str | None = None  # template for a recipient without a push subscription
    contact_sms: str | None = None  # template for the contact phone of a case with no reporter
    when: Callable[[dict[str, Any]], bool] = lambda payload: True


def _id(subject: str) -> int:
    return int(subject.partition(":")[2])


async def case_row(event: StoredEvent) -> dict[str, Any] | None:
    if not event.subject.startswith("case:"):
        return None
    return await Case.select().where(Case.id == _id(event.subject)).first()


async def active(ids: list[int]) -> list[int]:
    if not ids:
        return []
    rows = await Person.select(Person.id).where(Person.id.is_in(ids) & (Person.active == True))  # noqa: E712
    return sorted(r["id"] for r in rows)


async def grid_staff(grid_code: str) -> list[int]:
    rows = await GridPost.select(GridPost.person).where(GridPost.grid._.code == grid_code)
    return await active([r["person"] for r in rows])


async def owners(code: str) -> list[int]:
    """Who works a case owned by ``code``: a grid's post holders, or the staff of an area."""
    if len(code) > 12:
        return await grid_staff(code)
    # The centre's staff; grid staff may be of the area too, but work their grids' cases.
    rows = await Person.select(Person.id).where(
        (Person.area._.code == code) & Person.role.is_in(sorted(AREA_ROLES))
    )
    return await active([r["id"] for r in rows])


async def staff_inside(code: str) -> list[int]:
    """Everyone at work in ``code`` or below it: grid post holders and centre staff."""
    prefix = scope_prefix(code)  # the city's code is no prefix of its districts'
    posts = await GridPost.select(GridPost.person).where(GridPost.grid._.code.like(f"{prefix}%"))
    staff = await Person.select(Person.id).where(
        Person.area._.code.like(f"{prefix}%") & (Person.role != Role.resident)
    )
    return await active(list({r["person"] for r in posts} | {r["id"] for r in staff}))


async def _dispatched(event: StoredEvent, payload: dict[str, Any]) -> list[int]:
    if payload.get("assignee"):
        return await active([payload["assignee"]])
    return await owners(payload["owner_code"]) if payload.get("department") is None else []


async def _escalated(event: StoredEvent, payload: dict[str, Any]) -> list[int]:
    return await owners(payload["owner_code"])


async def _reporter(event: StoredEvent, payload: dict[str, Any]) -> list[int]:
    """The case's reporter, and the reporters of duplicates merged into it (并案)."""
    row = await case_row(event)
    if row is None:
        return []
    people = [row["reporter"]] if row["reporter"] else []
    return await active([*people, *followers_of(row)])


async def _assignee(event: StoredEvent, payload: dict[str, Any]) -> list[int]:
    """The case's assignee; for an escalation (which clears it), the one it had before."""
    row = await case_row(event)
    if row and row["assignee"]:
        return await active([row["assignee"]])
    last = (
        await Event.select(Event.payload)
        .where(
            (Event.subject == event.subject)
            & (Event.type == EventType.case_dispatch)
            & (Event.id < event.id)
        )
        .order_by(Event.id, ascending=False)
        .first()
    )
    assignee = msgspec.json.decode(last["payload"]).get("assignee") if last else None
    return await active([assignee]) if assignee else []


async def _task_grid(event: StoredEvent, payload: dict[str, Any]) -> list[int]:
    return await grid_staff(payload["grid_code"])


async def _area_staff(event: StoredEvent, payload: dict[str, Any]) -> list[int]:
    return await staff_inside(event.scope)


async def _member(event: StoredEvent, payload: dict[str, Any]) -> list[int]:
    row = (
        await PartyMember.select(PartyMember.person)
        .where(PartyMember.id == payload["member"])
        .first()
    )
    return await active([row["person"]]) if row else []


def _overdue(payload: dict[str, Any]) -> bool:
    return payload.get("type") == "overdue" or payload.get("reason") == "overdue"


CASE_URL = "/app/cases/{id}"
RATE_URL = "/app/cases/{id}?rate=1"

RULES: tuple[Rule, ...] = (
    Rule(
        "case_dispatched",
        frozenset({EventType.case_dispatch}),
        _dispatched,
        "新案件派给您",
        "案件{id}：{case[description]:.60}",
        CASE_URL,
    ),
    Rule(
        "case_escalated",
        frozenset({EventType.case_escalate}),
        _escalated,
        "案件上报到您这里",
        "案件{id}已上报：{case[description]:.60}",
        CASE_URL,
        urgent=True,
    ),
    Rule(
        "case_accepted",
        frozenset({EventType.case_accept}),
        _reporter,
        "您反映的问题已受理",
        "案件{id}已受理，我们会尽快处理。",
        CASE_URL,
        contact_sms="notice_accepted",
    ),
    Rule(
        "case_handled",
        frozenset({EventType.case_handle, EventType.case_self_handle}),
        _reporter,
        "您反映的问题已处理",
        "案件{id}已处理完毕，等待核查结案。",
        CASE_URL,
    ),
    Rule(
        "case_closed",
        frozenset({EventType.case_close}),
        _reporter,
        "您反映的问题已办结，请评价",
        "案件{id}已办结，请为办理结果打分。",
        RATE_URL,
        contact_sms="notice_closed",
    ),
    Rule(
        "case_rejected",
        frozenset({EventType.case_reject}),
        _reporter,
        "您反映的问题未予受理",
        "案件{id}未予受理，原因：{reason:.120}",
        CASE_URL,
    ),
    Rule(
        "case_merged",
        frozenset({EventType.case_merge}),
        _reporter,
        "您反映的问题已并案办理",
        "案件{id}与案件{merged_into}反映的是同一问题，已并入该案件办理，进展将一并通知您。",
        "/app/cases/{merged_into}",
        # The duplicate's event names its main case; the main case's own names the duplicate.
        when=lambda payload: "merged_into" in payload,
    ),
    Rule(
        "case_overdue",
        frozenset({EventType.case_overdue, EventType.case_escalate}),
        _assignee,
        "案件已超期",
        "您的案件{id}已超过办理时限：{case[description]:.60}",
        CASE_URL,
        urgent=True,
        sms="notice_overdue",
        when=_overdue,
    ),
    Rule(
        "task_assigned",
        frozenset({EventType.task_assigned}),
        _task_grid,
        "新的任务",
        "{title:.80}（本网格{items}项）",
        "/app/tasks",
    ),
    Rule(
        "emergency",
        frozenset({EventType.mode_changed}),
        _area_staff,
        "{area_name}进入应急状态",
        "{area_name}已启动应急模式：{reason:.100}",
        "/app",
        urgent=True,
        when=lambda payload: bool(payload.get("on")),
    ),
    Rule(
        "emergency",
        frozenset({EventType.mode_changed}),
        _area_staff,
        "{area_name}恢复常态",
        "{area_name}已结束应急模式：{reason:.100}",
        "/app",
        urgent=True,
        when=lambda payload: not payload.get("on"),
    ),
    Rule(
        "party_place",
        frozenset({EventType.party_need_claimed}),
        _member,
        "报名成功",
        "您已获得社区需求{need}的一个名额，请按时参加。",
        "/app/party",
    ),
)

# The case that falls due within the hour: not an event, the sender looks at due times.
DUE_SOON = Rule(
    "case_due_soon",
    frozenset(),
    _assignee,
    "案件即将到期",
    "您的案件{id}将在一小时内到期：{case[description]:.60}",
    CASE_URL,
)

KINDS: tuple[str, ...] = tuple(dict.fromkeys([r.kind for r in RULES] + [DUE_SOON.kind]))
