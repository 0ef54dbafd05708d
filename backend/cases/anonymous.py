"""Anonymous requests (诉求): a resident who has not signed in reports, and follows the case
with the tracking code the answer gives (tracking.py says how codes are made and kept).

The code is all the holder has and all they need: it opens that one case's status and public
timeline (no person, no id, phones masked), and lets them do what a reporter does: withdraw
before acceptance, rate after closure, reopen if unsatisfied. Whether it exists is told only
to someone who has it: every unknown or malformed code is the same 404.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

from backend.cases import tracking
from backend.cases.intake import Draft, intake
from backend.cases.policy import actions_for
from backend.cases.public import PublicEvent, category_names, public_event
from backend.cases.records import state_of
from backend.cases.schemas import Phone, Short, Text, TransitionIn
from backend.cases.service import move
from backend.cases.states import Source
from backend.cases.tables import Case
from backend.core.errors import Conflict, NotFound, Unavailable
from backend.core.phones import masked_phone, masked_text
from backend.core.territory import ANONYMOUS_ACTOR
from backend.events.tables import Event
from backend.grids.service import GridIndex, place_names

# Someone who has not signed in, shown as nobody in particular.
_NOBODY = "****"


class AnonymousCaseIn(msgspec.Struct, forbid_unknown_fields=True):
    client_id: UUID  # made by the phone; a retried send gets the same case and code
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
    description: Text
    lon: float
    lat: float
    crs: str = "wgs84"
    address: Short = ""
    contact_phone: Phone | None = None  # for a call back; shown to the staff who need it
    priority: Literal["urgent", "high", "normal"] = "normal"
    kind: Literal["request"] = "request"  # anonymous reports are residents' requests only


class TrackedCase(msgspec.Struct):
    id: int
    category: str
    category_name: str
    description: str
    address: str
    status: str
    level: str
    owner_name: str  # the grid or area that has it now
    priority: str
    contact_phone: str | None  # always masked: a code can be overheard
    created_at: str
    due_at: str | None
    rating: int | None
    version: int
    actions: list[str]  # what the code's holder may do now
    timeline: list[PublicEvent]


class Tracked(msgspec.Struct):
    tracking_code: str  # ABCDE-FGHJK: keep it, it is the only way back to the case
    case: TrackedCase


class TrackedTransitionIn(msgspec.Struct, forbid_unknown_fields=True):
    action: str  # withdraw, rate or reopen; anything else is refused as it is for a resident
    version: int  # the version the reporter saw; a stale one gets 409
    reason: Short | None = None
    rating: int | None = None
    comment: Short | None = None


async def create(
    data: AnonymousCaseIn, index: GridIndex, secret: str, source: Source = Source.anonymous
) -> tuple[Tracked, bool]:
    """The case and its code, and whether it was made now (False: a retry of the same send).
    ``source``: a visitor's report, or a caller's typed in at the hotline."""
    stored_id = tracking.stored_client_id(secret, data.client_id)
    existing = await _by_client_id(stored_id)
    if existing is not None:
        return await _again(existing, data.client_id, secret), False
    codes: list[str] = []

    async def tracking_key() -> str:  # run in the write transaction, so the code stays free
        codes.append(await _free_code(data.client_id, secret))
        return tracking.key_of(secret, codes[-1])

    draft = Draft(
        client_id=stored_id,
        kind="request",
        category=data.category,
        description=data.description,
        lon=data.lon,
        lat=data.lat,
        crs=data.crs,
        address=data.address,
        contact_phone=data.contact_phone,
        priority=data.priority,
        reporter=None,
        actor=ANONYMOUS_ACTOR,
        source=source,
    )
    done = await intake(draft, index, tracking_key)
    if not done.made:  # the other send of the same case won
        return await _again(done.row, data.client_id, secret), False
    return Tracked(tracking.formatted(codes[-1]), await view(await _by_id(done.row["id"]))), True


async def read(code_text: str, secret: str) -> TrackedCase:
    return await view(await _by_code(code_text, secret))


async def act(code_text: str, body: TrackedTransitionIn, secret: str) -> TrackedCase:
    """Withdraw, rate or reopen as the reporter; the workflow and the policy decide."""
    row = await _by_code(code_text, secret)
    key = row["tracking_key"]
    command = TransitionIn(
        action=body.action,
        version=body.version,
        reason=body.reason,
        rating=body.rating,
        comment=body.comment,
    )
    moved = await move(row["id"], command, ANONYMOUS_ACTOR, lambda r: r["tracking_key"] == key)
    return await view(moved)


async def view(row: dict[str, Any]) -> TrackedCase:
    """The case as its code's holder sees it."""
    state = state_of(row)
    places = await place_names([row["owner_code"]])
    categories = await category_names([row["category"]])
    events = (
        await Event.select(Event.at, Event.payload)
        .where(Event.subject == f"case:{row['id']}")
        .order_by(Event.id)
    )
    timeline = [public_event(e["at"], msgspec.json.decode(e["payload"])) for e in events]
    # Masked even for the holder, who counts as the reporter: the code may not be theirs.
    phone = None if row["contact_phone"] is None else masked_phone(row["contact_phone"])
    return TrackedCase(
        id=row["id"],
        category=row["category"],
        category_name=categories.get(row["category"], row["category"]),
        description=masked_text(row["description"]),
        address=masked_text(row["address"]),
        status=row["status"],
        level=str(state.level),
        owner_name=places.get(row["owner_code"], row["owner_code"]),
        priority=row["priority"],
        contact_phone=phone,
        created_at=row["created_at"].isoformat(),
        due_at=None if row["due_at"] is None else row["due_at"].isoformat(),
        rating=row["rating"],
        version=row["version"],
        actions=[a.value for a in actions_for(ANONYMOUS_ACTOR, state)],
        timeline=[e for e in timeline if e is not None],
    )


async def _free_code(client_id: UUID, secret: str) -> str:
    for round_ in range(tracking.ROUNDS):
        code = tracking.code_for(secret, client_id, round_)
        if await Case.count().where(Case.tracking_key == tracking.key_of(secret, code)) == 0:
            return code
    raise Unavailable("no_tracking_code", "no free tracking code; send again with a new id")


async def _again(row: dict[str, Any], client_id: UUID, secret: str) -> Tracked:
    """The answer to a retried send: the code is derived again, as it is never stored."""
    for round_ in range(tracking.ROUNDS):
        code = tracking.code_for(secret, client_id, round_)
        if tracking.key_of(secret, code) == row["tracking_key"]:
            return Tracked(tracking.formatted(code), await view(row))
    # Only if the server's secret changed since: the old code no longer opens anything.
    raise Conflict("client_id_taken", "this client id belongs to another case")


async def _by_client_id(stored_id: UUID) -> dict[str, Any] | None:
    return await Case.select().where(Case.client_id == stored_id).first()


async def _by_id(case_id: int) -> dict[str, Any]:
    row = await Case.select().where(Case.id == case_id).first()
    assert row is not None  # inserted by this request
    return row


async def _by_code(text: str, secret: str) -> dict[str, Any]:
    code = tracking.read(text)
    row = None
    if code is not None:
        key = tracking.key_of(secret, code)
        row = await Case.select().where(Case.tracking_key == key).first()
    if row is None:
        raise NotFound("tracking code", _NOBODY)
    return row
