"""Bearer tokens: a small signed payload (person, expiry, generation, id), checked without the
database.

Signed with HMAC-SHA256 under the settings' secret key, so every process that shares the key
accepts the same tokens. The same token authenticates HTTP (``Authorization: Bearer``) and the
live socket (its first message or its ``Sec-WebSocket-Protocol``, backend/live/socket.py).

A token can be revoked (backend/auth/revocation.py): ``gen`` must still be its person's
``token_generation`` (raised by a password change or a deactivation), and ``jti`` must not be
in ``revoked_token`` (a sign-out). Tokens from before both existed read as ``gen`` 0, ``jti``
empty.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import msgspec

from backend.auth.encoding import b64decode, b64encode


class TokenClaims(msgspec.Struct, frozen=True, omit_defaults=True):
    sub: int  # the person's id
    exp: int  # unix seconds
    gen: int = 0  # the person's token generation when it was issued
    jti: str = ""  # this token's own id, for signing it out alone


class InvalidToken(Exception):
    pass


def new_token_id() -> str:
    return secrets.token_urlsafe(12)


def issue_token(claims: TokenClaims, secret: str) -> str:
    body = b64encode(msgspec.json.encode(claims))
    return f"{body}.{_sign(body, secret)}"


# Tokens whose signature was found good, with their claims: every request shows its token, and
# checking the signature again (HMAC, base64, JSON) was a tenth of the server's own work on a
# case created (bench/cases.py). A string once signed by the key stays signed by it; expiry and
# revocation are still checked on every use. Emptied when full rather than grown.
_SIGNED_MAX = 10_000
_signed: dict[tuple[str, str], TokenClaims] = {}


def read_token(token: str, secret: str, *, now: float | None = None) -> TokenClaims:
    """The claims of a valid, unexpired token; :class:`InvalidToken` otherwise."""
    claims = _signed.get((token, secret))
    if claims is None:
        claims = _signed_claims(token, secret)
        if len(_signed) >= _SIGNED_MAX:
            _signed.clear()
        _signed[(token, secret)] = claims
    if claims.exp <= (time.time() if now is None else now):
        raise InvalidToken("token expired")
    return claims


def _signed_claims(token: str, secret: str) -> TokenClaims:
    if not token.isascii():
        raise InvalidToken("malformed token")
    body, _, signature = token.partition(".")
    if not body or not hmac.compare_digest(signature, _sign(body, secret)):
        raise InvalidToken("bad signature")
    try:
        return msgspec.json.decode(b64decode(body), type=TokenClaims)
    except (msgspec.DecodeError, ValueError) as exc:
        raise InvalidToken("malformed token") from exc


def _sign(body: str, secret: str) -> str:
    return b64encode(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())
