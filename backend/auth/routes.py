from __future__ import annotations

import anyio
from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import JSONBody

from backend.auth import revocation
from backend.auth.passwords import UNUSABLE_HASH, check_password, hash_password, needs_rehash
from backend.auth.principal import (
    OPEN_BEFORE_PASSWORD_CHANGE,
    Principal,
    authenticate,
    bearer_token,
)
from backend.auth.schemas import NewPassword, SignedIn, SignIn
from backend.core.errors import Forbidden, Invalid, Unauthenticated
from backend.core.openapi_errors import ANSWERS
from backend.core.ratelimit import Rule, per_address
from backend.people.schemas import Me
from backend.people.service import describe
from backend.people.tables import Person

# Per client address; a community centre behind one NAT still signs in a room of people.
SIGN_IN_LIMIT = Rule("sign_in", "30/minute", "sign-ins from this address")
# Per phone, whatever the address: failures only, so that spraying one password over many
# addresses cannot guess an account's, while its owner signing in is never held up by others.
SIGN_IN_FAILURES = Rule("sign_in_failures", "10/15minutes", "wrong passwords for this phone")
# Per client address, apart from sign-ins: changing one's password is rare and needs a token.
PASSWORD_LIMIT = Rule("password", "10/minute", "password changes from this address")


class AuthController(Controller):
    path = "/api"
    tags = ["auth"]

    @post(
        "/auth/sign-in",
        status_code=200,
        summary="Sign in by phone and password",
        description=(
            "401 `bad_credentials` for a wrong phone or password (the same answer, in the same "
            "time, whether the phone has an account); 429 after 30 tries a minute from one "
            "address or 10 wrong passwords for one phone in 15 minutes; 403 `account_disabled` "
            "for the right password of a deactivated person. `must_change_password`: signed in "
            "with a one-time password, to be changed (`POST /api/auth/password`) before "
            "anything else."
        ),
        before_request=per_address(SIGN_IN_LIMIT),
        responses={401: ANSWERS[401], 403: ANSWERS[403]},
    )
    async def sign_in(self, data: JSONBody[SignIn], state: State) -> SignedIn:
        # Checked before the hash: a phone under attack costs no CPU once it is locked.
        await state.limiter.check(SIGN_IN_FAILURES, data.phone)
        account = (
            await Person.select(
                Person.id,
                Person.active,
                Person.password_hash,
                Person.token_generation,
                Person.must_change_password,
            )
            .where(Person.phone == data.phone)
            .first()
        )
        # The hash is checked even for an unknown phone, so the answer takes as long either
        # way and cannot be used to find out which phones have accounts. It runs in a
        # thread: Argon2id would otherwise hold the event loop for tens of milliseconds.
        stored = account["password_hash"] if account is not None else UNUSABLE_HASH
        matches = await anyio.to_thread.run_sync(check_password, data.password, stored)
        if account is None or not matches:
            await state.limiter.spend(SIGN_IN_FAILURES, data.phone)
            raise Unauthenticated("bad_credentials", "phone or password is wrong")
        if not account["active"]:
            # Said only to whoever knows the password: a person taken off duty learns why.
            raise Forbidden(
                "account_disabled", "账号已停用 this account is deactivated: ask your centre"
            )
        if needs_rehash(account["password_hash"]):
            await _rehash(account["id"], account["password_hash"], data.password)
        generation = account["token_generation"]
        token, expires_at = revocation.issue(account["id"], generation, state.settings)
        person = await describe(account["id"])
        return SignedIn(token, "bearer", expires_at, person, account["must_change_password"])

    @post(
        "/auth/sign-out",
        status_code=204,
        summary="Revoke the token this request carries (other devices stay signed in)",
        responses={401: ANSWERS[401]},
    )
    async def sign_out(self, request: Request, state: State) -> None:
        claims, _ = await authenticate(_bearer(request), state.settings)
        await revocation.sign_out(claims)

    @post(
        "/auth/password",
        status_code=200,
        summary="Change one's password: every other token is revoked, a new one returned",
        before_request=per_address(PASSWORD_LIMIT),
        opt={OPEN_BEFORE_PASSWORD_CHANGE: True},
    )
    async def change_password(
        self, data: JSONBody[NewPassword], principal: NamedDependency[Principal], state: State
    ) -> SignedIn:
        # Whoever holds a stolen token must not take the account over: the old password is
        # asked, and wrong ones count against the phone's budget as at sign-in.
        await state.limiter.check(SIGN_IN_FAILURES, principal.phone)
        row = await Person.select(Person.password_hash).where(Person.id == principal.id).first()
        stored = row["password_hash"] if row else UNUSABLE_HASH
        if not await anyio.to_thread.run_sync(check_password, data.old_password, stored):
            await state.limiter.spend(SIGN_IN_FAILURES, principal.phone)
            raise Forbidden("wrong_password", "the old password is wrong")
        if data.new_password == data.old_password:
            # A one-time password must stop working once it is changed.
            raise Invalid("same_password", "the new password must differ from the old one")
        new_hash = await anyio.to_thread.run_sync(hash_password, data.new_password)
        generation = await revocation.change_password(principal.id, new_hash)
        token, expires_at = revocation.issue(principal.id, generation, state.settings)
        return SignedIn(token, "bearer", expires_at, await describe(principal.id))

    @get(
        "/me",
        summary="The signed-in person, their role, area and grid posts",
        opt={OPEN_BEFORE_PASSWORD_CHANGE: True},
    )
    async def me(self, principal: NamedDependency[Principal]) -> Me:
        return await describe(principal.id)


def _bearer(request: Request) -> str:
    token = bearer_token(request)
    if token is None:
        raise Unauthenticated(
            "unauthenticated", "sign in first: send Authorization: Bearer <token>"
        )
    return token


async def _rehash(person: int, old_hash: str, password: str) -> None:
    """Store an Argon2id hash in place of an older one, now that the password is known.
    Only over that very hash: a password changed meanwhile stays as it was set."""
    new_hash = await anyio.to_thread.run_sync(hash_password, password)
    await Person.update({Person.password_hash: new_hash}).where(
        (Person.id == person) & (Person.password_hash == old_hash)
    )
