"""The notify API's work: devices, the notice list, preferences."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
from piccolo.custom_types import Combinable

from backend.core.db import write_transaction
from backend.core.errors import Invalid, NotFound
from backend.core.principal import Principal
from backend.notify.rules import KINDS, RULES
from backend.notify.schemas import (
    NoticeOut,
    NoticePage,
    Preferences,
    ReadIn,
    SubscriptionIn,
    SubscriptionOut,
    Unread,
)
from backend.notify.tables import Notice, NotifyPreference, PushSubscription

URGENT = sorted({r.kind for r in RULES if r.urgent})


async def subscribe(data: SubscriptionIn, principal: Principal) -> SubscriptionOut:
    """Add the device, or move it to the signed-in person (another person used the phone)."""
    if not data.endpoint.startswith(("https://", "http://")):
        raise Invalid("invalid_value", "endpoint is the push service's URL", field="endpoint")
    now = datetime.now(UTC)
    async with write_transaction(PushSubscription._meta.db):
        held = (
            await PushSubscription.select(PushSubscription.id)
            .where(PushSubscription.endpoint == data.endpoint)
            .first()
        )
        if held is None:
            row = PushSubscription(
                person=principal.id,
                endpoint=data.endpoint,
                p256dh=data.keys.p256dh,
                auth=data.keys.auth,
                created_at=now,
            )
            await PushSubscription.insert(row)
            ident = row.id
        else:
            await PushSubscription.update(
                person=principal.id, p256dh=data.keys.p256dh, auth=data.keys.auth
            ).where(PushSubscription.id == held["id"])
            ident = held["id"]
    return SubscriptionOut(ident, data.endpoint, now)


async def unsubscribe(endpoint: str, principal: Principal) -> None:
    gone = (
        await PushSubscription.delete()
        .where((PushSubscription.endpoint == endpoint) & (PushSubscription.person == principal.id))
        .returning(PushSubscription.id)
    )
    if not gone:
        raise NotFound("subscription", endpoint[:64])


async def subscriptions(principal: Principal) -> list[SubscriptionOut]:
    rows = await PushSubscription.select().where(PushSubscription.person == principal.id)
    return [SubscriptionOut(r["id"], r["endpoint"], r["created_at"]) for r in rows]


async def unread(person: int) -> int:
    return await Notice.count().where((Notice.person == person) & Notice.read_at.is_null())


async def notices(principal: Principal, before: int | None, limit: int) -> NoticePage:
    query = Notice.select().where(Notice.person == principal.id)
    if before is not None:
        query = query.where(Notice.id < before)
    rows = await query.order_by(Notice.id, ascending=False).limit(limit + 1)
    items = [
        NoticeOut(
            r["id"], r["kind"], r["title"], r["body"], r["url"], r["at"], r["read_at"] is not None
        )
        for r in rows[:limit]
    ]
    more = len(rows) > limit
    return NoticePage(items, await unread(principal.id), items[-1].id if more else None)


async def read(data: ReadIn, principal: Principal) -> Unread:
    if not data.ids and data.upto is None:
        raise Invalid("missing_field", "give ids or upto", field="ids")
    mine = (Notice.person == principal.id) & Notice.read_at.is_null()
    which: Combinable
    if data.ids and data.upto is not None:
        which = Notice.id.is_in(data.ids) | (Notice.id <= data.upto)
    elif data.ids:
        which = Notice.id.is_in(data.ids)
    else:
        which = Notice.id <= data.upto
    await Notice.update(read_at=datetime.now(UTC)).where(mine & which)
    return Unread(await unread(principal.id))


async def preferences(principal: Principal) -> Preferences:
    row = await NotifyPreference.select().where(NotifyPreference.person == principal.id).first()
    if row is None:
        return Preferences(kinds=list(KINDS), urgent=URGENT)
    return Preferences(
        off=msgspec.json.decode(row["off"]),
        quiet_from=row["quiet_from"] or None,
        quiet_until=row["quiet_until"] or None,
        kinds=list(KINDS),
        urgent=URGENT,
    )


async def set_preferences(data: Preferences, principal: Principal) -> Preferences:
    unknown = sorted(set(data.off) - set(KINDS))
    if unknown:
        raise Invalid("invalid_value", f"no such kind: {', '.join(unknown)}", field="off")
    both = data.quiet_from is not None and data.quiet_until is not None
    neither = data.quiet_from is None and data.quiet_until is None
    if not (neither or (both and data.quiet_from != data.quiet_until)):
        raise Invalid(
            "invalid_value", "quiet hours need a start and a different end", field="quiet_from"
        )
    off = msgspec.json.encode(sorted(set(data.off))).decode()
    quiet_from, quiet_until = data.quiet_from or "", data.quiet_until or ""
    async with write_transaction(NotifyPreference._meta.db):
        held = (
            await NotifyPreference.select(NotifyPreference.id)
            .where(NotifyPreference.person == principal.id)
            .first()
        )
        if held is None:
            row = NotifyPreference(
                person=principal.id, off=off, quiet_from=quiet_from, quiet_until=quiet_until
            )
            await NotifyPreference.insert(row)
        else:
            await NotifyPreference.update(
                off=off, quiet_from=quiet_from, quiet_until=quiet_until
            ).where(NotifyPreference.id == held["id"])
    return await preferences(principal)
