"""Revoking tokens before they expire: one token at sign-out, all of a person's when their
password changes or they are taken off duty.

Two ways, because they answer two needs. A sign-out names one token (its ``jti``) in
``revoked_token`` until the token would have expired: signing out of a shared phone must not
sign the same worker out of the centre's desktop. A new password or a deactivation raises the
person's ``token_generation``: every token issued before is void at once, with nothing to
store per token. Both are checked by the one statement that already reads the person
(backend/auth/principal.py), so revocation costs no extra query per request.

Every revocation appends ``auth.revoked`` to the event log in its transaction (subject
``person:ID``, an empty scope, so no subscriber hears it). That is how the other processes
learn of it: each live hub reads the log anyway, closes the revoked sockets with 4401 and
forgets its cached principals (backend/live/hub.py). In the process that revokes, the cache
is forgotten as soon as the transaction commits.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime

import msgspec

from backend.auth.principal import forget_people, forget_token
from backend.auth.tokens import TokenClaims, issue_token, new_token_id
from backend.core.db import write_transaction
from backend.core.events import EventType
from backend.core.settings import Settings
from backend.events.service import NewEvent, append
from backend.people.tables import Person, RevokedToken

_CHUNK = 500  # ids per IN (...): SQLite bounds a statement's parameters


class Revoked(msgspec.Struct, omit_defaults=True):
    """The payload of ``auth.revoked``: one token by ``jti``, or all the person's tokens
    issued below ``generation``."""

    person: int
    why: str  # sign_out, password, deactivated
    jti: str | None = None
    generation: int | None = None

    def voids(self, claims: TokenClaims) -> bool:
        if claims.sub != self.person:
            return False
        if self.jti is not None:
            return claims.jti == self.jti
        return self.generation is not None and claims.gen < self.generation


def _event(revoked: Revoked, actor: int | None) -> NewEvent:
    payload = msgspec.to_builtins(revoked)
    return NewEvent(EventType.auth_revoked, f"person:{revoked.person}", "", payload, actor)


def issue(person: int, generation: int, settings: Settings) -> tuple[str, int]:
    """A new token for ``person`` in their current ``generation``, and when it expires."""
    expires_at = int(time.time()) + settings.token_ttl_hours * 3600
    claims = TokenClaims(sub=person, exp=expires_at, gen=generation, jti=new_token_id())
    return issue_token(claims, settings.secret_key), expires_at


async def sign_out(claims: TokenClaims) -> None:
    """Revoke this token alone; the person's other devices stay signed in."""
    engine = RevokedToken._meta.db
    if not claims.jti:
        # A token issued before tokens had ids cannot be named alone: all of its person's go.
        async with write_transaction(engine):
            await raise_generations([claims.sub], "sign_out", actor=claims.sub)
        forget_people({claims.sub})
        return
    async with write_transaction(engine):
        # The rows of tokens that have expired since guard nothing any more.
        await RevokedToken.delete().where(RevokedToken.expires_at < datetime.now(UTC))
        row = RevokedToken(
            jti=claims.jti, person=claims.sub, expires_at=datetime.fromtimestamp(claims.exp, UTC)
        )
        await RevokedToken.insert(row).on_conflict(action="DO NOTHING")
        await append([_event(Revoked(claims.sub, "sign_out", jti=claims.jti), claims.sub)])
    forget_token(claims.sub, claims.jti)


async def raise_generations(
    people: Sequence[int], why: str, *, actor: int | None = None
) -> dict[int, int]:
    """Void every token of ``people``, inside the caller's write transaction (call it last:
    it appends events); their new generations. After the commit, call :func:`forget`."""
    generations: dict[int, int] = {}
    people = list(people)
    for start in range(0, len(people), _CHUNK):
        rows = (
            await Person.update({Person.token_generation: Person.token_generation + 1})
            .where(Person.id.is_in(people[start : start + _CHUNK]))
            .returning(Person.id, Person.token_generation)
        )
        generations |= {r["id"]: r["token_generation"] for r in rows}
    await append(
        [_event(Revoked(p, why, generation=g), actor) for p, g in sorted(generations.items())]
    )
    return generations


def forget(people: Sequence[int]) -> None:
    """After the commit of :func:`raise_generations`: this process asks the database again."""
    forget_people(set(people))


async def change_password(person: int, new_hash: str) -> int:
    """Store ``new_hash`` (the person's own choice: a one-time password is used up) and void
    every token of ``person``; their new generation."""
    engine = Person._meta.db
    async with write_transaction(engine):
        await Person.update(
            {Person.password_hash: new_hash, Person.must_change_password: False}
        ).where(Person.id == person)
        generation = (await raise_generations([person], "password", actor=person))[person]
    forget([person])
    return generation
