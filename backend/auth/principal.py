"""Who is asking: the signed-in person behind a request's bearer token, with their territory.

Checking a token's signature needs no database, but whether its person still exists, is
active, what role they hold, what they cover and whether the token was revoked does: one
statement reads the person row with their area, department and grid posts and the token's
entry in ``revoked_token``, if any. The answer is kept for ``FRESH_S`` seconds per token
(``Recent``): a changed role, area or post takes effect within that time. A revocation
(backend/auth/revocation.py) takes effect at once in the process that made it, which forgets
what it kept; every other process forgets it when its live hub reads the revocation's event
from the log (at once with Redis, else within ``WANGGE_LIVE_POLL_S``), and in any case within
``FRESH_S``.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State

from backend.auth.tokens import InvalidToken, TokenClaims, read_token
from backend.core.db import raw
from backend.core.errors import ApiError, Forbidden, Unauthenticated
from backend.core.principal import Principal
from backend.core.recent import Recent
from backend.core.settings import Settings
from backend.core.territory import Territory
from backend.grids.tables import POST_LABELS
from backend.people.tables import Person

FRESH_S = 5.0

# By (person, token id): a revoked token must not ride on the entry of another, valid one.
_principals: Recent[tuple[Principal, int]] = Recent(FRESH_S)

# The person with their territory and their token's revocation, in one statement: a row per
# grid post they hold (one with no post if none). The area is people's, the posts grids', the
# department membership cases' (backend/cases/department_tables.py). ``r.id`` is null unless
# this very token was signed out.
_LOOKUP = (
    "SELECT p.id, p.name, p.phone, p.role, p.active, p.token_generation, "
    "p.must_change_password, a.code AS area, "
    "d.code AS department, g.code AS grid, gp.post, r.id AS revoked FROM person p "
    "LEFT JOIN area a ON a.id = p.area "
    "LEFT JOIN department_member m ON m.person = p.id "
    "LEFT JOIN department d ON d.id = m.department "
    "LEFT JOIN grid_post gp ON gp.person = p.id "
    "LEFT JOIN grid g ON g.id = gp.grid "
    "LEFT JOIN revoked_token r ON r.jti = {} AND r.person = p.id "
    "WHERE p.id = {}"
)
# A person's home grid is the grid of their first post in this order (leader, police …).
_POST_ORDER = {post: i for i, post in enumerate(POST_LABELS)}


def _unauthenticated(reason: str) -> ApiError:
    return Unauthenticated("unauthenticated", reason)


def _principal(rows: list[dict[str, Any]]) -> Principal:
    """The principal in ``_LOOKUP``'s rows (one person, a row per post)."""
    row = rows[0]
    posts = sorted((_POST_ORDER[r["post"]], r["grid"]) for r in rows if r["grid"] is not None)
    territory = Territory(
        row["id"],
        row["role"],
        grid_codes=frozenset(grid for _, grid in posts),
        area_code=row["area"],
        department=row["department"],
        home_grid=posts[0][1] if posts else None,
    )
    return Principal(
        row["id"], row["name"], row["phone"], territory, bool(row["must_change_password"])
    )


async def principal_of(person_id: int) -> Principal | None:
    """Person ``person_id`` as a principal, read now, active or not; None if there is none."""
    rows = await raw(Person, _LOOKUP, None, person_id)
    return _principal(rows) if rows else None


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
    return claims, await principal_for(claims)


async def principal_for(claims: TokenClaims) -> Principal:
    """The person of a checked token's ``claims``, as a request reads them now: 401 for a
    revoked token or a disabled account. A socket asks again before it subscribes or starts a
    duty, so that one open since the morning follows today's posts."""
    key = (claims.sub, claims.jti)
    held = _principals.get(key)
    if held is None:
        read_after = _principals.forgets
        rows = await raw(Person, _LOOKUP, claims.jti, claims.sub)
        row = rows[0] if rows else None
        if row is None or not row["active"]:
            raise _unauthenticated("the account behind this token no longer exists or is disabled")
        if row["revoked"] is not None:
            raise _unauthenticated("this token was signed out: sign in again")
        held = (_principal(rows), row["token_generation"])
        _principals.put(key, held, read_after=read_after)
    principal, generation = held
    if claims.gen != generation:
        raise _unauthenticated("this token was revoked (new password or account disabled)")
    return principal


def forgets() -> int:
    """How many times this process has forgotten principals so far. A principal read while
    this changed may predate a revocation: read it again (backend/live/socket.py)."""
    return _principals.forgets


def forget_token(person: int, jti: str) -> None:
    """A token was signed out: ask the database again the next time it is shown."""
    _principals.forget((person, jti))


def forget_people(people: set[int]) -> None:
    """These people's tokens were revoked: ask the database again for any of them."""
    if people:
        _principals.forget_where(lambda key: isinstance(key, tuple) and key[0] in people)


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


# The route option of the handlers a person who must change their password may still use:
# changing it, signing out, and reading who they are.
OPEN_BEFORE_PASSWORD_CHANGE = "open_before_password_change"


async def provide_principal(request: Request, state: State) -> Principal:
    """Dependency ``principal``: 401 without a valid bearer token; 403
    ``password_change_required`` for a person who signed in with a one-time password, on
    every route but those marked ``OPEN_BEFORE_PASSWORD_CHANGE``."""
    token = bearer_token(request)
    if token is None:
        raise _unauthenticated("sign in first: send Authorization: Bearer <token>")
    principal = await principal_from_token(token, state.settings)
    if principal.must_change_password and not request.route_handler.opt.get(
        OPEN_BEFORE_PASSWORD_CHANGE
    ):
        raise Forbidden(
            "password_change_required",
            "请先修改密码 choose a new password first (POST /api/auth/password)",
        )
    return principal
