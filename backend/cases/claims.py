"""Anonymous requests claimed into an account: a resident who reported without one, then
signed up with the same phone, brings those cases into "my requests" with their tracking
codes.

Both must hold: the code opens the case, and the case's contact phone is the resident's own
(proved by SMS at sign-up). Claims are all or nothing: one unknown code (404) or one case of
another phone (403) and nothing is written.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from backend.cases import tracking
from backend.cases.tables import Case
from backend.core.db import write_transaction
from backend.core.errors import Forbidden, NotFound
from backend.core.principal import Principal, require_role
from backend.core.roles import Role

CodeText = Annotated[str, msgspec.Meta(max_length=32)]


class ClaimIn(msgspec.Struct, forbid_unknown_fields=True):
    codes: Annotated[list[CodeText], msgspec.Meta(min_length=1, max_length=10)]


class Claimed(msgspec.Struct):
    cases: list[int]  # the ids now among the resident's own, in the order of the codes


def national(phone: str) -> str:
    """The digits of ``phone`` without the country code, to compare phones written apart.

    >>> national("+86 138-1234-5678"), national("008613812345678"), national("13812345678")
    ('13812345678', '13812345678', '13812345678')
    """
    digits = "".join(c for c in phone if c.isdigit())
    if digits.startswith("0086"):
        return digits[4:]
    if len(digits) == 13 and digits.startswith("86"):
        return digits[2:]
    return digits


async def claim(codes: list[str], principal: Principal, secret: str) -> Claimed:
    require_role(principal, Role.resident)
    own = national(principal.phone)
    found: list[int] = []
    for position, text in enumerate(codes):
        code = tracking.read(text)
        row = None
        if code is not None:
            row = (
                await Case.select(Case.id, Case.reporter, Case.contact_phone)
                .where(Case.tracking_key == tracking.key_of(secret, code))
                .first()
            )
        if row is None:
            raise NotFound("tracking code", "****")
        theirs = row["contact_phone"] is not None and national(row["contact_phone"]) == own
        if row["reporter"] not in (None, principal.id) or not theirs:
            raise Forbidden(
                "not_your_case", "this case was not reported with your phone", index=position
            )
        found.append(row["id"])
    async with write_transaction(Case._meta.db):
        await Case.update({Case.reporter: principal.id}).where(
            Case.id.is_in(found) & Case.reporter.is_null()
        )
    return Claimed(found)
