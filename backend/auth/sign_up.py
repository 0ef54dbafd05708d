"""Residents come in by themselves: a code by SMS proves the phone, then they sign up, or set
a new password when they forgot theirs.

``POST /api/auth/sms-code`` sends the code (backend/sms/). For ``reset`` it answers 202
whether or not the phone has an account, and sends only if it has one: the answer tells
nobody which phones are residents'. For ``sign_up`` a taken phone is 409 at once, as the
sign-up itself would say so anyway. Codes are limited per phone (one a minute, five a day)
and per client address, on top of the SMS feature's daily cap per phone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

import anyio
import msgspec
from litestar import Controller, post
from litestar.datastructures import State
from litestar.params import JSONBody

from backend.areas.tables import Area, AreaLevel
from backend.auth import revocation
from backend.auth.passwords import hash_password
from backend.auth.schemas import NewPasswordText, SignedIn
from backend.core.errors import Conflict, Invalid
from backend.core.openapi_errors import ANSWERS
from backend.core.ratelimit import Rule, per_address
from backend.core.roles import Role
from backend.people.service import describe
from backend.people.tables import Person
from backend.sms.service import CODE_TTL, send_code, use_code

# Per client address: a phone shop or a community centre may sign up a few residents an hour,
# a script trying phones may not.
CODE_LIMIT = Rule("sms_code", "20/hour", "codes asked from this address")
CODE_PHONE_MINUTE = Rule("sms_code_phone", "1/minute", "codes asked for this phone")
CODE_PHONE_DAY = Rule("sms_code_phone_day", "5/day", "codes asked for this phone today")
SIGN_UP_LIMIT = Rule("sign_up", "20/minute", "sign-ups and resets from this address")

RESEND_AFTER_S = 60

# An 11-digit mainland mobile, as the roster stores phones: sign-in compares phones as typed.
Mobile = Annotated[str, msgspec.Meta(pattern=r"^1[3-9][0-9]{9}$")]
SixDigits = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{6}$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
CommunityCode = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{12}$")]


class CodeRequest(msgspec.Struct, forbid_unknown_fields=True):
    phone: Mobile
    purpose: Literal["sign_up", "reset"]


class CodeSent(msgspec.Struct):
    expires_in: int  # seconds the code lasts
    resend_after: int  # seconds before another may be asked for this phone


class SignUp(msgspec.Struct, forbid_unknown_fields=True):
    phone: Mobile
    code: SixDigits
    password: NewPasswordText
    name: Name
    home_community: CommunityCode | None = None


class PasswordReset(msgspec.Struct, forbid_unknown_fields=True):
    phone: Mobile
    code: SixDigits
    new_password: NewPasswordText


class SignUpController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    @post(
        "/sms-code",
        status_code=202,
        summary="Send a 6-digit code by SMS for sign-up or a password reset",
        description=(
            "202 with how long the code lasts; for `reset` whether or not the phone has an "
            "account (the code goes only to an account's phone). 409 `phone_taken` for "
            "`sign_up` to a phone with an account. A code lasts 5 minutes and takes 5 tries. "
            "429 past one a minute or five a day for a phone, 20 an hour from one address, or "
            "the daily cap of messages to a phone (`sms_daily_cap`); 503 `sms_unavailable` "
            "when the SMS provider fails."
        ),
        before_request=per_address(CODE_LIMIT),
        responses={409: ANSWERS[409]},
    )
    async def sms_code(self, data: JSONBody[CodeRequest], state: State) -> CodeSent:
        if data.purpose == "sign_up" and await _taken(data.phone):
            raise Conflict("phone_taken", "this phone has an account: sign in or reset it")
        # Spent for a phone without an account too: the limits answer alike either way.
        await state.limiter.hit(CODE_PHONE_MINUTE, data.phone)
        await state.limiter.hit(CODE_PHONE_DAY, data.phone)
        if data.purpose == "sign_up" or await _account(data.phone) is not None:
            await send_code(data.phone, data.purpose, settings=state.settings)
        return CodeSent(int(CODE_TTL.total_seconds()), RESEND_AFTER_S)

    @post(
        "/sign-up",
        status_code=201,
        summary="Sign up as a resident with the SMS code; the answer signs you in",
        description=(
            "201 with a token, as sign-in answers. 403 `code_expired`, `code_exhausted` or "
            "`wrong_code` (with `tries_left`); 409 `phone_taken`; 422 `unknown_community` "
            "for a home community that is not one."
        ),
        before_request=per_address(SIGN_UP_LIMIT),
        responses={403: ANSWERS[403], 409: ANSWERS[409]},
    )
    async def sign_up(self, data: JSONBody[SignUp], state: State) -> SignedIn:
        area = await _community(data.home_community) if data.home_community else None
        if await _taken(data.phone):
            raise Conflict("phone_taken", "this phone has an account: sign in or reset it")
        await use_code(data.phone, "sign_up", data.code, settings=state.settings)
        password_hash = await anyio.to_thread.run_sync(hash_password, data.password)
        rows = (
            await Person.insert(
                Person(
                    name=data.name,
                    phone=data.phone,
                    role=Role.resident,
                    area=area,
                    password_hash=password_hash,
                    active=True,
                    created_at=datetime.now(UTC),
                )
            )
            .on_conflict(action="DO NOTHING")
            .returning(Person.id)
        )
        if not rows:  # signed up at the same moment by another request
            raise Conflict("phone_taken", "this phone has an account: sign in or reset it")
        person = rows[0]["id"]
        token, expires_at = revocation.issue(person, 0, state.settings)
        return SignedIn(token, "bearer", expires_at, await describe(person))

    @post(
        "/password-reset",
        status_code=200,
        summary="Set a new password with the SMS code: every token is revoked, a new one returned",
        description=(
            "403 `code_expired`, `code_exhausted` or `wrong_code` (with `tries_left`); a phone "
            "without an account was sent no code, so it is `code_expired` too."
        ),
        before_request=per_address(SIGN_UP_LIMIT),
        responses={403: ANSWERS[403], 409: ANSWERS[409]},
    )
    async def password_reset(self, data: JSONBody[PasswordReset], state: State) -> SignedIn:
        await use_code(data.phone, "reset", data.code, settings=state.settings)
        person = await _account(data.phone)
        if person is None:  # deactivated since the code was sent
            raise Conflict("no_account", "this phone has no active account")
        new_hash = await anyio.to_thread.run_sync(hash_password, data.new_password)
        generation = await revocation.change_password(person, new_hash)
        token, expires_at = revocation.issue(person, generation, state.settings)
        return SignedIn(token, "bearer", expires_at, await describe(person))


async def _account(phone: str) -> int | None:
    """The id of the active account of ``phone``."""
    row = (
        await Person.select(Person.id)
        .where((Person.phone == phone) & Person.active.eq(True))
        .first()
    )
    return None if row is None else row["id"]


async def _taken(phone: str) -> bool:
    """Whether any account, active or not, holds ``phone`` (phones are unique)."""
    return await Person.exists().where(Person.phone == phone)


async def _community(code: str) -> int:
    row = (
        await Area.select(Area.id)
        .where((Area.code == code) & (Area.level == AreaLevel.community))
        .first()
    )
    if row is None:
        raise Invalid("unknown_community", f"no community {code!r}", field="home_community")
    return row["id"]
