"""Revoking tokens over HTTP: sign-out (that token alone), a new password (every token of the
person), a deactivation by the people importer (every token, at once), and the Argon2id hash
that takes an old scrypt hash's place at sign-in."""

from __future__ import annotations

import csv
import hashlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.auth.encoding import b64encode
from backend.auth.passwords import check_password, needs_rehash
from backend.auth.tokens import TokenClaims, issue_token
from backend.core.events import EventType
from backend.core.recent import Recent
from backend.demo import DEMO_PASSWORD
from backend.events.tables import Event
from backend.people.importer import import_people
from backend.people.roster import read_roster
from backend.people.tables import Person, RevokedToken
from geo.demo import DEMO_ACCOUNTS, DEMO_GRID_CODE
from tests.backend.case_steps import Session, sign_in

NEW_PASSWORD = "a-new-password-2026"


@pytest.fixture
async def api(scratch_database) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(scratch_database.settings)) as client:
        yield client


async def on_app(api: AsyncTestClient, work: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """Run ``work`` where the app runs: the test client serves it on an event loop of its own,
    whose database pool and principal cache are the ones requests use."""
    return await anyio.to_thread.run_sync(api.blocking_portal.call, work, *args)


async def me(api: AsyncTestClient, session: Session | dict[str, str]) -> int:
    headers = session.headers if isinstance(session, Session) else session
    return (await api.get("/api/me", headers=headers)).status_code


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_signing_out_revokes_that_token_at_once_and_no_other(api):
    phone, desk = await sign_in(api, "grid_worker"), await sign_in(api, "grid_worker")
    assert (await me(api, phone), await me(api, desk)) == (200, 200)  # both kept in the cache
    person = phone.person_id

    async def expired_row() -> None:
        # Another token of the person, signed out long ago: its row guards nothing any more.
        gone = datetime.now(UTC) - timedelta(days=1)
        await RevokedToken.insert(RevokedToken(jti="expired", person=person, expires_at=gone))

    await on_app(api, expired_row)
    r = await api.post("/api/auth/sign-out", headers=phone.headers)
    assert r.status_code == 204, r.text
    r = await api.get("/api/me", headers=phone.headers)
    assert (r.status_code, r.json()["code"]) == (401, "unauthenticated")
    assert "signed out" in r.json()["reason"]
    assert await me(api, desk) == 200
    assert (await api.post("/api/auth/sign-out", headers=phone.headers)).status_code == 401
    assert (await api.post("/api/auth/sign-out")).status_code == 401

    async def stored() -> tuple[list[str], list[dict]]:
        rows = await RevokedToken.select(RevokedToken.jti).where(RevokedToken.person == person)
        events = await Event.select(Event.subject, Event.scope).where(
            Event.type == EventType.auth_revoked
        )
        return [r["jti"] for r in rows], events

    jtis, events = await on_app(api, stored)
    assert len(jtis) == 1 and jtis != ["expired"]
    # In the log for the other processes, under no scope: no subscriber hears of it.
    assert events == [{"subject": f"person:{person}", "scope": ""}]


async def test_a_token_without_an_id_signs_out_all_of_its_person(api, scratch_database):
    """A token issued before tokens had ids cannot be named alone in revoked_token."""
    desk = await sign_in(api, "grid_worker")
    old = bearer(
        issue_token(
            TokenClaims(sub=desk.person_id, exp=int(time.time()) + 600),
            scratch_database.settings.secret_key,
        )
    )
    assert (await me(api, old), await me(api, desk)) == (200, 200)
    assert (await api.post("/api/auth/sign-out", headers=old)).status_code == 204
    assert (await me(api, old), await me(api, desk)) == (401, 401)
    assert await me(api, await sign_in(api, "grid_worker")) == 200


async def test_a_new_password_revokes_every_token_and_returns_a_fresh_one(api):
    phone, desk = await sign_in(api, "grid_leader"), await sign_in(api, "grid_leader")
    assert (await me(api, phone), await me(api, desk)) == (200, 200)

    body = {"old_password": "wrong-password", "new_password": NEW_PASSWORD}
    r = await api.post("/api/auth/password", json=body, headers=phone.headers)
    assert (r.status_code, r.json()["code"]) == (403, "wrong_password")
    body = {"old_password": DEMO_PASSWORD, "new_password": "short"}
    r = await api.post("/api/auth/password", json=body, headers=phone.headers)
    assert 400 <= r.status_code < 500 and r.status_code not in (401, 403), r.text
    body = {"old_password": DEMO_PASSWORD, "new_password": NEW_PASSWORD}
    assert (await api.post("/api/auth/password", json=body)).status_code == 401
    assert (await me(api, phone), await me(api, desk)) == (200, 200)  # nothing changed yet

    r = await api.post("/api/auth/password", json=body, headers=phone.headers)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert (answer["token_type"], answer["person"]["id"]) == ("bearer", phone.person_id)
    fresh = bearer(answer["token"])
    assert (await me(api, phone), await me(api, desk), await me(api, fresh)) == (401, 401, 200)

    leader = DEMO_ACCOUNTS["grid_leader"]
    old = await api.post("/api/auth/sign-in", json={"phone": leader, "password": DEMO_PASSWORD})
    assert old.status_code == 401
    new = await api.post("/api/auth/sign-in", json={"phone": leader, "password": NEW_PASSWORD})
    assert new.status_code == 200
    assert await me(api, bearer(new.json()["token"])) == 200


def roster(path: Path, on_duty: str) -> Path:
    """The demo community worker as a roster says of them, in post or not."""
    rows = [
        ("姓名", "手机号", "角色", "所属区域", "网格编码", "岗位", "部门", "在岗"),
        ("张社区", DEMO_ACCOUNTS["community_staff"], "社区工作人员", DEMO_GRID_CODE[:12]),
    ]
    rows[1] += ("", "", "", on_duty)
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    return path


async def test_a_deactivation_by_the_importer_revokes_every_token_at_once(api, tmp_path):
    staff = await sign_in(api, "community_staff")
    assert await me(api, staff) == 200

    off = await on_app(api, import_people, read_roster(roster(tmp_path / "off.csv", "否")))
    assert off.applied and len(off.changed) == 1
    r = await api.get("/api/me", headers=staff.headers)
    assert (r.status_code, r.json()["code"]) == (401, "unauthenticated")
    # Back in post, the tokens from before stay void: only a new sign-in works.
    on = await on_app(api, import_people, read_roster(roster(tmp_path / "on.csv", "是")))
    assert on.applied and len(on.changed) == 1
    assert await me(api, staff) == 401
    assert await me(api, await sign_in(api, "community_staff")) == 200


def scrypt_hash(password: str) -> str:
    """A hash as the scrypt scheme before Argon2id stored it."""
    salt = b"sixteen byte slt"
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return "$".join(["scrypt", "16384", "8", "1", b64encode(salt), b64encode(digest)])


async def test_an_old_scrypt_hash_becomes_argon2id_at_the_next_sign_in(scratch_database):
    phone = DEMO_ACCOUNTS["street_staff"]
    old = scrypt_hash(DEMO_PASSWORD)
    await Person.update({Person.password_hash: old}).where(Person.phone == phone)

    async def stored_hash() -> str:
        row = await Person.select(Person.password_hash).where(Person.phone == phone).first()
        return row["password_hash"]

    async with AsyncTestClient(app=create_app(scratch_database.settings)) as api:
        wrong = await api.post("/api/auth/sign-in", json={"phone": phone, "password": "wrong"})
        assert wrong.status_code == 401
        assert await on_app(api, stored_hash) == old  # a failed sign-in rewrites nothing
        right = {"phone": phone, "password": DEMO_PASSWORD}
        assert (await api.post("/api/auth/sign-in", json=right)).status_code == 200
        new = await on_app(api, stored_hash)
        assert new.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert check_password(DEMO_PASSWORD, new) and not needs_rehash(new)
        assert (await api.post("/api/auth/sign-in", json=right)).status_code == 200
        assert await on_app(api, stored_hash) == new  # not hashed again


def test_a_value_read_before_a_forget_is_not_kept():
    """A principal read while a revocation was forgotten may predate it: it is not cached."""
    cache: Recent[str] = Recent(5.0)
    before = cache.forgets
    cache.forget("someone else")
    cache.put("key", "stale", read_after=before)
    assert cache.get("key") is None
    cache.put("key", "fresh", read_after=cache.forgets)
    assert cache.get("key") == "fresh"
