"""Who is asking: the signed-in person behind a request's bearer token.

Checking a token needs no database, but whether its person still exists, is active and what
role they hold does. Every request asked the person table for it; now the answer is kept for
``FRESH_S`` seconds per database (``Recent``). A disabled account or a changed role takes
effect within that time, in this process and in every other one alike, as no process hears
of another's changes.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Generic, TypeVar

import msgspec
from litestar import Request
from litestar.datastructures import State
from piccolo.engine import Engine

from backend.auth.tokens import InvalidToken, read_token
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

    def get(self, engine: Engine, key: Hashable) -> V | None:
        held = self._held.get(engine)
        found = None if held is None else held.get(key)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def put(self, engine: Engine, key: Hashable, value: V) -> None:
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
        held = self._held.get(engine)
        if held is not None:
            held.pop(key, None)


class Principal(msgspec.Struct, frozen=True):
    id: int
    name: str
    phone: str
    role: str
    area_id: int | None


_principals: Recent[Principal] = Recent()


def _unauthenticated(reason: str) -> ApiError:
    return ApiError(401, "unauthenticated", reason)


async def principal_from_token(token: str, settings: Settings) -> Principal:
    """Check the token and that its person still exists and is active (roles can change)."""
    try:
        claims = read_token(token, settings.secret_key)
    except InvalidToken as exc:
        raise _unauthenticated(f"invalid token: {exc}") from None
    engine = Person._meta.db
    held = _principals.get(engine, claims.sub)
    if held is not None:
        return held
    row = (
        await Person.select(
            Person.id, Person.name, Person.phone, Person.role, Person.area, Person.active
        )
        .where(Person.id == claims.sub)
        .first()
    )
    if row is None or not row["active"]:
        raise _unauthenticated("the account behind this token no longer exists or is disabled")
    principal = Principal(row["id"], row["name"], row["phone"], row["role"], row["area"])
    _principals.put(engine, claims.sub, principal)
    return principal


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
