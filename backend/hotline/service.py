"""The 12345 hotline desk: an operator types a call in, the caller gets the tracking code by
text message, and after closure the desk calls back (回访) and records the caller's rating.

A call's case is made by the cases feature like an anonymous report, with source
``hotline``: no reporter, the caller's phone as its contact (masked for staff who need not see
it), followed by its tracking code. The desk keeps the rest here: the caller's name, the
operator, and the call back. The rating is the case's own ``rate`` action, taken for the
caller, so the assessment counts it in 满意率 exactly as a rating from the app.

A call sent again with its client id (a lost answer) makes no second case: the case and code
are handed back, the call's row is made if the first send stopped before it, and the text
message sent if it was not.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from backend.cases import service as cases
from backend.cases.schemas import TransitionIn
from backend.cases.tables import Case
from backend.core.areas import level_of_code, scope_prefix
from backend.core.db import write_transaction
from backend.core.errors import ApiError, Forbidden, NotFound
from backend.core.principal import Principal, require_role
from backend.core.roles import HOTLINE_LEVELS, Role
from backend.core.settings import Settings
from backend.core.territory import ANONYMOUS_ACTOR
from backend.grids.service import GridIndex
from backend.hotline.schemas import Call, CallbackIn, CallerHistory, CallIn, CallOut
from backend.hotline.tables import HotlineCall
from backend.sms.service import send_sms

HISTORY_LIMIT = 100  # a caller's calls shown, newest first


def centre_of(principal: Principal) -> str:
    """The area of the operator's hotline centre: 403 for anyone else, and for an operator
    with no city or district on their account."""
    require_role(principal, Role.hotline_operator)
    area = principal.territory.area_code
    if area is None or level_of_code(area) not in HOTLINE_LEVELS:
        raise Forbidden("no_hotline_centre", "this account belongs to no city or district centre")
    return area


async def take(
    data: CallIn, principal: Principal, index: GridIndex, settings: Settings
) -> tuple[CallOut, bool]:
    """Enter a call: its case and tracking code, and whether it was made now."""
    centre = centre_of(principal)
    code, row, made = await cases.create_for_caller(
        client_id=data.client_id,
        category=data.category,
        description=data.description,
        lon=data.lon,
        lat=data.lat,
        crs=data.crs,
        address=data.address,
        phone=data.caller_phone,
        priority=data.priority,
        index=index,
        secret=settings.secret_key,
    )
    if row["source"] != "hotline":
        # The client id was an anonymous report's: no call of ours.
        raise NotFound("call", data.client_id)
    call = await HotlineCall.select().where(HotlineCall.case == row["id"]).first()
    if call is None:
        await HotlineCall.insert(
            HotlineCall(
                case=row["id"],
                caller_phone=data.caller_phone,
                caller_name=data.caller_name,
                operator=principal.id,
                centre_code=centre,
                place_code=row["grid_code"] or row["owner_code"],
                taken_at=row["created_at"],
            )
        ).on_conflict(action="DO NOTHING")
        call = await HotlineCall.select().where(HotlineCall.case == row["id"]).first()
        assert call is not None  # inserted now, or by the other send of the same call
    if call["sms_sent_at"] is None:
        call = {**call, **await _text(call, code, settings)}
    out = CallOut(
        row["id"], code, row["status"], call["sms_sent_at"] is not None, call["sms_error"]
    )
    return out, made


async def _text(call: dict[str, Any], code: str, settings: Settings) -> dict[str, Any]:
    """Send the caller their code; what the call's row now says of it. A failed message does
    not undo the call: the operator reads the code out, and a retry sends it again."""
    sent, error = None, None
    try:
        await send_sms(call["caller_phone"], "tracking_code", {"code": code}, settings=settings)
        sent = datetime.now(UTC)
    except ApiError as refused:
        error = refused.code[:64]
    await HotlineCall.update({HotlineCall.sms_sent_at: sent, HotlineCall.sms_error: error}).where(
        HotlineCall.id == call["id"]
    )
    return {"sms_sent_at": sent, "sms_error": error}


_CALL_COLUMNS = (
    HotlineCall.case,
    HotlineCall.caller_phone,
    HotlineCall.caller_name,
    HotlineCall.taken_at,
    HotlineCall.callback_comment,
    HotlineCall.case._.category,
    HotlineCall.case._.description,
    HotlineCall.case._.address,
    HotlineCall.case._.status,
    HotlineCall.case._.closed_at,
    HotlineCall.case._.rating,
    HotlineCall.case._.version,
)


async def _calls(where: Any, limit: int | None = None) -> list[Call]:
    query = (
        HotlineCall.select(*_CALL_COLUMNS).where(where).order_by(HotlineCall.id, ascending=False)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = await query
    names = await cases.category_names(r["case.category"] for r in rows)
    return [
        Call(
            case_id=r["case"],
            caller_phone=r["caller_phone"],
            caller_name=r["caller_name"],
            taken_at=r["taken_at"].isoformat(),
            category=r["case.category"],
            category_name=names.get(r["case.category"], r["case.category"]),
            description=r["case.description"],
            address=r["case.address"],
            status=r["case.status"],
            closed_at=None if r["case.closed_at"] is None else r["case.closed_at"].isoformat(),
            rating=r["case.rating"],
            callback_comment=r["callback_comment"],
            version=r["case.version"],
        )
        for r in rows
    ]


def _in_area(centre: str) -> Any:
    return HotlineCall.place_code.like(f"{scope_prefix(centre)}%")


async def callbacks(principal: Principal) -> list[Call]:
    """Closed calls of the centre's area whose caller has not rated the closing yet."""
    centre = centre_of(principal)
    return await _calls(
        _in_area(centre)
        & (HotlineCall.case._.status == cases.Status.closed)
        & HotlineCall.case._.rating.is_null()
    )


