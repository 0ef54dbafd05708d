"""Who is asking: the signed-in person behind a request's bearer token."""

from __future__ import annotations

import msgspec
from litestar import Request
from litestar.datastructures import State

from backend.auth.tokens import InvalidToken, read_token
from backend.errors import ApiError
from backend.people.tables import Person
from backend.settings import Settings


class Principal(msgspec.Struct, frozen=True):
    id: int
    name: str
    phone: str
    role: str
    area_id: int | None


def _unauthenticated(reason: str) -> ApiError:
    return ApiError(401, "unauthenticated", reason)


async def principal_from_token(token: str, settings: Settings) -> Principal:
    """Check the token and that its person still exists and is active (roles can change)."""
    try:
        claims = read_token(token, settings.secret_key)
    except InvalidToken as exc:
        raise _unauthenticated(f"invalid token: {exc}") from None
    row = (
        await Person.select(
            Person.id, Person.name, Person.phone, Person.role, Person.area, Person.active
        )
        .where(Person.id == claims.sub)
        .first()
    )
    if row is None or not row["active"]:
        raise _unauthenticated("the account behind this token no longer exists or is disabled")
    return Principal(row["id"], row["name"], row["phone"], row["role"], row["area"])


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
