"""Turning the event log into notices and messages to send, once each.

One write transaction reads the events after the cursor, writes each recipient's notice and
its messages (a push per device, or a text message) to the outbox, and moves the cursor: a
process killed half-way leaves all of it undone, and the next run does it again. Every notice
and message has a unique key made of its source, its person and its channel, so a run that
reads the same source twice (the due-time scan, a race between two processes) adds nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from piccolo.engine import PostgresEngine

from backend.cases.service import FINAL
from backend.cases.tables import Case
from backend.core.db import raw, write_transaction
from backend.core.settings import Settings
from backend.events.service import StoredEvent, after, head
from backend.notify.rules import DUE_SOON, RULES, Rule, case_row
from backend.notify.tables import Notice, NotifyCursor, NotifyPreference, Outbox, PushSubscription
from backend.people.tables import Person

DUE_AHEAD = timedelta(hours=1)
CHUNK = 500  # rows per INSERT statement (SQLite takes at most 32,766 parameters)


class _Blank(dict[str, Any]):
    """Format values: a field an event does not carry reads as empty, never as an error."""

    def __missing__(self, key: str) -> str:
        return ""


@dataclass
class Draft:
    key: str
    person: int | None
    kind: str
    title: str
    body: str
    url: str
    urgent: bool
    sms: str | None = None  # template, for a person without a device or a contact phone
    phone: str = ""
    params: dict[str, str] = field(default_factory=dict)


def _text(rule: Rule, fields: dict[str, Any]) -> tuple[str, str, str]:
    values = _Blank(fields)
    return (
        rule.title.format_map(values)[:128],
        rule.body.format_map(values)[:512],
        rule.url.format_map(values)[:256],
    )


def _fields(subject: str, payload: dict[str, Any], case: dict[str, Any] | None) -> dict[str, Any]:
    fields = {k: "" if v is None else v for k, v in payload.items()}
    fields["id"] = subject.partition(":")[2]
    fields["case"] = _Blank(case or {})
    return fields


async def drafts_of(event: StoredEvent, settings: Settings) -> list[Draft]:
    """Every notice one event makes, by :data:`RULES`."""
    payload: dict[str, Any] = msgspec.json.decode(event.payload)
    case: dict[str, Any] | None = None
    out: list[Draft] = []
    for rule in RULES:
        if event.type not in rule.events or not rule.when(payload):
            continue
        if case is None and event.subject.startswith("case:"):
            case = await case_row(event)
        title, body, url = _text(rule, _fields(event.subject, payload, case))
        params = {"case": str(case["id"])} if case else {}
        for person in await rule.who(event, payload):
            key = f"e{event.id}:{person}"
            out.append(
                Draft(key, person, rule.kind, title, body, url, rule.urgent, rule.sms, "", params)
            )
        if rule.contact_sms and case and case["reporter"] is None and case["contact_phone"]:
            out.append(_contact(event, rule, case, settings, title, body, url))
    return out


def _contact(
    event: StoredEvent, rule: Rule, case: dict[str, Any], settings: Settings, *text: str
) -> Draft:
    params = {"case": str(case["id"])}
    if rule.contact_sms == "notice_closed":
        # The tracking code is never stored: the link opens the page the code is typed into,
        # on the phone the code was sent to.
        params["link"] = f"{public_url(settings)}/app/track"
    title, body, url = text
    return Draft(
        f"e{event.id}:c", None, rule.kind, title, body, url, rule.urgent,
        rule.contact_sms, case["contact_phone"], params,
    )  # fmt: skip


def public_url(settings: Settings) -> str:
    return settings.public_url or f"http://{settings.host}:{settings.port}"


async def due_soon(now: datetime) -> list[Draft]:
    """A notice to whoever has an open case falling due within the hour, once per due time."""
    rows = await Case.select(Case.id, Case.due_at, Case.description).where(
        Case.status.not_in(sorted(str(s) for s in FINAL))
        & (Case.due_at > now)
        & (Case.due_at <= now + DUE_AHEAD)
        & Case.paused_at.is_null()  # 挂起: its clock stands still
    )
    out: list[Draft] = []
    for row in rows:
        subject = f"case:{row['id']}"
        # After every event of the case: the assignee as the log last dispatched it.
        probe = StoredEvent(2**62, now, "", subject, "", None, msgspec.Raw(b"{}"))
        title, body, url = _text(DUE_SOON, _fields(subject, {}, row))
        stamp = int(row["due_at"].timestamp())
        for person in await DUE_SOON.who(probe, {}):
            key = f"due:{row['id']}:{stamp}:{person}"
            params = {"case": str(row["id"])}
            out.append(
                Draft(key, person, DUE_SOON.kind, title, body, url, False, DUE_SOON.sms, "", params)
            )
    return out


@dataclass(frozen=True)
class Preference:
    off: frozenset[str]
    quiet: tuple[time, time] | None


async def preferences(people: Iterable[int]) -> dict[int, Preference]:
    ids = sorted(set(people))
    if not ids:
        return {}
    rows = await NotifyPreference.select().where(NotifyPreference.person.is_in(ids))
    out = {}
    for r in rows:
        quiet = None
        if r["quiet_from"] and r["quiet_until"]:
            quiet = (time.fromisoformat(r["quiet_from"]), time.fromisoformat(r["quiet_until"]))
        out[r["person"]] = Preference(frozenset(msgspec.json.decode(r["off"])), quiet)
    return out


def quiet_end(quiet: tuple[time, time], now: datetime, zone: ZoneInfo) -> datetime | None:
    """The end of the quiet hours ``now`` falls in, or None outside them (a span may cross
    midnight: 22:00–07:00)."""
    local = now.astimezone(zone)
    start, end = quiet
    t = local.time()
    inside = start <= t < end if start <= end else (t >= start or t < end)
    if not inside:
        return None
    until = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if until <= local:
        until += timedelta(days=1)
    return until.astimezone(UTC)


@lru_cache(maxsize=4)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _values_sql(table: str, columns: Sequence[str], count: int, returning: str) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    row = "(" + ", ".join("{}" for _ in columns) + ")"
    return (
        f'INSERT INTO "{table}" ({names}) VALUES ' + ", ".join([row] * count)
        + f' ON CONFLICT ("key") DO NOTHING RETURNING {returning}'
    )  # fmt: skip


async def _insert(
    table: type[Notice] | type[Outbox], columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for start in range(0, len(rows), CHUNK):
        part = rows[start : start + CHUNK]
        sql = _values_sql(table._meta.tablename, columns, len(part), '"id", "key"')
        out += await raw(table, sql, *[v for r in part for v in r])
    return out


_NOTICE = ("key", "person", "kind", "title", "body", "url", "at")
_OUTBOX = ("key", "notice", "channel", "phone", "template", "params", "status", "tries",
           "next_at", "error")  # fmt: skip


async def store(drafts: list[Draft], now: datetime, settings: Settings) -> int:
    """Write the notices and their messages; the number of messages. Inside a transaction."""
    people = {d.person for d in drafts if d.person is not None}
    prefs = await preferences(people)
    drafts = [d for d in drafts if d.person is None or d.kind not in _off(prefs, d.person)]
    if not drafts:
        return 0
    devices: dict[int, list[int]] = defaultdict(list)
    phones: dict[int, str] = {}
    if people:
        for r in await PushSubscription.select(PushSubscription.id, PushSubscription.person).where(
            PushSubscription.person.is_in(sorted(people))
        ):
            devices[r["person"]].append(r["id"])
        for r in await Person.select(Person.id, Person.phone).where(
            Person.id.is_in(sorted(people))
        ):
            phones[r["id"]] = r["phone"]
    personal = [d for d in drafts if d.person is not None]
    made = await _insert(
        Notice,
        _NOTICE,
        [(d.key, d.person, d.kind, d.title, d.body, d.url, now) for d in personal],
    )
    new = {r["key"]: r["id"] for r in made}
    zone = _zone(settings.timezone)
    messages: list[tuple[Any, ...]] = []
    for d in drafts:
        if d.person is None:  # a contact phone: its own message, no notice
            messages.append(_sms_row(d.key + ":sms", None, d.phone, d, now))
            continue
        notice = new.get(d.key)
        if notice is None:  # made by an earlier run
            continue
        pref = prefs.get(d.person)
        when = now
        if pref and pref.quiet and not d.urgent:
            when = quiet_end(pref.quiet, now, zone) or now
        for device in devices.get(d.person, []):
            messages.append(
                (f"{d.key}:p{device}", notice, f"push:{device}", "", "", "{}", "pending", 0,
                 when, "")
            )  # fmt: skip
        if not devices.get(d.person) and d.sms and phones.get(d.person):
            messages.append(_sms_row(d.key + ":sms", notice, phones[d.person], d, when))
    await _insert(Outbox, _OUTBOX, messages)
    return len(messages)


def _sms_row(key: str, notice: int | None, phone: str, d: Draft, when: datetime) -> tuple[Any, ...]:
    body = msgspec.json.encode(d.params).decode()
    return (key, notice, "sms", phone, d.sms or "", body, "pending", 0, when, "")


def _off(prefs: dict[int, Preference], person: int) -> frozenset[str]:
    pref = prefs.get(person)
    return pref.off if pref else frozenset()


async def _cursor() -> int:
    engine = NotifyCursor._meta.db
    # The one row, made at the log's head the first time: a new install tells no one of
    # what happened before it.
    await raw(
        NotifyCursor,
        'INSERT INTO "notify_cursor" ("id", "last") VALUES (1, {}) ON CONFLICT ("id") DO NOTHING',
        await head(),
    )
    sql = 'SELECT "last" FROM "notify_cursor" WHERE "id" = 1'
    if isinstance(engine, PostgresEngine):
        # Held to the commit: a second process planning at once waits, then reads the new
        # cursor (SQLite's IMMEDIATE transaction does the same for the whole database).
        sql += " FOR UPDATE"
    rows = await raw(NotifyCursor, sql)
    return int(rows[0]["last"])


async def _seen() -> int:
    rows = await raw(NotifyCursor, 'SELECT "last" FROM "notify_cursor" WHERE "id" = 1')
    return int(rows[0]["last"]) if rows else -1


async def plan(
    settings: Settings, now: datetime | None = None, limit: int = 200, *, due: bool = True
) -> tuple[int, int]:
    """One step: the events read and the messages queued. Call it until it reads none.
    ``due``: also look for cases falling due within the hour (a scan of the open cases)."""
    now = now or datetime.now(UTC)
    if not due and await head() <= await _seen():
        return 0, 0  # nothing new: no write lock taken (SQLite has one for everyone)
    async with write_transaction(NotifyCursor._meta.db):
        last = await _cursor()
        events = await after(last, limit=limit)
        drafts: list[Draft] = []
        for event in events:
            drafts += await drafts_of(event, settings)
        if due:
            drafts += await due_soon(now)
        queued = await store(drafts, now, settings)
        if events:
            await NotifyCursor.update(last=events[-1].id).where(NotifyCursor.id == 1)
    return len(events), queued
