"""What may be shown of a case to someone who is not staff of it: a tracking-code holder, or
another city system through Open311. Free text loses phone numbers; places get their names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import msgspec
from piccolo.columns.combination import WhereRaw

from backend.cases.tables import Category
from backend.core.phones import masked_text

# Disputes between neighbours (矛盾纠纷), police matters (治安), hardship (民生服务) and health
# (疫情防控) name or point at people: they never leave the system through a public API
# (Open311, the OGC ``cases`` collection).
PRIVATE_GROUPS: frozenset[str] = frozenset({"11", "13", "16", "17"})

# The cases anyone may see through a public API, as SQL (category codes start with their
# group's two digits, categories.json).
PUBLIC = WhereRaw(
    "substr(category, 1, 2) NOT IN ({})".format(", ".join("{}" for _ in PRIVATE_GROUPS)),
    *sorted(PRIVATE_GROUPS),
)

STATUS_LABELS: dict[str, str] = {
    "submitted": "待受理",
    "accepted": "已立案",
    "rejected": "不予受理",
    "dispatched": "已派遣",
    "handling": "处置中",
    "handled": "已处置",
    "verified": "已核查",
    "closed": "已结案",
    "withdrawn": "已撤回",
    "shelved": "挂账",
    "voided": "已作废",
    "merged": "已并案",
}


async def category_names(codes: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = await Category.select(Category.code, Category.name).where(Category.code.is_in(wanted))
    return {r["code"]: r["name"] for r in rows}


class PublicEvent(msgspec.Struct):
    at: str
    action: str  # submit, accept, dispatch … as in the workflow
    status: str  # the case's status after it
    level: str | None  # the level owning the case after it
    note: str | None = None  # the reason, result or comment that belongs to the reporter
    rating: int | None = None


# The one text of each action that speaks to the reporter; the others (rework reasons, a
# department's return, extension requests) are the staff's business.
_NOTES: dict[str, str] = {
    "reject": "reason",
    "handle": "result",
    "self_handle": "result",
    "withdraw": "reason",
    "rate": "comment",
    "reopen": "reason",
    "shelve": "reason",  # events logged before approvals
    "void": "reason",
}
# An approved shelving or void tells the reporter why; an approved return is the staff's.
_TOLD_WHEN_APPROVED = frozenset({"shelved", "voided"})


def public_event(at: datetime, payload: Mapping[str, Any]) -> PublicEvent | None:
    """A workflow event as its reporter may see it: no person, no id, no phone; None for
    events that are not a step of the workflow (photos, "me too", overdue reports).

    >>> from datetime import UTC
    >>> at = datetime(2025, 5, 6, 9, tzinfo=UTC)
    >>> public_event(at, {"type": "handle", "to": "handled", "level": "grid", "actor_id": 7,
    ...                   "result": "已修复, 电话13812345678"}).note
    '已修复, 电话138****5678'
    >>> public_event(at, {"type": "overdue", "level": "city"}) is None
    True
    """
    if "to" not in payload:
        return None
    action = str(payload["type"])
    field = _NOTES.get(action)
    if action == "approve" and payload["to"] in _TOLD_WHEN_APPROVED:
        field = "request_reason"
    note = payload.get(field) if field else None
    return PublicEvent(
        at.isoformat(),
        action,
        str(payload["to"]),
        payload.get("level"),
        None if note is None else masked_text(str(note)),
        payload.get("rating") if action == "rate" else None,
    )
