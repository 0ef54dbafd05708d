from __future__ import annotations

import time

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import JSONBody

from backend.auth.passwords import check_password
from backend.auth.principal import Principal
from backend.auth.schemas import AreaRef, Me, PostHeld, SignedIn, SignIn
from backend.auth.tokens import TokenClaims, issue_token
from backend.errors import ApiError
from backend.grids.tables import POST_LABELS, GridPost
from backend.people.roles import ROLE_LABELS
from backend.people.tables import Person


class AuthController(Controller):
    path = "/api"
    tags = ["auth"]

    @post("/auth/sign-in", status_code=200, summary="Sign in by phone and password")
    async def sign_in(self, data: JSONBody[SignIn], state: State) -> SignedIn:
        row = await Person.select().where(Person.phone == data.phone).first()
        # One answer for an unknown phone and a wrong password: no account probing.
        if (
            row is None
            or not row["active"]
            or not check_password(data.password, row["password_hash"])
        ):
            raise ApiError(401, "bad_credentials", "phone or password is wrong")
        settings = state.settings
        expires_at = int(time.time()) + settings.token_ttl_hours * 3600
        token = issue_token(
            TokenClaims(sub=row["id"], role=row["role"], exp=expires_at), settings.secret_key
        )
        return SignedIn(token, "bearer", expires_at, await describe(row["id"]))

    @get("/me", summary="The signed-in person, their role, area and grid posts")
    async def me(self, principal: NamedDependency[Principal]) -> Me:
        return await describe(principal.id)


async def describe(person_id: int) -> Me:
    row = (
        await Person.select(
            Person.id,
            Person.name,
            Person.phone,
            Person.role,
            Person.area.code,
            Person.area.name,
            Person.area.level,
        )
        .where(Person.id == person_id)
        .first()
    )
    posts = (
        await GridPost.select(GridPost.grid.code, GridPost.grid.name, GridPost.post)
        .where(GridPost.person == person_id)
        .order_by(GridPost.grid.code)
    )
    area = (
        AreaRef(row["area.code"], row["area.name"], row["area.level"]) if row["area.code"] else None
    )
    return Me(
        id=row["id"],
        name=row["name"],
        phone=row["phone"],
        role=row["role"],
        role_label=ROLE_LABELS.get(row["role"], row["role"]),
        area=area,
        posts=[
            PostHeld(p["grid.code"], p["grid.name"], p["post"], POST_LABELS[p["post"]])
            for p in posts
        ],
    )
