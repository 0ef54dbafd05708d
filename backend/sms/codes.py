"""Verification codes: six digits sent by SMS to prove a phone is the asker's, for a
``purpose`` (sign_up, reset). One live code per phone and purpose (a new one voids the old);
it lasts five minutes and takes five tries, then a new one must be asked for.

The table keeps a keyed hash of the code (HMAC-SHA256 with the server's secret, over purpose,
phone and code): a million codes are quickly tried against a plain hash, not against this.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

from backend.core.db import write_transaction
from backend.core.errors import Forbidden
from backend.sms.tables import SmsCode

TTL = timedelta(minutes=5)
MAX_TRIES = 5


def new_code() -> str:
    """Six random digits.

    >>> len(new_code()), new_code().isdigit()
    (6, True)
    """
    return f"{secrets.randbelow(10**6):06d}"


def code_hash(secret: str, phone: str, purpose: str, code: str) -> str:
    message = f"sms-code\x00{purpose}\x00{phone}\x00{code}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


async def store(phone: str, purpose: str, code: str, secret: str) -> None:
    """Make ``code`` the phone's live code for ``purpose``, in place of any other."""
    async with write_transaction(SmsCode._meta.db):
        await SmsCode.delete().where((SmsCode.phone == phone) & (SmsCode.purpose == purpose))
        await SmsCode.insert(
            SmsCode(
                phone=phone,
                purpose=purpose,
                code_hash=code_hash(secret, phone, purpose, code),
                tries=0,
                expires_at=datetime.now(UTC) + TTL,
            )
        )


async def use(phone: str, purpose: str, code: str, secret: str) -> None:
    """Spend the phone's live code if ``code`` is it; 403 otherwise. A wrong try counts (and
    is committed) before the refusal is raised."""
    async with write_transaction(SmsCode._meta.db):
        row = (
            await SmsCode.select(SmsCode.id, SmsCode.code_hash, SmsCode.tries)
            .where(
                (SmsCode.phone == phone)
                & (SmsCode.purpose == purpose)
                & (SmsCode.expires_at > datetime.now(UTC))
            )
            .first()
        )
        if row is None:
            refusal = Forbidden("code_expired", "no live code for this phone: ask for a new one")
        elif row["tries"] >= MAX_TRIES:
            refusal = Forbidden("code_exhausted", f"{MAX_TRIES} wrong codes: ask for a new one")
        elif hmac.compare_digest(row["code_hash"], code_hash(secret, phone, purpose, code)):
            await SmsCode.delete().where(SmsCode.id == row["id"])
            return
        else:
            # Counted only while below the limit: two guesses at once cannot both slip in.
            await SmsCode.update({SmsCode.tries: SmsCode.tries + 1}).where(
                (SmsCode.id == row["id"]) & (SmsCode.tries < MAX_TRIES)
            )
            left = MAX_TRIES - row["tries"] - 1
            refusal = Forbidden("wrong_code", f"wrong code; {left} tries left", tries_left=left)
    raise refusal
