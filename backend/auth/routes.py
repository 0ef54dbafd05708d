from __future__ import annotations

import time

import anyio
from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import JSONBody

from backend.auth.passwords import UNUSABLE_HASH, check_password
from backend.auth.principal import Principal
from backend.auth.schemas import SignedIn, SignIn
from backend.auth.tokens import TokenClaims, issue_token
from backend.core.ratelimit import Rule, per_address
from backend.errors import ApiError
from backend.people.schemas import Me
from backend.people.service import describe
from backend.people.tables import Person

# Per client address; a community centre behind one NAT still signs in a room of people.
SIGN_IN_LIMIT = Rule("sign_in", "30/minute", "sign-ins from this address")
# Per phone, whatever the address: failures only, so that spraying one password over many
# addresses cannot guess an account's, while its owner signing in is never held up by others.
SIGN_IN_FAILURES = Rule("sign_in_failures", "10/15minutes", "wrong passwords for this phone")


class AuthController(Controller):
    path = "/api"
    tags = ["auth"]

    @post(
        "/auth/sign-in",
        status_code=200,
        summary="Sign in by phone and password",
        before_request=per_address(SIGN_IN_LIMIT),
    )
    async def sign_in(self, data: JSONBody[SignIn], state: State) -> SignedIn:
        # Checked before the hash: a phone under attack costs no CPU once it is locked.
        await state.limiter.check(SIGN_IN_FAILURES, data.phone)
        row = (
            await Person.select(Person.id, Person.active, Person.password_hash)
            .where(Person.phone == data.phone)
            .first()
        )
        usable = row is not None and row["active"]
        # The hash is checked even for an unknown phone, so the answer takes as long either
        # way and cannot be used to find out which phones have accounts. It runs in a
        # thread: scrypt would otherwise hold the event loop for tens of milliseconds.
        stored = row["password_hash"] if usable else UNUSABLE_HASH
        matches = await anyio.to_thread.run_sync(check_password, data.password, stored)
        if not (usable and matches):
            await state.limiter.spend(SIGN_IN_FAILURES, data.phone)
            raise ApiError(401, "bad_credentials", "phone or password is wrong")
        settings = state.settings
        expires_at = int(time.time()) + settings.token_ttl_hours * 3600
        token = issue_token(TokenClaims(sub=row["id"], exp=expires_at), settings.secret_key)
        return SignedIn(token, "bearer", expires_at, await describe(row["id"]))

    @get("/me", summary="The signed-in person, their role, area and grid posts")
    async def me(self, principal: NamedDependency[Principal]) -> Me:
        return await describe(principal.id)
