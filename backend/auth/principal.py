"""Who is asking: the signed-in person behind a request's bearer token.

Checking a token's signature needs no database, but whether its person still exists, is
active, what role they hold and whether the token was revoked does: one statement reads the
person row with the token's entry in ``revoked_token``, if any. The answer is kept for
``FRESH_S`` seconds per database and token (``Recent``). A changed role takes effect within
that time. A revocation (backend/auth/revocation.py) takes effect at once in the process that
made it, which forgets what it kept; every other process forgets it when its live hub reads
the revocation's event from the log (at once with Redis, else within ``WANGGE_LIVE_POLL_S``),
and in any case within ``FRESH_S``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import msgspec
from litestar import Request
from litestar.datastructures import State
from piccolo.engine import Engine

from backend.auth.tokens import InvalidToken, TokenClaims, read_token
from backend.db import raw
from backend.errors import ApiError
from backend.people.tables import Person
from backend.settings import Settings

FRESH_S = 5.0

V = TypeVar("V")


class Recent(Generic[V]):
    """Values read from a database, each kept for ``seconds``; per engine, since tests (and
    tools) use several databases in one process, where the same id is another person.

    Engines are held by reference (Piccolo's PostgreSQL engine takes no weak reference), the
    few most recent ones: a server has one.
    """

    ENGINES = 4

    def __init__(self, seconds: float = FRESH_S, size: int = 10_000) -> None:
        self.seconds = seconds
        self.size = size
        self._held: dict[Engine, dict[Hashable, tuple[float, V]]] = {}
        # Counts the forgets: a value read before one may be stale, and is not kept.
        self.forgets = 0

    def get(self, engine: Engine, key: Hashable) -> V | None:
        held = self._held.get(engine)
        found = None if held is None else held.get(key)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def put(
        self, engine: Engine, key: Hashable, value: V, *, read_after: int | None = None
    ) -> None:
        """Keep ``value``; unless ``read_after`` (``forgets`` when its reading began) shows that
        something was forgotten meanwhile."""
        if read_after is not None and read_after != self.forgets:
            return
        held = self._held.get(engine)
        if held is None:
            while len(self._held) >= self.ENGINES:
                self._held.pop(next(iter(self._held)), None)  # the one that came first
            held = self._held[engine] = {}
        if len(held) >= self.size:
            now = time.monotonic()
            for k, (until, _) in list(held.items()):
                if until < now:
                    held.pop(k, None)
            if len(held) >= self.size:
                held.clear()  # all fresh and too many: start over rather than grow
        held[key] = (time.monotonic() + self.seconds, value)

    def forget(self, engine: Engine, key: Hashable) -> None:
        self.forgets += 1
        held = self._held.get(engine)
        if held is not None:
            held.pop(key, None)

    def forget_where(self, engine: Engine, matches: Callable[[Hashable], bool]) -> None:
        """Forget every key that ``matches``: a scan, for rare events such as revocations."""
        self.forgets += 1
        held = self._held.get(engine)
        if held is not None:
            for key in [k for k in held if matches(k)]:
                held.pop(key, None)


class Principal(msgspec.Struct, frozen=True):
    id: int
    name: str
    phone: str
    role: str
    area_id: int | None


# By (person, token id): a revoked token must not ride on the entry of another, valid one.
_principals: Recent[tuple[Principal, int]] = Recent()

# The person with their token's revocation, in one statement. ``r.id`` is null unless this
# very token was signed out.
_LOOKUP = (
    "SELECT p.id, p.name, p.phone, p.role, p.area, p.active, p.token_generation, "
    "r.id AS revoked FROM person p "
    "LEFT JOIN revoked_token r ON r.jti = {} AND r.person = p.id "
    "WHERE p.id = {}"
)


def _unauthenticated(reason: str) -> ApiError:
    return ApiError(401, "unauthenticated", reason)


async def principal_from_token(token: str, settings: Settings) -> Principal:
    """Check the token and that its person still exists and is active (roles can change)."""
    return (await authenticate(token, settings))[1]


async def authenticate(token: str, settings: Settings) -> tuple[TokenClaims, Principal]:
    """The token's claims and its person; 401 for a bad, expired or revoked token or a
    disabled account."""
    try:
        claims = read_token(token, settings.secret_key)
    except InvalidToken as exc:
        raise _unauthenticated(f"invalid token: {exc}") from None
    engine = Person._meta.db
    key = (claims.sub, claims.jti)
    held = _principals.get(engine, key)
    if held is None:
        read_after = _principals.forgets
        rows = await raw(Person, _LOOKUP, claims.jti, claims.sub)
        row = rows[0] if rows else None
        if row is None or not row["active"]:
            raise _unauthenticated("the account behind this token no longer exists or is disabled")
        if row["revoked"] is not None:
            raise _unauthenticated("this token was signed out: sign in again")
        principal = Principal(row["id"], row["name"], row["phone"], row["role"], row["area"])
        held = (principal, row["token_generation"])
        _principals.put(engine, key, held, read_after=read_after)
    principal, generation = held
    if claims.gen != generation:
        raise _unauthenticated("this token was revoked (new password or account disabled)")
    return claims, principal


def forgets() -> int:
    """How many times this process has forgotten principals so far. A principal read while
    this changed may predate a revocation: read it again (backend/live/socket.py)."""
    return _principals.forgets


def forget_token(engine: Engine, person: int, jti: str) -> None:
    """A token was signed out: ask the database again the next time it is shown."""
    _principals.forget(engine, (person, jti))


def forget_people(engine: Engine, people: set[int]) -> None:
    """These people's tokens were revoked: ask the database again for any of them."""
    if people:
        _principals.forget_where(engine, lambda key: isinstance(key, tuple) and key[0] in people)


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def provide_principal(request: Request, state: State) -> Principal:
    """Dependency ``principal``: 401 without a valid bearer token."""
    token = bearer_token(request)
    if token is None:
        raise _unauthenticated("sign in first: send Authorization: Bearer <token>")
    return await principal_from_token(token, state.settings)
