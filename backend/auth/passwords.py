"""Password hashing: Argon2id with OWASP's parameters (m = 19 MiB, t = 2, p = 1).

Hashes made before by the standard library's scrypt (``scrypt$N$r$p$salt$hash``, N = 2^14)
still verify; :func:`needs_rehash` says so, and sign-in stores an Argon2id hash in their place.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from backend.auth.encoding import b64decode

# OWASP Password Storage Cheat Sheet, Argon2id's first configuration.
MEMORY_KIB, TIME_COST, PARALLELISM = 19_456, 2, 1

_hasher = PasswordHasher(
    time_cost=TIME_COST,
    memory_cost=MEMORY_KIB,
    parallelism=PARALLELISM,
    hash_len=32,
    salt_len=16,
    type=Type.ID,
)
_SCRYPT = "scrypt$"


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """An Argon2id hash in PHC form (``$argon2id$v=19$m=19456,t=2,p=1$salt$hash``).

    >>> check_password("secret", hash_password("secret"))
    True
    """
    return _hasher.hash(password, salt=salt)


def check_password(password: str, stored: str) -> bool:
    if stored.startswith(_SCRYPT):
        return _check_scrypt(password, stored)
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` is of an older scheme or parameters: hash the password again.

    >>> needs_rehash(hash_password("secret"))
    False
    >>> needs_rehash("scrypt$16384$8$1$c2FsdA$aGFzaA")
    True
    """
    try:
        return _hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def _check_scrypt(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        actual = hashlib.scrypt(
            password.encode(), salt=b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, b64decode(digest))


# Checked in place of a missing or disabled account's hash, so that the answer takes as long
# as for a real one; made from a random secret, so that no password matches it.
UNUSABLE_HASH = hash_password(secrets.token_urlsafe(32))
