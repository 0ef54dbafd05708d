"""Tracking codes of anonymous requests: short, unguessable, typed in by hand.

A code is 10 characters of an alphabet without the look-alikes 0/O and 1/I/L (31¹⁰ ≈ 2⁴⁹·⁵
codes); it is shown as ``ABCDE-FGHJK`` and read back in any case, with or without the dash.

A phone that loses the answer to its create sends it again with the same client id and must
get the same code back, yet the code is never stored. So the code is derived from that client
id with the server's secret (HMAC-SHA256), and the table holds only a keyed hash of it. The
client id itself is replaced by one derived from it too: staff see a case's stored client id,
and must not be able to replay it to obtain the resident's code.

Everything here is pure; ``round_`` picks the next code in the rare event that two client ids
give one code (``anonymous`` tries a few).

>>> from uuid import UUID
>>> client = UUID("5f0c1a7e-8d3b-4c2a-9e61-2b7f0d9c4a11")
>>> code = code_for("secret" * 8, client)
>>> len(code), set(code) <= set(ALPHABET), code == code_for("secret" * 8, client)
(10, True, True)
>>> code == code_for("another secret" * 4, client), code == code_for("secret" * 8, client, 1)
(False, False)
>>> read(formatted(code).lower()) == code
True
"""

from __future__ import annotations

import hashlib
import hmac
from uuid import UUID

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 10
ROUNDS = 4  # codes tried for one client id before giving up


def _mac(secret: str, purpose: bytes, message: bytes) -> bytes:
    return hmac.new(secret.encode(), purpose + b"\x00" + message, hashlib.sha256).digest()


def code_for(secret: str, client_id: UUID, round_: int = 0) -> str:
    """The tracking code of the anonymous request sent with ``client_id``."""
    n = int.from_bytes(_mac(secret, b"tracking-code", client_id.bytes + bytes([round_])))
    chars = []
    for _ in range(LENGTH):
        n, i = divmod(n, len(ALPHABET))
        chars.append(ALPHABET[i])
    return "".join(chars)


def key_of(secret: str, code: str) -> str:
    """What the table stores and looks a code up by: 64 hex digits.

    Keyed, so that a copy of the database alone gives no way to try codes offline.
    """
    return _mac(secret, b"tracking-key", code.encode()).hex()


def stored_client_id(secret: str, client_id: UUID) -> UUID:
    """The client id an anonymous case is stored under, derived from the phone's own."""
    return UUID(bytes=_mac(secret, b"anonymous-client", client_id.bytes)[:16], version=4)


def read(text: str) -> str | None:
    """The code typed in ``text`` (any case, spaces and dashes ignored), or None if it is not
    one.

    >>> read(" abcde-fghjk "), read("ABCDE-FGHJ0"), read("ABC")
    ('ABCDEFGHJK', None, None)
    """
    code = "".join(c for c in text.upper() if c not in " -")
    if len(code) != LENGTH or not set(code) <= set(ALPHABET):
        return None
    return code


def formatted(code: str) -> str:
    """``ABCDEFGHJK`` as ``ABCDE-FGHJK``, easier to read out on the phone."""
    return f"{code[:5]}-{code[5:]}"
