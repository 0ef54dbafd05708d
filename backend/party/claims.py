"""Claims on needs: claim (capacity kept), withdraw, report hours, confirm or refuse them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from backend.core.db import write_transaction
from backend.core.errors import Conflict, Forbidden, NotFound
from backend.core.events import EventType
from backend.core.principal import Principal
from backend.core.roles import COMMUNITY_CENTRES
from backend.events.service import NewEvent, append
from backend.party.members import member_row_of
from backend.party.rules import CLAIM_LABELS, check_claimable, check_report, check_reviewer
from backend.party.schemas import ClaimOut, ReportIn
from backend.party.scope import require_within, staff_area
from backend.party.tables import CommunityNeed, NeedClaim

_COLUMNS = (
    NeedClaim.id,
    NeedClaim.need,
    NeedClaim.member,
    NeedClaim.member._.person._.id.as_alias("person_id"),
    NeedClaim.member._.person._.name.as_alias("name"),
    NeedClaim.member.work_unit.as_alias("work_unit"),
    NeedClaim.status,
    NeedClaim.hours,
    NeedClaim.note,
    NeedClaim.claimed_at,
    NeedClaim.reported_at,
    NeedClaim.confirmed_by,
    NeedClaim.confirmed_at,
    NeedClaim.need.community_code.as_alias("community_code"),
    NeedClaim.need.starts_at.as_alias("starts_at"),
    NeedClaim.need.ends_at.as_alias("ends_at"),
)
_REPORTABLE = frozenset({"claimed", "reported", "refused"})


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _out(r: dict[str, Any]) -> ClaimOut:
    return ClaimOut(
        id=r["id"],
        need_id=r["need"],
        member_id=r["member"],
        person_id=r["person_id"],
        name=r["name"],
        work_unit=r["work_unit"],
        status=r["status"],
        status_label=CLAIM_LABELS[r["status"]],
        hours=r["hours"],
        note=r["note"],
        claimed_at=r["claimed_at"].isoformat(),
        reported_at=_iso(r["reported_at"]),
        confirmed_by=r["confirmed_by"],
        confirmed_at=_iso(r["confirmed_at"]),
    )


async def claim_outs(where: Any) -> list[ClaimOut]:
    return [_out(r) for r in await NeedClaim.select(*_COLUMNS).where(where).order_by(NeedClaim.id)]


async def _claim_row(claim_id: int) -> dict[str, Any]:
    row = await NeedClaim.select(*_COLUMNS).where(NeedClaim.id == claim_id).first()
    if row is None:
        raise NotFound("claim", claim_id)
    return row


def _event(kind: EventType, row: dict[str, Any], actor: int, **payload: Any) -> NewEvent:
    payload = {"claim": row["id"], "need": row["need"], "member": row["member"], **payload}
    return NewEvent(kind, f"claim:{row['id']}", row["community_code"], payload, actor)


async def claim(need_id: int, principal: Principal) -> tuple[ClaimOut, bool]:
    """The asker takes one place on a need of their own community, while places are left; and
    whether it was taken now (False: they hold it already, and get that claim back, so that a
    phone resending a claim whose answer it lost is not told of a conflict)."""
    member = await member_row_of(principal.id)
    now = datetime.now(UTC)
    async with write_transaction(NeedClaim._meta.db):
        need = (
            await CommunityNeed.select(
                CommunityNeed.community_code, CommunityNeed.starts_at, CommunityNeed.ends_at
            )
            .where(CommunityNeed.id == need_id)
            .first()
        )
        if need is None:
            raise NotFound("need", need_id)
        if need["community_code"] != member["home_community"]:
            raise Forbidden(
                "not_registered_here",
                "members take the needs of the community they registered with",
                community=need["community_code"],
                home_community=member["home_community"],
            )
        # Taking a place first also locks the need's row: concurrent claims queue here, so
        # the check for a claim held already sees one committed meanwhile.
        taken = await CommunityNeed.raw(
            "UPDATE community_need SET claimed = claimed + 1 "
            "WHERE id = {} AND claimed < capacity RETURNING id",
            need_id,
        )
        held = (
            await NeedClaim.select(NeedClaim.id)
            .where((NeedClaim.need == need_id) & (NeedClaim.member == member["id"]))
            .first()
        )
        if held is not None:
            if taken:
                await CommunityNeed.raw(
                    "UPDATE community_need SET claimed = claimed - 1 WHERE id = {}", need_id
                )
            return _out(await _claim_row(held["id"])), False
        check_claimable(need["starts_at"], need["ends_at"], now)
        if not taken:
            raise Conflict("need_full", "every place of this need is taken")
        inserted = await NeedClaim.insert(
            NeedClaim(need=need_id, member=member["id"], status="claimed", claimed_at=now)
        ).returning(NeedClaim.id)
        row = await _claim_row(inserted[0]["id"])
        await append([_event(EventType.party_need_claimed, row, principal.id)])
    return _out(row), True


def _require_own(row: dict[str, Any], principal: Principal) -> None:
    if row["person_id"] != principal.id:
        raise Forbidden("not_your_claim", "only the member who claimed it may do this")


async def withdraw(claim_id: int, principal: Principal) -> None:
    """Give a place back, before the need starts and before any hours are reported."""
    now = datetime.now(UTC)
    async with write_transaction(NeedClaim._meta.db):
        row = await _claim_row(claim_id)
        _require_own(row, principal)
        if row["status"] != "claimed" or now >= row["starts_at"]:
            raise Conflict("cannot_withdraw", "a claim is withdrawn before the need starts")
        await NeedClaim.delete().where(NeedClaim.id == claim_id)
        await CommunityNeed.update({CommunityNeed.claimed: CommunityNeed.claimed - 1}).where(
            CommunityNeed.id == row["need"]
        )
        await append([_event(EventType.party_claim_withdrawn, row, principal.id)])


async def report(claim_id: int, principal: Principal, data: ReportIn) -> ClaimOut:
    """The member reports the hours served; again after a refusal, never after confirmation."""
    now = datetime.now(UTC)
    async with write_transaction(NeedClaim._meta.db):
        row = await _claim_row(claim_id)
        _require_own(row, principal)
        if row["status"] not in _REPORTABLE:
            raise Conflict("already_confirmed", "these hours are confirmed already")
        check_report(data.hours, row["starts_at"], row["ends_at"], now)
        hours = round(data.hours, 2)
        await NeedClaim.update(
            {
                "status": "reported",
                "hours": hours,
                "note": data.note,
                "reported_at": now,
                "confirmed_by": None,
                "confirmed_at": None,
            }
        ).where(NeedClaim.id == claim_id)
        await append([_event(EventType.party_hours_reported, row, principal.id, hours=hours)])
    return _out(await _claim_row(claim_id))


async def review(claim_id: int, principal: Principal, confirm: bool, reason: str = "") -> ClaimOut:
    """The community (or its street) confirms or refuses reported hours; never the member."""
    row = await _claim_row(claim_id)
    check_reviewer(principal.id, row["person_id"])
    own = staff_area(principal, COMMUNITY_CENTRES)
    require_within(row["community_code"], own)
    if row["status"] != "reported":
        raise Conflict(
            "not_reported", f"only reported hours are reviewed; this claim is {row['status']}"
        )
    now = datetime.now(UTC)
    status = "confirmed" if confirm else "refused"
    values: dict[str, Any] = {"status": status, "confirmed_by": principal.id, "confirmed_at": now}
    if not confirm:
        values["note"] = reason
    async with write_transaction(NeedClaim._meta.db):
        changed = (
            await NeedClaim.update(**values)
            .where((NeedClaim.id == claim_id) & (NeedClaim.status == "reported"))
            .returning(NeedClaim.id)
        )
        if not changed:
            raise Conflict("conflict", "someone else reviewed or changed these hours first")
        extra = {"hours": row["hours"]} if confirm else {"reason": reason}
        kind = EventType.party_hours_confirmed if confirm else EventType.party_hours_refused
        await append([_event(kind, row, principal.id, **extra)])
    return _out(await _claim_row(claim_id))


async def claims_of(principal: Principal) -> list[ClaimOut]:
    """The asker's own claims, oldest first."""
    return await claim_outs(NeedClaim.member.person == principal.id)
