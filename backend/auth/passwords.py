"""Password hashing with the standard library's scrypt (memory-hard, no extra dependency)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from backend.auth.encoding import b64decode, b64encode

_N, _R, _P = 2**14, 8, 1


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash``, all that is needed to check it later.

    >>> check_password("secret", hash_password("secret"))
    True
    """
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "$".join(
        ["scrypt", str(_N), str(_R), str(_P), b64encode(salt), b64encode(digest)],
    )


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        actual = hashlib.scrypt(
            password.encode(), salt=b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, b64decode(digest))


# A well-formed hash no password matches: checked in place of a missing account's.
UNUSABLE_HASH = hash_password("", salt=b"wangge-no-account")
