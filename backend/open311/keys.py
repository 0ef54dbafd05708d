"""The api_keys of the city systems that POST service requests: issued by the city admin
(``wangge open311-key``, ``/api/open311/keys``), kept as SHA-256 hashes, revocable.

A key is shown once, when it is made. One system has at most one live key; revoking it and
issuing another replaces a key that leaked.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import msgspec

from backend.core.db import write_transaction
from backend.core.errors import Conflict, Invalid, NotFound
from backend.open311.tables import Open311Key

PREFIX = "o311_"  # tells a leaked key for what it is when it turns up in a log or a repository


class KeyOut(msgspec.Struct):
    name: str
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


class NewKey(msgspec.Struct):
    name: str
    api_key: str  # shown this once: only its hash is kept
    created_at: str


@dataclass(frozen=True)
class Client:
    """The system behind a valid key."""

    id: int
    name: str


def key_hash(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _check_name(name: str) -> None:
    if not (1 <= len(name) <= 64 and name == name.strip() and name.isprintable()):
        raise Invalid(
            "invalid_name", "a system's name is 1 to 64 printable characters, not blank-edged"
        )


async def create(name: str) -> NewKey:
    """A new key for the system ``name``; 409 while it has a live one."""
    _check_name(name)
    api_key = PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    exists = Conflict("key_exists", f"{name!r} has a key already; revoke it before issuing another")
    try:
        async with write_transaction(Open311Key._meta.db):
            if await Open311Key.exists().where(
                Open311Key.name == name, Open311Key.revoked_at.is_null()
            ):
                raise exists
            row = Open311Key(name=name, key_hash=key_hash(api_key), created_at=now)
            await Open311Key.insert(row)
    except asyncpg.UniqueViolationError:
        # Another key for the same system committed while this one waited on the index.
        raise exists from None
    return NewKey(name, api_key, now.isoformat())


async def listed() -> list[KeyOut]:
    """Every key ever issued, live and revoked, by name and age."""
    rows = await Open311Key.select().order_by(Open311Key.name).order_by(Open311Key.id)
    return [
        KeyOut(
            r["name"], r["created_at"].isoformat(), _iso(r["last_used_at"]), _iso(r["revoked_at"])
        )
        for r in rows
    ]


async def revoke(name: str) -> None:
    """Revoke the live key of ``name``; 404 if it has none."""
    async with write_transaction(Open311Key._meta.db):
        row = (
            await Open311Key.select(Open311Key.id)
            .where(Open311Key.name == name, Open311Key.revoked_at.is_null())
            .first()
        )
        if row is None:
            raise NotFound("open311 key", name, f"{name!r} has no live key")
        await Open311Key.update({Open311Key.revoked_at: datetime.now(UTC)}).where(
            Open311Key.id == row["id"]
        )


async def client_of(api_key: str) -> Client | None:
    """The system a live key belongs to (noting that it was used now), or None."""
    if not api_key.startswith(PREFIX):
        return None
    row = (
        await Open311Key.select(Open311Key.id, Open311Key.name)
        .where(Open311Key.key_hash == key_hash(api_key), Open311Key.revoked_at.is_null())
        .first()
    )
    if row is None:
        return None
    await Open311Key.update({Open311Key.last_used_at: datetime.now(UTC)}).where(
        Open311Key.id == row["id"]
    )
    return Client(row["id"], row["name"])