async def call_back(case_id: int, data: CallbackIn, principal: Principal) -> Call:
    """Record the caller's rating and comment: the case's ``rate``, taken for its caller (who
    has no account: the case's reporter is nobody, as an anonymous report's)."""
    centre = centre_of(principal)
    async with write_transaction(HotlineCall._meta.db):
        call = (
            await HotlineCall.select()
            .where((HotlineCall.case == case_id) & _in_area(centre))
            .first()
        )
        if call is None:
            raise NotFound("call", case_id)
        case = await Case.select(Case.version, Case.rating).where(Case.id == case_id).first()
        assert case is not None  # a call's case is never deleted
        again = (
            case["rating"] is not None
            and call["called_back_by"] == principal.id
            and (call["callback_rating"], call["callback_comment"]) == (data.rating, data.comment)
        )
        if again:  # this call back sent again, its answer lost
            return (await _calls(HotlineCall.id == call["id"]))[0]
        body = TransitionIn(
            action="rate", version=case["version"], rating=data.rating, comment=data.comment
        )
        # The workflow decides: 409 if the case is not closed or this closing is rated.
        await cases.move(case_id, body, ANONYMOUS_ACTOR, lambda row: row["id"] == case_id)
        await HotlineCall.update(
            {
                HotlineCall.called_back_at: datetime.now(UTC),
                HotlineCall.called_back_by: principal.id,
                HotlineCall.callback_rating: data.rating,
                HotlineCall.callback_comment: data.comment,
            }
        ).where(HotlineCall.id == call["id"])
    return (await _calls(HotlineCall.id == call["id"]))[0]


async def caller(phone: str, principal: Principal) -> CallerHistory:
    """The calls this phone made about the centre's area, newest first."""
    centre = centre_of(principal)
    where = (HotlineCall.caller_phone == phone) & _in_area(centre)
    total = await HotlineCall.count().where(where)
    return CallerHistory(phone, total, await _calls(where, HISTORY_LIMIT))
